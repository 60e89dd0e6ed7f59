/* A per-key lock across every node sharing this Redis, taken as exposrd 0.12 takes it
 * (docs/storage.md §8.1) so that mixed clusters exclude each other: SET lock:<key> <random>
 * NX PX 1000, retried every 200 ms up to 25 times, extended by 1000 ms every 500 ms while
 * held, released with a compare-and-delete script. */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "redis_store.h"
#include "timeval_ms.h"

#define LOCK_TTL_TEXT    "1000" /* ms, as SET ... PX and PEXPIRE take it */
#define LOCK_RETRY_MS    200
#define LOCK_RETRIES     25
#define LOCK_EXTEND_MS   500
#define LOCK_TOKEN_BYTES 20

/* Only the holder's token may release or extend: a lock that expired and was taken by
 * another node is left alone. */
static const char release_script[] =
        "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) "
        "else return 0 end";
static const char extend_script[] =
        "if redis.call('get', KEYS[1]) == ARGV[1] then "
        "return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end";

/* Owned by the store's list from lock() until it fails or is unlocked. */
struct redis_lock {
	struct redis_store *r;
	LIST_ENTRY(redis_lock) link;
	char *name; /* "lock:<key>" */
	char token[2 * LOCK_TOKEN_BYTES + 1];
	int retries;
	bool held;
	struct event *timer; /* next attempt while waiting, next extension while held */
	void (*cb)(void *arg, int status, void *lock);
	void *arg;
};

static void set_timer(struct event *ev, uint64_t ms)
{
	struct timeval tv = timeval_from_ms(ms);
	(void)evtimer_add(ev, &tv);
}

static void lock_free(struct redis_lock *l)
{
	LIST_REMOVE(l, link);
	if (l->timer != NULL)
		event_free(l->timer);
	free(l->name);
	free(l);
}

static void lock_fail(struct redis_lock *l)
{
	void (*cb)(void *arg, int status, void *lock) = l->cb;
	void *arg = l->arg;
	lock_free(l);
	cb(arg, EXPOSR_ERROR, NULL);
}

/* Fire and forget: a lost reply only means the lock expires on its own. */
static void run_script(struct redis_store *r, const char *script, const struct redis_lock *l,
                       const char *extra)
{
	const char *argv[6] = {"EVAL", script, "1", l->name, l->token, extra};
	size_t lens[6] = {4, strlen(script), 1, strlen(l->name), strlen(l->token), 0};
	if (extra != NULL)
		lens[5] = strlen(extra);
	(void)redis_conn_command(r, NULL, NULL, extra != NULL ? 6 : 5, argv, lens);
}

static void on_lock_reply(redisAsyncContext *ac, void *reply_, void *privdata)
{
	struct redis_lock *l = privdata;
	redisReply *reply = reply_;
	if (reply == NULL) {
		redis_conn_reply_lost(l->r, ac);
		lock_fail(l);
	} else if (reply->type == REDIS_REPLY_STATUS && strcmp(reply->str, "OK") == 0) {
		l->held = true;
		set_timer(l->timer, LOCK_EXTEND_MS);
		l->cb(l->arg, EXPOSR_OK, l);
	} else if (reply->type == REDIS_REPLY_NIL && l->retries < LOCK_RETRIES) {
		l->retries++;
		set_timer(l->timer, LOCK_RETRY_MS);
	} else {
		if (reply->type == REDIS_REPLY_NIL)
			l->r->host->log(l->r->mod, EXPOSR_LOG_WARN, "%s still taken after %d tries",
			                l->name, LOCK_RETRIES + 1);
		else if (reply->type == REDIS_REPLY_ERROR)
			l->r->host->log(l->r->mod, EXPOSR_LOG_WARN, "locking %s failed: %s",
			                l->name, reply->str);
		lock_fail(l);
	}
}

static void lock_attempt(struct redis_lock *l)
{
	const char *argv[] = {"SET", l->name, l->token, "NX", "PX", LOCK_TTL_TEXT};
	size_t lens[] = {3, strlen(l->name), strlen(l->token), 2, 2, strlen(LOCK_TTL_TEXT)};
	if (redis_conn_command(l->r, on_lock_reply, l, 6, argv, lens) != EXPOSR_OK)
		lock_fail(l);
}

static void on_lock_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct redis_lock *l = arg;
	if (!l->held) {
		lock_attempt(l);
		return;
	}
	run_script(l->r, extend_script, l, LOCK_TTL_TEXT);
	set_timer(l->timer, LOCK_EXTEND_MS);
}

static int make_token(char *out)
{
	unsigned char bytes[LOCK_TOKEN_BYTES];
	if (getrandom(bytes, sizeof(bytes), 0) != (ssize_t)sizeof(bytes))
		return -1;
	for (size_t i = 0; i < sizeof(bytes); i++)
		snprintf(out + 2 * i, 3, "%02x", bytes[i]);
	return 0;
}

void redis_lock(void *self, const char *key, void (*cb)(void *arg, int status, void *lock),
                void *arg)
{
	struct redis_store *r = self;
	struct redis_lock *l = key != NULL && redis_conn_usable(r) ? calloc(1, sizeof(*l)) : NULL;
	if (l == NULL) {
		cb(arg, EXPOSR_ERROR, NULL);
		return;
	}
	l->r = r;
	l->cb = cb;
	l->arg = arg;
	LIST_INSERT_HEAD(&r->locks, l, link);
	if (asprintf(&l->name, "lock:%s", key) < 0) {
		l->name = NULL;
		goto fail;
	}
	if (make_token(l->token) != 0 ||
	    (l->timer = evtimer_new(r->base, on_lock_timer, l)) == NULL)
		goto fail;
	lock_attempt(l);
	return;
fail:
	lock_fail(l);
}

void redis_unlock(void *self, void *lock)
{
	struct redis_lock *l = lock;
	if (l == NULL || !l->held)
		return;
	run_script(self, release_script, l, NULL);
	lock_free(l);
}

void redis_locks_close(struct redis_store *r)
{
	/* Held locks are forgotten, not released: Redis expires them within a second. */
	while (!LIST_EMPTY(&r->locks)) {
		struct redis_lock *l = LIST_FIRST(&r->locks);
		if (l->held)
			lock_free(l);
		else
			lock_fail(l);
	}
}
