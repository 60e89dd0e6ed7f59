/* One connection of the bus to Redis: non-blocking connect on the loop, AUTH, the role's
 * handshake, and after a loss a new attempt with a growing back-off. */
#include <event2/event.h>
#include <hiredis/adapters/libevent.h>
#include <stdio.h>
#include <string.h>

#include "bus.h"

static void arm(struct event *ev, uint64_t ms)
{
	struct timeval tv = {.tv_sec = (time_t)(ms / 1000),
	                     .tv_usec = (suseconds_t)(ms % 1000) * 1000};
	/* Fails only for a broken event, which nothing here could repair. */
	(void)evtimer_add(ev, &tv);
}

static void schedule_retry(struct bus_link *l)
{
	l->state = LINK_DOWN;
	arm(l->retry_timer, l->backoff_ms);
	l->backoff_ms *= 2;
	if (l->backoff_ms > BUS_BACKOFF_MAX_MS)
		l->backoff_ms = BUS_BACKOFF_MAX_MS;
}

static const char *reason_of(const redisAsyncContext *ac, const char *fallback)
{
	return ac->err != 0 && ac->errstr[0] != '\0' ? ac->errstr : fallback;
}

/* Several paths report one loss (NULL replies, the connect and disconnect callbacks, the
 * timer): only the first for the current connection counts. */
void link_lost(struct bus_link *l, const redisAsyncContext *ac, const char *reason)
{
	if (ac == NULL || ac != l->ac)
		return;
	l->ac = NULL;
	(void)evtimer_del(l->connect_timer);
	if (l->state == LINK_CLOSED || l->state == LINK_IDLE)
		return;
	l->bus->host->log(l->bus->mod, EXPOSR_LOG_DEBUG, "%s connection to %s: %s", l->name,
	                  l->bus->url.display, reason);
	schedule_retry(l);
	bus_link_changed(l->bus);
}

void link_up(struct bus_link *l)
{
	if (l->state != LINK_OPENING)
		return;
	(void)evtimer_del(l->connect_timer);
	l->state = LINK_UP;
	l->backoff_ms = BUS_BACKOFF_FIRST_MS;
	bus_link_changed(l->bus);
}

static void on_connect(const redisAsyncContext *ac, int status)
{
	if (status != REDIS_OK)
		link_lost(ac->data, ac, reason_of(ac, "cannot connect"));
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
	(void)status;
	link_lost(ac->data, ac, reason_of(ac, "connection closed"));
}

/* Gives up the current connection, never from inside a hiredis callback: what it had
 * queued fails now. */
static void drop(struct bus_link *l, const char *reason)
{
	redisAsyncContext *ac = l->ac;
	if (ac == NULL)
		return;
	link_lost(l, ac, reason);
	redisAsyncFree(ac);
}

static int open_connection(struct bus_link *l, char *reason, size_t size)
{
	const struct redis_url *url = &l->bus->url;
	redisAsyncContext *ac = redisAsyncConnect(url->host, url->port);
	if (ac == NULL) {
		snprintf(reason, size, "out of memory");
		return -1;
	}
	if (ac->err != 0) {
		snprintf(reason, size, "%s", reason_of(ac, "cannot connect"));
		redisAsyncFree(ac);
		return -1;
	}
	ac->data = l;
	if (redisLibeventAttach(ac, l->bus->base) != REDIS_OK ||
	    redisAsyncSetConnectCallback(ac, on_connect) != REDIS_OK ||
	    redisAsyncSetDisconnectCallback(ac, on_disconnect) != REDIS_OK) {
		snprintf(reason, size, "cannot watch the connection");
		redisAsyncFree(ac);
		return -1;
	}
	/* A Redis that vanishes without a reset is noticed through keep-alive probes. */
	if (redisEnableKeepAlive(&ac->c) != REDIS_OK)
		l->bus->host->log(l->bus->mod, EXPOSR_LOG_DEBUG, "no TCP keep-alive to %s",
		                  url->display);
	l->ac = ac;
	l->state = LINK_OPENING;
	if (bus_send_handshake(l, ac) != EXPOSR_OK) {
		snprintf(reason, size, "cannot queue the handshake");
		l->ac = NULL;
		redisAsyncFree(ac);
		return -1;
	}
	arm(l->connect_timer, (uint64_t)l->bus->connect_timeout_s * 1000);
	return 0;
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct bus_link *l = arg;
	if (l->state != LINK_DOWN)
		return;
	char reason[256];
	if (open_connection(l, reason, sizeof(reason)) != 0) {
		l->bus->host->log(l->bus->mod, EXPOSR_LOG_DEBUG, "%s connection to %s: %s", l->name,
		                  l->bus->url.display, reason);
		schedule_retry(l);
	}
}

static void on_connect_timeout(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct bus_link *l = arg;
	if (l->state == LINK_OPENING)
		drop(l, "timed out connecting");
}

int link_init(struct bus_link *l, struct redis_bus *bus, enum link_role role)
{
	l->bus = bus;
	l->role = role;
	l->name = role == LINK_PUBLISH ? "publishing" : "subscribing";
	l->state = LINK_IDLE;
	l->backoff_ms = BUS_BACKOFF_FIRST_MS;
	l->retry_timer = evtimer_new(bus->base, on_retry, l);
	l->connect_timer = evtimer_new(bus->base, on_connect_timeout, l);
	return l->retry_timer != NULL && l->connect_timer != NULL ? EXPOSR_OK : EXPOSR_ERROR;
}

int link_start(struct bus_link *l)
{
	char reason[256];
	if (open_connection(l, reason, sizeof(reason)) != 0) {
		l->state = LINK_IDLE;
		l->bus->host->log(l->bus->mod, EXPOSR_LOG_ERROR, "cannot connect to %s: %s",
		                  l->bus->url.display, reason);
		return EXPOSR_ERROR;
	}
	return EXPOSR_OK;
}

void link_fini(struct bus_link *l)
{
	l->state = LINK_CLOSED;
	redisAsyncContext *ac = l->ac;
	l->ac = NULL;
	if (ac != NULL)
		redisAsyncFree(ac);
	if (l->retry_timer != NULL)
		event_free(l->retry_timer);
	if (l->connect_timer != NULL)
		event_free(l->connect_timer);
	l->retry_timer = NULL;
	l->connect_timer = NULL;
}
