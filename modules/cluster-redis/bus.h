/* The Redis cluster bus (protocol.md §8.4): its state and the calls between its files. */
#ifndef EXPOSR_CLUSTER_REDIS_BUS_H
#define EXPOSR_CLUSTER_REDIS_BUS_H

#include <exposr/host.h>
#include <hiredis/async.h>

#include "redis_url.h"

#define BUS_CHANNEL "exposr"
/* Reconnect back-off after losing Redis: doubles from the first to the last. */
#define BUS_BACKOFF_FIRST_MS          100
#define BUS_BACKOFF_MAX_MS            5000
#define BUS_DEFAULT_CONNECT_TIMEOUT_S 5

enum link_role {
	LINK_PUBLISH,   /* PUBLISH exposr <message> */
	LINK_SUBSCRIBE, /* SUBSCRIBE exposr, then messages */
};

enum link_state {
	LINK_IDLE = 0, /* not started */
	LINK_OPENING,  /* connecting, handshake sent */
	LINK_UP,
	LINK_DOWN,   /* waiting for the next attempt */
	LINK_CLOSED, /* finalising */
};

struct redis_bus;

/* One of the two connections. */
struct bus_link {
	struct redis_bus *bus;
	enum link_role role;
	const char *name;
	enum link_state state;
	redisAsyncContext *ac; /* hiredis frees it; we only drop our pointer */
	uint64_t backoff_ms;
	struct event *retry_timer;
	struct event *connect_timer; /* bounds connect and handshake */
};

struct redis_bus {
	const struct exposr_host *host;
	struct exposr_module_handle *mod;
	struct event_base *base;
	struct redis_url url;
	long connect_timeout_s;
	struct bus_link pub, sub;
	bool lost_logged; /* the loss was logged: say once when both links are back */
};

/* link.c: a connection's life: open, handshake, loss, back-off, return. */
int link_init(struct bus_link *l, struct redis_bus *bus, enum link_role role);
int link_start(struct bus_link *l);
/* Every command in flight gets its callback with a NULL reply, before this returns. */
void link_fini(struct bus_link *l);
/* The handshake is done (subscribe: the subscription is confirmed). */
void link_up(struct bus_link *l);
/* For reply callbacks: connection `ac` of the link is gone or unusable. */
void link_lost(struct bus_link *l, const redisAsyncContext *ac, const char *reason);

/* bus.c: the bus's side of the links, publishing and receiving. */
void bus_link_changed(struct redis_bus *bus);
/* Queues the role's handshake commands behind AUTH; EXPOSR_ERROR if hiredis refuses. */
int bus_send_handshake(struct bus_link *l, redisAsyncContext *ac);
int bus_publish(void *self, const char *text, size_t len);

#endif
