/* Per-key FIFO serialisation of read-modify-write operations. */
#include "keylock.h"

#include <stdlib.h>

#include "strmap.h"

struct keylock_waiter {
	void (*fn)(void *arg);
	void *arg;
	struct keylock_waiter *next;
};

/* A held key; the queue holds operations waiting for it. */
struct keylock {
	struct keylock_waiter *head, *tail;
};

static struct strmap *locks;

int keylock_acquire(const char *key, void (*fn)(void *arg), void *arg)
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
		if (lock->tail != NULL)
			lock->tail->next = w;
		else
			lock->head = w;
		lock->tail = w;
		return EXPOSR_OK;
	}
	lock = calloc(1, sizeof(*lock));
	if (lock == NULL || strmap_put(locks, key, lock) != EXPOSR_OK) {
		free(lock);
		return EXPOSR_ERROR;
	}
	fn(arg);
	return EXPOSR_OK;
}

void keylock_release(const char *key)
{
	struct keylock *lock = strmap_get(locks, key);
	if (lock == NULL)
		return;
	struct keylock_waiter *w = lock->head;
	if (w == NULL) {
		strmap_remove(locks, key);
		free(lock);
		return;
	}
	lock->head = w->next;
	if (lock->head == NULL)
		lock->tail = NULL;
	void (*fn)(void *arg) = w->fn;
	void *arg = w->arg;
	free(w);
	fn(arg);
}

size_t keylock_count(void)
{
	return strmap_count(locks);
}

static void free_lock(void *value)
{
	struct keylock *lock = value;
	while (lock->head != NULL) {
		struct keylock_waiter *next = lock->head->next;
		free(lock->head);
		lock->head = next;
	}
	free(lock);
}

void keylock_free_all(void)
{
	strmap_free(locks, free_lock);
	locks = NULL;
}
