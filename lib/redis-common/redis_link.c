/* The reconnecting connection of redis_link.h: open, watch, bound, lose, back off, return. */
#include <event2/event.h>
#include <hiredis/adapters/libevent.h>
#include <stdio.h>

#include "redis_link.h"
#include "timeval_ms.h"

static void arm(struct event *ev, uint64_t ms)
{
	struct timeval tv = timeval_from_ms(ms);
	/* Fails only for a broken event, which nothing here could repair. */
	(void)evtimer_add(ev, &tv);
}

static void schedule_retry(struct redis_link *k)
{
	k->state = REDIS_LINK_DOWN;
	arm(k->retry_timer, k->backoff_ms);
	k->backoff_ms *= 2;
	if (k->backoff_ms > REDIS_LINK_BACKOFF_MAX_MS)
		k->backoff_ms = REDIS_LINK_BACKOFF_MAX_MS;
}

const char *redis_link_reason(const redisAsyncContext *ac, const char *fallback)
{
	return ac->err != 0 && ac->errstr != NULL && ac->errstr[0] != '\0' ? ac->errstr : fallback;
}

void *redis_link_owner(const redisAsyncContext *ac)
{
	const struct redis_link *k = ac->data;
	return k->owner;
}

/* Several paths report one loss (NULL replies, the connect and disconnect callbacks, the
 * timer): only the first for the current connection counts. */
void redis_link_lost(struct redis_link *k, const redisAsyncContext *ac, const char *reason)
{
	if (ac == NULL || ac != k->ac)
		return;
	k->ac = NULL;
	(void)evtimer_del(k->connect_timer);
	enum redis_link_state was = k->state;
	if (was == REDIS_LINK_CLOSED || was == REDIS_LINK_IDLE)
		return;
	schedule_retry(k);
	k->ops->lost(k->owner, was, reason);
}

void redis_link_up(struct redis_link *k)
{
	if (k->state != REDIS_LINK_OPENING)
		return;
	(void)evtimer_del(k->connect_timer);
	k->state = REDIS_LINK_UP;
	k->backoff_ms = REDIS_LINK_BACKOFF_FIRST_MS;
	k->ops->up(k->owner);
}

static void on_connect(const redisAsyncContext *ac, int status)
{
	if (status != REDIS_OK)
		redis_link_lost(ac->data, ac, redis_link_reason(ac, "cannot connect"));
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
	(void)status;
	redis_link_lost(ac->data, ac, redis_link_reason(ac, "connection closed"));
}

void redis_link_drop(struct redis_link *k, const char *reason)
{
	redisAsyncContext *ac = k->ac;
	if (ac == NULL)
		return;
	redis_link_lost(k, ac, reason);
	redisAsyncFree(ac);
}

/* Starts a non-blocking connect with the handshake queued behind it; commands sent after
 * it are pipelined and run once the handshake has. */
static int open_connection(struct redis_link *k, char *reason, size_t size)
{
	redisAsyncContext *ac = redisAsyncConnect(k->url->host, k->url->port);
	if (ac == NULL) {
		snprintf(reason, size, "out of memory");
		return -1;
	}
	if (ac->err != 0) {
		snprintf(reason, size, "%s", redis_link_reason(ac, "cannot connect"));
		redisAsyncFree(ac);
		return -1;
	}
	ac->data = k;
	if (redisLibeventAttach(ac, k->base) != REDIS_OK ||
	    redisAsyncSetConnectCallback(ac, on_connect) != REDIS_OK ||
	    redisAsyncSetDisconnectCallback(ac, on_disconnect) != REDIS_OK) {
		snprintf(reason, size, "cannot watch the connection");
		redisAsyncFree(ac);
		return -1;
	}
	/* A peer that vanishes without a reset is noticed through keep-alive probes. */
	if (redisEnableKeepAlive(&ac->c) != REDIS_OK)
		k->host->log(k->mod, EXPOSR_LOG_DEBUG, "no TCP keep-alive to %s", k->url->display);
	k->ac = ac;
	k->state = REDIS_LINK_OPENING;
	if (k->ops->handshake(k->owner, ac) != EXPOSR_OK) {
		snprintf(reason, size, "cannot queue the handshake");
		k->ac = NULL;
		redisAsyncFree(ac);
		return -1;
	}
	arm(k->connect_timer, (uint64_t)k->connect_timeout_s * 1000);
	return 0;
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct redis_link *k = arg;
	if (k->state != REDIS_LINK_DOWN)
		return;
	k->retrying = true;
	char reason[256];
	if (open_connection(k, reason, sizeof(reason)) != 0) {
		schedule_retry(k);
		k->ops->retry_failed(k->owner, reason);
	}
}

static void on_connect_timeout(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct redis_link *k = arg;
	if (k->state == REDIS_LINK_OPENING)
		redis_link_drop(k, "timed out connecting");
}

int redis_link_init(struct redis_link *k, const struct redis_link_ops *ops, void *owner,
                    const struct exposr_host *host, struct exposr_module_handle *mod,
                    const struct redis_url *url)
{
	k->ops = ops;
	k->owner = owner;
	k->host = host;
	k->mod = mod;
	k->base = host->event_base();
	k->url = url;
	k->state = REDIS_LINK_IDLE;
	k->backoff_ms = REDIS_LINK_BACKOFF_FIRST_MS;
	k->retry_timer = evtimer_new(k->base, on_retry, k);
	k->connect_timer = evtimer_new(k->base, on_connect_timeout, k);
	return k->retry_timer != NULL && k->connect_timer != NULL ? EXPOSR_OK : EXPOSR_ERROR;
}

int redis_link_start(struct redis_link *k, long connect_timeout_s)
{
	char reason[256];
	k->connect_timeout_s = connect_timeout_s;
	k->retrying = false;
	if (open_connection(k, reason, sizeof(reason)) != 0) {
		k->state = REDIS_LINK_IDLE;
		k->host->log(k->mod, EXPOSR_LOG_ERROR, "cannot connect to %s: %s", k->url->display,
		             reason);
		return EXPOSR_ERROR;
	}
	return EXPOSR_OK;
}

void redis_link_fini(struct redis_link *k)
{
	k->state = REDIS_LINK_CLOSED;
	redisAsyncContext *ac = k->ac;
	k->ac = NULL;
	if (ac != NULL)
		redisAsyncFree(ac);
	if (k->retry_timer != NULL)
		event_free(k->retry_timer);
	if (k->connect_timer != NULL)
		event_free(k->connect_timer);
	k->retry_timer = NULL;
	k->connect_timer = NULL;
}
