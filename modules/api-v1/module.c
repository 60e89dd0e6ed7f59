/* The api-v1 module: settings, route registration and lifecycle of the public REST API. */
#include <stddef.h>
#include <stdlib.h>

#include <exposr/api.h>
#include <exposr/module.h>

#include "api_v1.h"
#include "cname.h"
#include "tunnel_update.h"

/* A client gives every API call 5 s: the CNAME check must finish well before. */
#define CNAME_TIMEOUT_MS 1500
#define CNAME_ATTEMPTS   2

static const struct exposr_api_vtable api_vtable = {.size = sizeof(struct exposr_api_vtable)};

struct api_settings {
	long port;
	const char *url, *dns_server;
	bool allow_registration;
};

#define AT(field) offsetof(struct api_settings, field)

static const struct exposr_setting api_settings[] = {
        {.key = "port",
         .type = EXPOSR_SETTING_INT,
         .def = "8080",
         .min = 0,
         .max = 65535,
         .flag = "api-port",
         .short_flag = 'p',
         .value_name = "PORT",
         .help = "API and websocket endpoint port",
         .offset = AT(port)},
        {.key = "url",
         .type = EXPOSR_SETTING_STRING,
         .flag = "api-url",
         .value_name = "URL",
         .def_help = "answer every host",
         .help = "answer the API only for this host",
         .offset = AT(url)},
        {.key = "allow-registration",
         .type = EXPOSR_SETTING_BOOL,
         .def = "false",
         .flag = "allow-registration",
         .help = "allow POST /v1/account",
         .offset = AT(allow_registration)},
        {.key = "dns-server",
         .type = EXPOSR_SETTING_STRING,
         .value_name = "HOST:PORT",
         .def_help = "the system resolver",
         .help = "DNS server of the alt-name CNAME check",
         .offset = AT(dns_server)},
        {0},
};

static int read_config(struct api_v1 *api, const struct exposr_cfg *cfg,
                       struct sockaddr_storage *dns, socklen_t *dns_len)
{
	const struct exposr_config_api *c = api->host->config;
	struct api_settings set;
	if (c->read(cfg, api_settings, &set) != EXPOSR_OK)
		return EXPOSR_ERROR;
	const char *url = set.url, *dns_server = set.dns_server;
	api->port = (int)set.port;
	api->allow_registration = set.allow_registration;
	if (url != NULL && url[0] != '\0') {
		struct url_parts parts;
		if (!url_parse(url, &parts) ||
		    url_host(&parts, api->filter_host, sizeof(api->filter_host)) != 0) {
			c->error(cfg, "url",
			         "'%s' is not an absolute URL (like http://api.example:8080)", url);
			return EXPOSR_ERROR;
		}
	}
	*dns_len = 0;
	if (dns_server != NULL && dns_server[0] != '\0' &&
	    cname_parse_server(dns_server, dns, dns_len) != 0) {
		c->error(cfg, "dns-server",
		         "'%s' is not an address with an optional port "
		         "(127.0.0.1:53, [::1]:5353)",
		         dns_server);
		return EXPOSR_ERROR;
	}
	return EXPOSR_OK;
}

static void api_free(struct api_v1 *api)
{
	call_tracker_abandon_all(&api->calls);
	cname_resolver_free(api->resolver);
	free(api);
}

static int api_init(const struct exposr_host *host, struct exposr_module_handle *mod,
                    const struct exposr_cfg *cfg, void **state)
{
	struct api_v1 *api = calloc(1, sizeof(*api));
	if (api == NULL)
		return EXPOSR_ERROR;
	api->host = host;
	api->mod = mod;
	call_tracker_init(&api->calls, host, mod);
	struct sockaddr_storage dns;
	socklen_t dns_len;
	if (read_config(api, cfg, &dns, &dns_len) != EXPOSR_OK)
		goto fail;
	api->resolver =
	        cname_resolver_new(host->event_base(), dns_len > 0 ? (struct sockaddr *)&dns : NULL,
	                           dns_len, CNAME_TIMEOUT_MS, CNAME_ATTEMPTS);
	struct exposr_http_route route = {
	        .name = "api-v1",
	        .port = api->port,
	        .priority = API_V1_PRIORITY,
	        .max_body = API_V1_MAX_BODY,
	        .match = api_match,
	        .handle = api_handle,
	        .self = api,
	};
	if (api->resolver == NULL ||
	    host->registry->add_api(mod, "api-v1", &api_vtable, api) != EXPOSR_OK ||
	    host->http->route_add(mod, &route) != EXPOSR_OK)
		goto fail;
	if (api->allow_registration)
		host->log(mod, EXPOSR_LOG_WARN, "public account registration is enabled");
	host->log(mod, EXPOSR_LOG_INFO, "public API on port %d%s%s", api->port,
	          api->filter_host[0] != '\0' ? " for host " : "", api->filter_host);
	*state = api;
	return EXPOSR_OK;
fail:
	api_free(api);
	return EXPOSR_ERROR;
}

static int api_stop(void *state)
{
	struct api_v1 *api = state;
	return call_tracker_stop(&api->calls);
}

static void api_fini(void *state)
{
	api_free(state);
}

EXPOSR_MODULE_DEFINE(.name = "api-v1", .version = "1.0.0",
                     .description = "public REST API v1 (accounts, tokens, tunnels)",
                     .init = api_init, .stop = api_stop, .fini = api_fini,
                     .settings = api_settings);
