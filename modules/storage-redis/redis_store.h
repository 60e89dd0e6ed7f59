/* The Redis storage instance the module's files share, and their entry points. */
#ifndef EXPOSR_STORAGE_REDIS_STORE_H
#define EXPOSR_STORAGE_REDIS_STORE_H

#include <sys/queue.h>

#include <exposr/host.h>
#include <exposr/storage.h>
#include <hiredis/async.h>

#include "redis_link.h"
#include "redis_probe.h"
#include "redis_url.h"

struct redis_lock;

struct redis_store {
	const struct exposr_host *host;
	struct exposr_module_handle *mod;
	struct event_base *base;
	struct redis_url url;
	long connect_timeout_s;
	long command_timeout_s;

	/* The connection; commands are also pipelined behind the first handshake, not behind
	 * one that reconnects after a loss. */
	struct redis_link link;
	bool lost_logged;             /* the loss was logged: log once when Redis is back */
	char last_reason[256];        /* last AUTH/SELECT refusal warned about, not to repeat it */
	struct event *watchdog_timer; /* pings a connection that is up */
	bool ping_outstanding;
	int64_t ping_sent_ms;

	LIST_HEAD(, redis_lock) locks; /* pending and held locks, owned here until they end */
};

/* redis_conn.c: the connection, its loss and its return. */
int redis_conn_init(struct redis_store *r);
/* Opens the first connection (after redis_probe succeeded). */
int redis_conn_start(struct redis_store *r);
/* Frees the connection and timers: every command in flight gets its reply callback with
 * NULL, before this returns. */
void redis_conn_fini(struct redis_store *r);
/* Sends a command; EXPOSR_ERROR (and `fn` is never called) when Redis is not usable. */
int redis_conn_command(struct redis_store *r, redisCallbackFn *fn, void *privdata, int argc,
                       const char **argv, const size_t *argvlen);
/* Whether commands can be sent now. */
bool redis_conn_usable(const struct redis_store *r);
/* For reply callbacks: a NULL reply means the connection `ac` is gone. */
void redis_conn_reply_lost(struct redis_store *r, const redisAsyncContext *ac);
/* Gives up the current connection (never from a hiredis callback): what is in flight
 * fails now, and a reconnect is planned. */
void redis_conn_drop(struct redis_store *r, const char *reason);

/* redis_watchdog.c: a Redis that stops answering (stopped, or the network gone without
 * a reset) counts as lost after command_timeout_s instead of hanging every call. */
int redis_watchdog_init(struct redis_store *r);
void redis_watchdog_reset(struct redis_store *r);
void redis_watchdog_fini(struct redis_store *r);

/* redis_ops.c: the storage vtable calls. */
void redis_get(void *self, const char *ns, const char *key, exposr_storage_get_cb cb, void *arg);
void redis_set(void *self, const char *ns, const char *key, const char *value, size_t len,
               unsigned flags, uint64_t ttl_ms, exposr_storage_done_cb cb, void *arg);
void redis_del(void *self, const char *ns, const char *key, exposr_storage_done_cb cb, void *arg);
void redis_list(void *self, const char *ns, const char *cursor, size_t count,
                exposr_storage_list_cb cb, void *arg);

/* redis_lock.c: the Redlock-style lock of §8.1. */
void redis_lock(void *self, const char *key, void (*cb)(void *arg, int status, void *lock),
                void *arg);
void redis_unlock(void *self, void *lock);
/* Fails every pending lock and forgets every held one (they expire on their own). */
void redis_locks_close(struct redis_store *r);

#endif
