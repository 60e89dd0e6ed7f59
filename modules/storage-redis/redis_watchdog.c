/* Notices a Redis that stops answering while the connection stays open (a stopped
 * process, a network gone without a reset): a PING every second, and the connection
 * counts as lost when one stays unanswered for command-timeout seconds. Without it,
 * calls would hang until TCP keep-alive gave up, half a minute later. */
#include <event2/event.h>
#include <stdio.h>

#include "monotonic.h"
#include "redis_store.h"
#include "timeval_ms.h"

#define WATCHDOG_TICK_MS 1000

static void on_pong(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct redis_store *r = privdata;
	if (ac != r->link.ac)
		return; /* a dropped connection failing what it had queued */
	r->ping_outstanding = false;
	if (reply == NULL)
		redis_conn_reply_lost(r, ac);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct redis_store *r = arg;
	/* A handshake in progress is bounded by the connect timeout instead. */
	if (r->link.state != REDIS_LINK_UP || r->link.ac == NULL)
		return;
	int64_t now = monotonic_ms();
	if (r->ping_outstanding) {
		if (now - r->ping_sent_ms >= (int64_t)r->command_timeout_s * 1000) {
			char reason[64];
			snprintf(reason, sizeof(reason), "no reply for %ld s",
			         r->command_timeout_s);
			redis_conn_drop(r, reason);
		}
		return;
	}
	const char *argv[] = {"PING"};
	size_t lens[] = {4};
	if (redis_conn_command(r, on_pong, r, 1, argv, lens) == EXPOSR_OK) {
		r->ping_outstanding = true;
		r->ping_sent_ms = now;
	}
}

int redis_watchdog_init(struct redis_store *r)
{
	r->watchdog_timer = event_new(r->base, -1, EV_PERSIST, on_tick, r);
	struct timeval tv = timeval_from_ms(WATCHDOG_TICK_MS);
	if (r->watchdog_timer == NULL || event_add(r->watchdog_timer, &tv) != 0)
		return EXPOSR_ERROR;
	return EXPOSR_OK;
}

void redis_watchdog_reset(struct redis_store *r)
{
	r->ping_outstanding = false;
}

void redis_watchdog_fini(struct redis_store *r)
{
	if (r->watchdog_timer != NULL)
		event_free(r->watchdog_timer);
	r->watchdog_timer = NULL;
}
