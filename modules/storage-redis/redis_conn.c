/* The storage's side of its Redis link (redis-common/redis_link.c): AUTH, SELECT and PING
 * as the handshake, the loss logged once and the return once, commands sent on it. */
#include <stdio.h>
#include <string.h>

#include "redis_auth.h"
#include "redis_store.h"

#define HANDSHAKE_PING "PING"

/* The first connection takes commands during its handshake (the probe just reached Redis,
 * so calls made right after start are pipelined instead of failing); a reconnect does not. */
static bool pipelining(const struct redis_link *k, enum redis_link_state state)
{
	return state == REDIS_LINK_UP || (state == REDIS_LINK_OPENING && !k->retrying);
}

bool redis_conn_usable(const struct redis_store *r)
{
	return r->link.ac != NULL && pipelining(&r->link, r->link.state);
}

/* Attempts fail every few seconds while Redis is away: the loss was logged once already. */
static void note_failure(void *owner, const char *reason)
{
	struct redis_store *r = owner;
	r->host->log(r->mod, EXPOSR_LOG_DEBUG, "reconnecting to %s failed: %s", r->url.display,
	             reason);
}

static void on_lost(void *owner, enum redis_link_state was, const char *reason)
{
	struct redis_store *r = owner;
	if (!pipelining(&r->link, was)) {
		note_failure(r, reason);
		return;
	}
	r->host->log(r->mod, EXPOSR_LOG_WARN, "lost connection to %s: %s; reconnecting",
	             r->url.display, reason);
	r->lost_logged = true;
}

static void on_up(void *owner)
{
	struct redis_store *r = owner;
	r->last_reason[0] = '\0';
	if (r->lost_logged) {
		r->host->log(r->mod, EXPOSR_LOG_INFO, "connection to %s restored", r->url.display);
		r->lost_logged = false;
	}
}

void redis_conn_reply_lost(struct redis_store *r, const redisAsyncContext *ac)
{
	redis_link_lost(&r->link, ac, redis_link_reason(ac, "connection closed"));
}

/* privdata names the step. AUTH or SELECT refused is a configuration problem that a
 * retry will not fix: worth a warning, once per reason. */
static void on_handshake_reply(redisAsyncContext *ac, void *reply_, void *privdata)
{
	struct redis_store *r = redis_link_owner(ac);
	redisReply *reply = reply_;
	const char *step = privdata;
	if (reply == NULL) {
		redis_conn_reply_lost(r, ac);
		return;
	}
	if (ac != r->link.ac)
		return;
	if (reply->type == REDIS_REPLY_ERROR) {
		char reason[sizeof(r->last_reason)];
		snprintf(reason, sizeof(reason), "%s refused: %s", step, reply->str);
		if (strcmp(reason, r->last_reason) != 0)
			r->host->log(r->mod, EXPOSR_LOG_WARN, "%s: %s", r->url.display, reason);
		snprintf(r->last_reason, sizeof(r->last_reason), "%s", reason);
		redis_link_lost(&r->link, ac, reason);
		/* Inside a reply callback hiredis frees it once the callback returns. */
		redisAsyncFree(ac);
		return;
	}
	if (strcmp(step, HANDSHAKE_PING) == 0)
		redis_link_up(&r->link);
}

static int send_handshake(void *owner, redisAsyncContext *ac)
{
	struct redis_store *r = owner;
	redis_watchdog_reset(r);
	if (redis_auth_queue(&r->url, ac, on_handshake_reply, true) != 0)
		return EXPOSR_ERROR;
	const char *ping[] = {HANDSHAKE_PING};
	size_t ping_lens[] = {strlen(HANDSHAKE_PING)};
	return redisAsyncCommandArgv(ac, on_handshake_reply, HANDSHAKE_PING, 1, ping, ping_lens) ==
	                       REDIS_OK
	               ? EXPOSR_OK
	               : EXPOSR_ERROR;
}

static const struct redis_link_ops conn_ops = {
        .handshake = send_handshake,
        .lost = on_lost,
        .retry_failed = note_failure,
        .up = on_up,
};

void redis_conn_drop(struct redis_store *r, const char *reason)
{
	redis_link_drop(&r->link, reason);
}

int redis_conn_init(struct redis_store *r)
{
	return redis_link_init(&r->link, &conn_ops, r, r->host, r->mod, &r->url);
}

int redis_conn_start(struct redis_store *r)
{
	return redis_link_start(&r->link, r->connect_timeout_s);
}

void redis_conn_fini(struct redis_store *r)
{
	redis_link_fini(&r->link);
}

int redis_conn_command(struct redis_store *r, redisCallbackFn *fn, void *privdata, int argc,
                       const char **argv, const size_t *argvlen)
{
	if (!redis_conn_usable(r))
		return EXPOSR_ERROR;
	/* hiredis refuses a context that is disconnecting; then fn is never called. */
	return redisAsyncCommandArgv(r->link.ac, fn, privdata, argc, argv, argvlen) == REDIS_OK
	               ? EXPOSR_OK
	               : EXPOSR_ERROR;
}
