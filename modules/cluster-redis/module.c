/* cluster-redis: the cluster bus on Redis pub/sub (docs/cluster.md §8.4), shared with exposrd
 * 0.12 nodes: settings, lifecycle and the event bus vtable. */
#include <exposr/eventbus.h>
#include <exposr/module.h>
#include <stddef.h>
#include <stdlib.h>

#include "bus.h"
#include "redis_probe.h"

static const struct exposr_eventbus_vtable bus_vtable = {
        .size = sizeof(struct exposr_eventbus_vtable),
        .publish = bus_publish,
};

struct bus_settings {
	const char *url;
	long connect_timeout_s;
};

/* --cluster redis enables the module; --redis-url also sets `url`. */
static const struct exposr_setting bus_settings[] = {
        {.key = "url",
         .type = EXPOSR_SETTING_STRING,
         .flags = EXPOSR_SETTING_REQUIRED,
         .flag = "cluster-redis-url",
         .value_name = "URL",
         .help = "Redis for the cluster bus",
         .offset = offsetof(struct bus_settings, url)},
        {.key = "connect-timeout",
         .type = EXPOSR_SETTING_INT,
         .def = "5",
         .min = 1,
         .max = 3600,
         .value_name = "SECONDS",
         .help = "seconds to connect",
         .offset = offsetof(struct bus_settings, connect_timeout_s)},
        {0},
};

static int read_settings(struct redis_bus *bus, const struct exposr_cfg *cfg)
{
	const struct exposr_config_api *c = bus->host->config;
	struct bus_settings set;
	if (c->read(cfg, bus_settings, &set) != EXPOSR_OK)
		return EXPOSR_ERROR;
	bus->connect_timeout_s = set.connect_timeout_s;
	char reason[256];
	if (redis_url_parse(set.url, &bus->url, reason, sizeof(reason)) != 0) {
		c->error(c->child(cfg, "url"), NULL, "%s", reason);
		return EXPOSR_ERROR;
	}
	return EXPOSR_OK;
}

static void bus_fini(void *state)
{
	struct redis_bus *bus = state;
	if (bus == NULL)
		return;
	redis_link_fini(&bus->pub.link);
	redis_link_fini(&bus->sub.link);
	redis_url_free(&bus->url);
	free(bus);
}

static int bus_init(const struct exposr_host *host, struct exposr_module_handle *mod,
                    const struct exposr_cfg *cfg, void **state)
{
	struct redis_bus *bus = calloc(1, sizeof(*bus));
	if (bus == NULL)
		return EXPOSR_ERROR;
	bus->host = host;
	bus->mod = mod;
	bus->base = host->event_base();
	if (link_init(&bus->pub, bus, LINK_PUBLISH) != EXPOSR_OK ||
	    link_init(&bus->sub, bus, LINK_SUBSCRIBE) != EXPOSR_OK ||
	    read_settings(bus, cfg) != EXPOSR_OK ||
	    host->registry->add_eventbus(mod, "redis", &bus_vtable, bus) != EXPOSR_OK) {
		bus_fini(bus);
		return EXPOSR_ERROR;
	}
	*state = bus;
	return EXPOSR_OK;
}

static int bus_start(void *state)
{
	struct redis_bus *bus = state;
	char reason[256];
	/* A Redis that cannot be used stops the start, with the reason. */
	if (redis_probe(&bus->url, bus->connect_timeout_s, reason, sizeof(reason)) != 0) {
		bus->host->log(bus->mod, EXPOSR_LOG_ERROR, "cannot connect to %s: %s",
		               bus->url.display, reason);
		return EXPOSR_ERROR;
	}
	if (redis_link_start(&bus->pub.link, bus->connect_timeout_s) != EXPOSR_OK ||
	    redis_link_start(&bus->sub.link, bus->connect_timeout_s) != EXPOSR_OK)
		return EXPOSR_ERROR;
	bus->host->log(bus->mod, EXPOSR_LOG_DEBUG, "cluster bus on %s, channel %s",
	               bus->url.display, BUS_CHANNEL);
	return EXPOSR_OK;
}

/* No stop hook: shutdown announcements still go out while the other modules drain. */
EXPOSR_MODULE_DEFINE(.name = "cluster-redis", .version = "1.0",
                     .description = "cluster bus on Redis pub/sub (shared with exposrd 0.12)",
                     .init = bus_init, .start = bus_start, .fini = bus_fini,
                     .settings = bus_settings);
