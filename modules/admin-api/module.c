/* The admin-api module: settings, access mode, routes and lifecycle. */
#include <stdlib.h>
#include <string.h>

#include <exposr/module.h>

#include "admin_api.h"

static int read_config(struct admin_api *api, const struct exposr_cfg *cfg)
{
	static const char *const keys[] = {"enabled", "port", "key", "allow-access-without-key",
	                                   NULL};
	const struct exposr_config_api *c = api->host->config;
	long port;
	const char *key;
	bool open;
	if (c->check_keys(cfg, keys) != EXPOSR_OK ||
	    c->get_int(cfg, "port", ADMIN_API_DEFAULT_PORT, 0, 65535, &port) != EXPOSR_OK ||
	    c->get_string(cfg, "key", NULL, &key) != EXPOSR_OK ||
	    c->get_bool(cfg, "allow-access-without-key", false, &open) != EXPOSR_OK)
		return EXPOSR_ERROR;
	api->port = (int)port;
	if (key != NULL && key[0] != '\0') {
		api->access = ADMIN_ACCESS_KEY;
		if ((api->key = strdup(key)) == NULL)
			return EXPOSR_ERROR;
		api->key_len = strlen(key);
	} else {
		api->access = open ? ADMIN_ACCESS_OPEN : ADMIN_ACCESS_CLOSED;
	}
	return EXPOSR_OK;
}

static void api_free(struct admin_api *api)
{
	call_tracker_abandon_all(&api->calls);
	free(api->key);
	free(api);
}

static int admin_api_init(const struct exposr_host *host, struct exposr_module_handle *mod,
                          const struct exposr_cfg *cfg, void **state)
{
	struct admin_api *api = calloc(1, sizeof(*api));
	if (api == NULL)
		return EXPOSR_ERROR;
	api->host = host;
	api->mod = mod;
	call_tracker_init(&api->calls, host, mod);
	if (read_config(api, cfg) != EXPOSR_OK)
		goto fail;
	struct exposr_http_route routes[] = {
	        {.name = "admin-api",
	         .port = api->port,
	         .priority = ADMIN_API_PRIORITY,
	         .max_body = ADMIN_API_MAX_BODY,
	         .match = admin_match,
	         .handle = admin_handle,
	         .self = api},
	        {.name = "admin-api-not-found",
	         .port = api->port,
	         .priority = ADMIN_API_NOT_FOUND_PRIORITY,
	         .match = admin_not_found_match,
	         .handle = admin_not_found,
	         .self = api},
	};
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		if (host->http->route_add(mod, &routes[i]) != EXPOSR_OK)
			goto fail;
	static const char *const modes[] = {"with an API key", "without authentication",
	                                    "disabled: no API key given"};
	host->log(mod, api->access == ADMIN_ACCESS_KEY ? EXPOSR_LOG_INFO : EXPOSR_LOG_WARN,
	          "admin API on port %d %s", api->port, modes[api->access]);
	*state = api;
	return EXPOSR_OK;
fail:
	api_free(api);
	return EXPOSR_ERROR;
}

static int admin_api_stop(void *state)
{
	struct admin_api *api = state;
	return call_tracker_stop(&api->calls);
}

static void admin_api_fini(void *state)
{
	api_free(state);
}

EXPOSR_MODULE_DEFINE(.name = "admin-api", .version = "1.0.0",
                     .description = "admin API (accounts, tunnels, cluster nodes)",
                     .init = admin_api_init, .stop = admin_api_stop, .fini = admin_api_fini);
