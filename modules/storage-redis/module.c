/* storage-redis: the multi-node storage on a Redis shared with exposrd 0.12 nodes
 * (docs/storage.md §8.1): settings, lifecycle and the storage vtable. */
#include <exposr/module.h>
#include <stddef.h>
#include <stdlib.h>

#include "redis_store.h"

static const struct exposr_storage_vtable redis_vtable = {
        .size = sizeof(struct exposr_storage_vtable),
        .get = redis_get,
        .set = redis_set,
        .del = redis_del,
        .list = redis_list,
        .lock = redis_lock,
        .unlock = redis_unlock,
};

struct redis_settings {
	const char *url;
	long connect_timeout_s, command_timeout_s;
};

#define AT(field) offsetof(struct redis_settings, field)

/* --storage-url redis://... and --redis-url set `url` (the core picks the module by the
 * scheme). It is required, with a message of this module's own. */
static const struct exposr_setting redis_settings[] = {
        {.key = "url",
         .type = EXPOSR_SETTING_STRING,
         .value_name = "URL",
         .def_help = "none: required",
         .help = "redis://[:password@]host[:port][/db]",
         .offset = AT(url)},
        {.key = "connect-timeout",
         .type = EXPOSR_SETTING_INT,
         .def = "5",
         .min = 1,
         .max = 3600,
         .value_name = "SECONDS",
         .help = "seconds to connect",
         .offset = AT(connect_timeout_s)},
        {.key = "command-timeout",
         .type = EXPOSR_SETTING_INT,
         .def = "5",
         .min = 1,
         .max = 3600,
         .value_name = "SECONDS",
         .help = "seconds a silent Redis has until it counts as lost",
         .offset = AT(command_timeout_s)},
        {0},
};

static int read_settings(struct redis_store *r, const struct exposr_cfg *cfg)
{
	const struct exposr_config_api *c = r->host->config;
	struct redis_settings set;
	if (c->read(cfg, redis_settings, &set) != EXPOSR_OK)
		return EXPOSR_ERROR;
	r->connect_timeout_s = set.connect_timeout_s;
	r->command_timeout_s = set.command_timeout_s;
	if (set.url == NULL) {
		if (cfg != NULL)
			c->error(cfg, "url", "is required: redis://[:password@]host[:port][/db]");
		else
			r->host->log(r->mod, EXPOSR_LOG_ERROR,
			             "url is required: redis://[:password@]host[:port][/db]");
		return EXPOSR_ERROR;
	}
	char reason[256];
	if (redis_url_parse(set.url, &r->url, reason, sizeof(reason)) != 0) {
		c->error(c->child(cfg, "url"), NULL, "%s", reason);
		return EXPOSR_ERROR;
	}
	return EXPOSR_OK;
}

static void redis_fini(void *state)
{
	struct redis_store *r = state;
	if (r == NULL)
		return;
	/* Calls in flight fail first, while everything they may touch still exists. */
	redis_conn_fini(r);
	redis_watchdog_fini(r);
	redis_locks_close(r);
	redis_url_free(&r->url);
	free(r);
}

static int redis_init(const struct exposr_host *host, struct exposr_module_handle *mod,
                      const struct exposr_cfg *cfg, void **state)
{
	struct redis_store *r = calloc(1, sizeof(*r));
	if (r == NULL)
		return EXPOSR_ERROR;
	r->host = host;
	r->mod = mod;
	r->base = host->event_base();
	if (read_settings(r, cfg) != EXPOSR_OK || redis_conn_init(r) != EXPOSR_OK ||
	    host->registry->add_storage(mod, "redis", &redis_vtable, r) != EXPOSR_OK) {
		redis_fini(r);
		return EXPOSR_ERROR;
	}
	*state = r;
	return EXPOSR_OK;
}

static int redis_start(void *state)
{
	struct redis_store *r = state;
	char reason[256];
	if (redis_probe(&r->url, r->connect_timeout_s, reason, sizeof(reason)) != 0) {
		r->host->log(r->mod, EXPOSR_LOG_ERROR, "cannot connect to %s: %s", r->url.display,
		             reason);
		return EXPOSR_ERROR;
	}
	if (redis_conn_start(r) != EXPOSR_OK)
		return EXPOSR_ERROR;
	return redis_watchdog_init(r);
}

/* No stop hook: the modules that drain still read and write their records. */
EXPOSR_MODULE_DEFINE(.name = "storage-redis", .version = "1.0",
                     .description = "Redis storage shared with exposrd 0.12 (multi-node)",
                     .init = redis_init, .start = redis_start, .fini = redis_fini,
                     .settings = redis_settings);
