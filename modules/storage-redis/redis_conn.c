/* The one asynchronous connection to Redis on the loop: handshake, loss, back-off, return. */
#include <event2/event.h>
#include <hiredis/adapters/libevent.h>
#include <stdio.h>
#include <string.h>

#include "redis_store.h"

#define HANDSHAKE_PING "PING"

static void set_timer(struct event *ev, uint64_t ms)
{
	struct timeval tv = {.tv_sec = (time_t)(ms / 1000),
			     .tv_usec = (suseconds_t)(ms % 1000) * 1000};
	/* evtimer_add only fails on a broken event; nothing sensible is left to do then. */
	(void)evtimer_add(ev, &tv);
}

static void schedule_retry(struct redis_store *r)
{
	set_timer(r->retry_timer, r->backoff_ms);
	r->backoff_ms *= 2;
	if (r->backoff_ms > REDIS_BACKOFF_MAX_MS)
		r->backoff_ms = REDIS_BACKOFF_MAX_MS;
}

/* Attempts fail every few seconds while Redis is away: the loss was logged once already. */
static void note_failure(struct redis_store *r, const char *reason)
{
	r->host->log(r->mod, EXPOSR_LOG_DEBUG, "reconnecting to %s failed: %s", r->url.display,
		     reason);
}

/* Forgets connection `ac` (hiredis frees it) and plans the next attempt. Several paths
 * report one loss (NULL replies, the connect and disconnect callbacks): only the first
 * one for the current connection counts. */
static void conn_lost(struct redis_store *r, const redisAsyncContext *ac, const char *reason)
{
	if (ac == NULL || ac != r->ac)
		return;
	r->ac = NULL;
	r->handshaking = false;
	(void)evtimer_del(r->connect_timer);
	if (r->state == REDIS_CLOSED || r->state == REDIS_IDLE)
		return;
	if (r->state == REDIS_UP) {
		r->host->log(r->mod, EXPOSR_LOG_WARN, "lost connection to %s: %s; reconnecting",
			     r->url.display, reason);
		r->lost_logged = true;
	} else {
		note_failure(r, reason);
	}
	r->state = REDIS_DOWN;
	schedule_retry(r);
}

static const char *context_reason(const redisAsyncContext *ac, const char *fallback)
{
	return ac->err != 0 && ac->errstr != NULL && ac->errstr[0] != '\0' ? ac->errstr : fallback;
}

void redis_conn_reply_lost(struct redis_store *r, const redisAsyncContext *ac)
{
	conn_lost(r, ac, context_reason(ac, "connection closed"));
}

static void on_connect(const redisAsyncContext *ac, int status)
{
	if (status != REDIS_OK)
		conn_lost(ac->data, ac, context_reason(ac, "cannot connect"));
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
	(void)status;
	conn_lost(ac->data, ac, context_reason(ac, "connection closed"));
}

static void handshake_done(struct redis_store *r)
{
	r->handshaking = false;
	(void)evtimer_del(r->connect_timer);
	r->backoff_ms = REDIS_BACKOFF_FIRST_MS;
	r->last_reason[0] = '\0';
	r->state = REDIS_UP;
	if (r->lost_logged) {
		r->host->log(r->mod, EXPOSR_LOG_INFO, "connection to %s restored", r->url.display);
		r->lost_logged = false;
	}
}

/* privdata names the step. AUTH or SELECT refused is a configuration problem that a
 * retry will not fix: worth a warning, once per reason. */
static void on_handshake_reply(redisAsyncContext *ac, void *reply_, void *privdata)
{
	struct redis_store *r = ac->data;
	redisReply *reply = reply_;
	const char *step = privdata;
	if (reply == NULL) {
		redis_conn_reply_lost(r, ac);
		return;
	}
	if (ac != r->ac)
		return;
	if (reply->type == REDIS_REPLY_ERROR) {
		char reason[sizeof(r->last_reason)];
		snprintf(reason, sizeof(reason), "%s refused: %s", step, reply->str);
		if (strcmp(reason, r->last_reason) != 0)
			r->host->log(r->mod, EXPOSR_LOG_WARN, "%s: %s", r->url.display, reason);
		snprintf(r->last_reason, sizeof(r->last_reason), "%s", reason);
		conn_lost(r, ac, reason);
		/* Inside a reply callback hiredis frees it once the callback returns. */
		redisAsyncFree(ac);
		return;
	}
	if (strcmp(step, HANDSHAKE_PING) == 0)
		handshake_done(r);
}

static int send_handshake(struct redis_store *r, redisAsyncContext *ac)
{
	const char *argv[3];
	size_t lens[3];
	int argc = redis_url_auth_argv(&r->url, argv, lens);
	if (argc > 0 &&
	    redisAsyncCommandArgv(ac, on_handshake_reply, "AUTH", argc, argv, lens) != REDIS_OK)
		return -1;
	char db[24];
	if (r->url.db != 0) {
		snprintf(db, sizeof(db), "%ld", r->url.db);
		const char *select[] = {"SELECT", db};
		size_t select_lens[] = {6, strlen(db)};
		if (redisAsyncCommandArgv(ac, on_handshake_reply, "SELECT", 2, select,
					  select_lens) != REDIS_OK)
			return -1;
	}
	const char *ping[] = {HANDSHAKE_PING};
	size_t ping_lens[] = {strlen(HANDSHAKE_PING)};
	if (redisAsyncCommandArgv(ac, on_handshake_reply, HANDSHAKE_PING, 1, ping, ping_lens) !=
	    REDIS_OK)
		return -1;
	return 0;
}

