/* Per-key FIFO serialisation of read-modify-write operations. */
#include "keylock.h"

#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "store.h"
#include "strmap.h"

struct keylock_waiter {
	void (*fn)(void *arg, int status);
	void *arg;
	STAILQ_ENTRY(keylock_waiter) link;
};

/* A held key: its holder, the storage's lock once taken, and the operations waiting. */
struct keylock {
	char *key;
	struct keylock_waiter holder;
	void *storage_lock;
	STAILQ_HEAD(, keylock_waiter) waiting;
};

static struct strmap *locks;

static void hand_on(struct keylock *lock);

/* Across nodes the record's key alone is locked, without its namespace, as exposrd 0.12
 * names its locks (docs/storage.md §8.1): "tunnel:my-tunnel" locks "my-tunnel". */
static const char *storage_key(const char *key)
{
	const char *colon = strchr(key, ':');
	return colon != NULL ? colon + 1 : key;
}

static void on_storage_lock(void *arg, int status, void *storage_lock)
{
	struct keylock *lock = arg;
	struct keylock_waiter holder = lock->holder;
	if (status == EXPOSR_OK) {
		lock->storage_lock = storage_lock;
		holder.fn(holder.arg, EXPOSR_OK);
		return;
	}
	/* The next operation tries on its own: it may have been queued for another reason. */
	holder.fn(holder.arg, EXPOSR_ERROR);
	hand_on(lock);
}

/* The holder has the key in this process; the storage's lock comes next. */
static void take(struct keylock *lock)
{
	if (!store_has_lock()) {
		lock->holder.fn(lock->holder.arg, EXPOSR_OK);
		return;
	}
	store_lock(storage_key(lock->key), on_storage_lock, lock);
}

static void hand_on(struct keylock *lock)
{
	struct keylock_waiter *w = STAILQ_FIRST(&lock->waiting);
	if (w == NULL) {
		strmap_remove(locks, lock->key);
		free(lock->key);
		free(lock);
		return;
	}
	STAILQ_REMOVE_HEAD(&lock->waiting, link);
	lock->holder = *w;
	free(w);
	take(lock);
}

int keylock_acquire(const char *key, void (*fn)(void *arg, int status), void *arg)
{
	if (locks == NULL && (locks = strmap_new()) == NULL)
		return EXPOSR_ERROR;
	struct keylock *lock = strmap_get(locks, key);
	if (lock != NULL) {
		struct keylock_waiter *w = calloc(1, sizeof(*w));
		if (w == NULL)
			return EXPOSR_ERROR;
		w->fn = fn;
		w->arg = arg;
		STAILQ_INSERT_TAIL(&lock->waiting, w, link);
		return EXPOSR_OK;
	}
	lock = calloc(1, sizeof(*lock));
	if (lock != NULL)
		STAILQ_INIT(&lock->waiting);
	if (lock == NULL || (lock->key = strdup(key)) == NULL ||
	    strmap_put(locks, key, lock) != EXPOSR_OK) {
		if (lock != NULL)
			free(lock->key);
		free(lock);
		return EXPOSR_ERROR;
	}
	lock->holder.fn = fn;
	lock->holder.arg = arg;
	take(lock);
	return EXPOSR_OK;
}

void keylock_release(const char *key)
{
	struct keylock *lock = strmap_get(locks, key);
	if (lock == NULL)
		return;
	if (lock->storage_lock != NULL) {
		store_unlock(lock->storage_lock);
		lock->storage_lock = NULL;
	}
	hand_on(lock);
}

size_t keylock_count(void)
{
	return strmap_count(locks);
}

static void free_lock(void *value)
{
	struct keylock *lock = value;
	while (!STAILQ_EMPTY(&lock->waiting)) {
		struct keylock_waiter *w = STAILQ_FIRST(&lock->waiting);
		STAILQ_REMOVE_HEAD(&lock->waiting, link);
		free(w);
	}
	free(lock->key);
	free(lock);
}

void keylock_free_all(void)
{
	strmap_free(locks, free_lock);
	locks = NULL;
}
