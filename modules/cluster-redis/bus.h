/* The Redis cluster bus (docs/cluster.md §8.4): its state and the calls between its files. */
#ifndef EXPOSR_CLUSTER_REDIS_BUS_H
#define EXPOSR_CLUSTER_REDIS_BUS_H

#include <exposr/host.h>
#include <hiredis/async.h>

#include "redis_link.h"
#include "redis_url.h"

#define BUS_CHANNEL "exposr"

enum link_role {
	LINK_PUBLISH,   /* PUBLISH exposr <message> */
	LINK_SUBSCRIBE, /* SUBSCRIBE exposr, then messages */
};

struct redis_bus;

/* One of the two connections. */
struct bus_link {
	struct redis_bus *bus;
	enum link_role role;
	const char *name;
	struct redis_link link; /* the connection, from redis-common */
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

/* link.c: the bus's hooks on a link: the role's handshake, loss and return reported. */
int link_init(struct bus_link *l, struct redis_bus *bus, enum link_role role);

/* bus.c: the bus's side of the links, publishing and receiving. */
void bus_link_changed(struct redis_bus *bus);
/* Queues the role's handshake commands behind AUTH; EXPOSR_ERROR if hiredis refuses. */
int bus_send_handshake(struct bus_link *l, redisAsyncContext *ac);
int bus_publish(void *self, const char *text, size_t len);

#endif
