/* A reconnecting asynchronous Redis connection on the libevent loop: non-blocking connect,
 * the owner's handshake, a bound on connect + handshake, and after a loss a new attempt with
 * a back-off doubling from 100 ms to 5 s. What differs between users goes through hooks. */
#ifndef EXPOSR_REDIS_LINK_H
#define EXPOSR_REDIS_LINK_H

#include <exposr/host.h>
#include <hiredis/async.h>
#include <stdbool.h>
#include <stdint.h>

#include "redis_url.h"

#define REDIS_LINK_BACKOFF_FIRST_MS 100
#define REDIS_LINK_BACKOFF_MAX_MS   5000

enum redis_link_state {
	REDIS_LINK_IDLE = 0, /* not started */
	REDIS_LINK_OPENING,  /* connecting, handshake sent */
	REDIS_LINK_UP,
	REDIS_LINK_DOWN,   /* waiting for the next attempt */
	REDIS_LINK_CLOSED, /* finalising */
};

struct redis_link_ops {
	/* Queues the handshake on the new connection `ac`; EXPOSR_ERROR if hiredis refuses. */
	int (*handshake)(void *owner, redisAsyncContext *ac);
	/* Connection lost while `was`: the link is DOWN now and the next attempt planned. */
	void (*lost)(void *owner, enum redis_link_state was, const char *reason);
	/* A reconnect attempt could not even start; the next one is planned. */
	void (*retry_failed)(void *owner, const char *reason);
	/* The handshake is done: the link is UP. */
	void (*up)(void *owner);
};

struct redis_link {
	const struct redis_link_ops *ops;
	void *owner; /* passed to the hooks; not owned */
	const struct exposr_host *host;
	struct exposr_module_handle *mod;
	struct event_base *base;
	const struct redis_url *url; /* the owner's; read when connecting */
	long connect_timeout_s;
	enum redis_link_state state;
	bool retrying;         /* the current attempt is a reconnect, not the first one */
	redisAsyncContext *ac; /* hiredis frees it; we only drop our pointer */
	uint64_t backoff_ms;
	struct event *retry_timer;   /* next attempt; owned, freed by redis_link_fini */
	struct event *connect_timer; /* bounds connect + handshake; owned likewise */
};

/* Fills the link and makes its timers; redis_link_fini undoes it, also after a failure. */
int redis_link_init(struct redis_link *k, const struct redis_link_ops *ops, void *owner,
                    const struct exposr_host *host, struct exposr_module_handle *mod,
                    const struct redis_url *url);
/* Opens the first connection; logs and returns EXPOSR_ERROR if it cannot even start. */
int redis_link_start(struct redis_link *k, long connect_timeout_s);
/* Every command in flight gets its callback with a NULL reply, before this returns. */
void redis_link_fini(struct redis_link *k);
/* The handshake is done: OPENING becomes UP and the back-off starts over. */
void redis_link_up(struct redis_link *k);
/* Connection `ac` of the link is gone or unusable; only its first report counts. */
void redis_link_lost(struct redis_link *k, const redisAsyncContext *ac, const char *reason);
/* Gives up the current connection, never from inside a hiredis callback: what it had
 * queued fails now, and a reconnect is planned. */
void redis_link_drop(struct redis_link *k, const char *reason);
/* The owner of the link whose connection is `ac`, for reply callbacks. */
void *redis_link_owner(const redisAsyncContext *ac);
/* hiredis's own reason for a failed context, or `fallback`. */
const char *redis_link_reason(const redisAsyncContext *ac, const char *fallback);

#endif
