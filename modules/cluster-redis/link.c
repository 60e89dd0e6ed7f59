/* One connection of the bus to Redis (redis-common/redis_link.c does connect, back-off and
 * return): the role's handshake, and each loss or return reported to the bus. */
#include "bus.h"

static int on_handshake(void *owner, redisAsyncContext *ac)
{
	return bus_send_handshake(owner, ac);
}

static void log_failure(void *owner, const char *reason)
{
	struct bus_link *l = owner;
	l->bus->host->log(l->bus->mod, EXPOSR_LOG_DEBUG, "%s connection to %s: %s", l->name,
	                  l->bus->url.display, reason);
}

static void on_lost(void *owner, enum redis_link_state was, const char *reason)
{
	(void)was;
	struct bus_link *l = owner;
	log_failure(l, reason);
	bus_link_changed(l->bus);
}

static void on_up(void *owner)
{
	struct bus_link *l = owner;
	bus_link_changed(l->bus);
}

static const struct redis_link_ops link_ops = {
        .handshake = on_handshake,
        .lost = on_lost,
        .retry_failed = log_failure,
        .up = on_up,
};

int link_init(struct bus_link *l, struct redis_bus *bus, enum link_role role)
{
	l->bus = bus;
	l->role = role;
	l->name = role == LINK_PUBLISH ? "publishing" : "subscribing";
	return redis_link_init(&l->link, &link_ops, l, bus->host, bus->mod, &bus->url);
}