/* Starts a non-blocking connect with the handshake queued behind it; commands sent
 * after it are pipelined and run once the handshake has. */
static int conn_open(struct redis_store *r, char *reason, size_t size)
{
	redisAsyncContext *ac = redisAsyncConnect(r->url.host, r->url.port);
	if (ac == NULL) {
		snprintf(reason, size, "out of memory");
		return -1;
	}
	if (ac->err != 0) {
		snprintf(reason, size, "%s", context_reason(ac, "cannot connect"));
		redisAsyncFree(ac);
		return -1;
	}
	ac->data = r;
	if (redisLibeventAttach(ac, r->base) != REDIS_OK ||
	    redisAsyncSetConnectCallback(ac, on_connect) != REDIS_OK ||
	    redisAsyncSetDisconnectCallback(ac, on_disconnect) != REDIS_OK) {
		snprintf(reason, size, "cannot watch the connection");
		redisAsyncFree(ac);
		return -1;
	}
	/* A peer that vanishes without a reset is noticed through keep-alive probes. */
	if (redisEnableKeepAlive(&ac->c) != REDIS_OK)
		r->host->log(r->mod, EXPOSR_LOG_DEBUG, "no TCP keep-alive to %s", r->url.display);
	r->ac = ac;
	r->handshaking = true;
	redis_watchdog_reset(r);
	if (send_handshake(r, ac) != 0) {
		snprintf(reason, size, "cannot queue the handshake");
		r->ac = NULL;
		r->handshaking = false;
		redisAsyncFree(ac);
		return -1;
	}
	set_timer(r->connect_timer, (uint64_t)r->connect_timeout_s * 1000);
	return 0;
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct redis_store *r = arg;
	if (r->state != REDIS_DOWN)
		return;
	char reason[sizeof(r->last_reason)];
	r->state = REDIS_CONNECTING;
	if (conn_open(r, reason, sizeof(reason)) != 0) {
		r->state = REDIS_DOWN;
		note_failure(r, reason);
		schedule_retry(r);
	}
}

void redis_conn_drop(struct redis_store *r, const char *reason)
{
	redisAsyncContext *ac = r->ac;
	if (ac == NULL)
		return;
	conn_lost(r, ac, reason);
	/* Not in a hiredis callback: this fails whatever it queued, now. */
	redisAsyncFree(ac);
}

static void on_connect_timeout(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct redis_store *r = arg;
	if (r->handshaking)
		redis_conn_drop(r, "timed out connecting");
}

int redis_conn_init(struct redis_store *r)
{
	r->state = REDIS_IDLE;
	r->backoff_ms = REDIS_BACKOFF_FIRST_MS;
	r->retry_timer = evtimer_new(r->base, on_retry, r);
	r->connect_timer = evtimer_new(r->base, on_connect_timeout, r);
	return r->retry_timer != NULL && r->connect_timer != NULL ? EXPOSR_OK : EXPOSR_ERROR;
}

int redis_conn_start(struct redis_store *r)
{
	char reason[sizeof(r->last_reason)];
	/* Up at once: the probe just reached Redis, so calls made right after start are
	 * pipelined behind the handshake instead of failing. */
	r->state = REDIS_UP;
	if (conn_open(r, reason, sizeof(reason)) != 0) {
		r->state = REDIS_IDLE;
		r->host->log(r->mod, EXPOSR_LOG_ERROR, "cannot connect to %s: %s", r->url.display,
			     reason);
		return EXPOSR_ERROR;
	}
	return EXPOSR_OK;
}

void redis_conn_fini(struct redis_store *r)
{
	r->state = REDIS_CLOSED;
	redisAsyncContext *ac = r->ac;
	r->ac = NULL;
	r->handshaking = false;
	/* Every command in flight gets its callback with a NULL reply, here. */
	if (ac != NULL)
		redisAsyncFree(ac);
	if (r->retry_timer != NULL)
		event_free(r->retry_timer);
	if (r->connect_timer != NULL)
		event_free(r->connect_timer);
	r->retry_timer = NULL;
	r->connect_timer = NULL;
}

int redis_conn_command(struct redis_store *r, redisCallbackFn *fn, void *privdata, int argc,
		       const char **argv, const size_t *argvlen)
{
	if (r->state != REDIS_UP || r->ac == NULL)
		return EXPOSR_ERROR;
	/* hiredis refuses a context that is disconnecting; then fn is never called. */
	return redisAsyncCommandArgv(r->ac, fn, privdata, argc, argv, argvlen) == REDIS_OK
		       ? EXPOSR_OK
		       : EXPOSR_ERROR;
}
