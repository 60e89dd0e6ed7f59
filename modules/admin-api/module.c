/* The admin-api module: settings, access mode, routes and lifecycle. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <exposr/module.h>

#include "admin_api.h"

struct admin_api_settings {
	long port;
	const char *key;
	bool open;
};

#define AT(field) offsetof(struct admin_api_settings, field)

static const struct exposr_setting admin_api_settings[] = {
        {.key = "enabled",
         .type = EXPOSR_SETTING_BOOL,
         .def = "false",
         .flag = "admin-api-enable",
         .help = "admin API"},
        {.key = "port",
         .type = EXPOSR_SETTING_INT,
         .def = "8081",
         .min = 0,
         .max = 65535,
         .flag = "admin-api-port",
         .value_name = "PORT",
         .help = "admin API port",
         .offset = AT(port)},
        {.key = "key",
         .type = EXPOSR_SETTING_STRING,
         .flag = "admin-api-key",
         .value_name = "KEY",
         .def_help = "none; clients send Authorization: Bearer <base64 of KEY>",
         .help = "admin API key",
         .offset = AT(key)},
        {.key = "allow-access-without-key",
         .type = EXPOSR_SETTING_BOOL,
         .def = "false",
         .flag = "admin-api-allow-access-without-key",
         .flags = EXPOSR_SETTING_HIDDEN,
         .help = "admin API without a key",
         .offset = AT(open)},
        {0},
};

static int read_config(struct admin_api *api, const struct exposr_cfg *cfg)
{
	struct admin_api_settings set;
	if (api->host->config->read(cfg, admin_api_settings, &set) != EXPOSR_OK)
		return EXPOSR_ERROR;
	const char *key = set.key;
	bool open = set.open;
	api->port = (int)set.port;
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
                     .init = admin_api_init, .stop = admin_api_stop, .fini = admin_api_fini,
                     .settings = admin_api_settings);
