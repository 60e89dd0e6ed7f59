/* The transport-ws module: configuration, registration as transport "ws", lifecycle. */
#include <stddef.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

#include <common/tunnel_object.h>
#include <exposr/module.h>
#include <exposr/transport.h>
#include <whatwg_url.h>

#include "endpoint.h"
#include "ws_conn.h"
#include "ws_module.h"

/* Fills the tunnel object's `transport.ws` block (it holds `enabled` already) with the
 * endpoint URL on the host the API request named (docs/api.md §2.7). */
static void ws_describe(void *self, const char *tunnel_id, const char *token, const char *base_url,
                        void *json_object)
{
	(void)self;
	struct url_parts base;
	char url[1024];
	if (url_parse(base_url, &base) &&
	    ws_endpoint_url(&base, tunnel_id, token, url, sizeof(url)) == 0)
		cJSON_AddStringToObject(json_object, "url", url);
}

static const struct exposr_transport_vtable ws_transport_vt = {
        .size = sizeof(struct exposr_transport_vtable),
        .describe = ws_describe,
};

void ws_module_check_drained(struct ws_module *wm)
{
	if (wm->drain_pending && LIST_EMPTY(&wm->conns) && LIST_EMPTY(&wm->handshakes)) {
		wm->drain_pending = false;
		wm->host->drained(wm->mod);
	}
}

struct ws_settings {
	long port, max_message;
};

/* --transport ws enables the module. */
static const struct exposr_setting ws_settings[] = {
        {.key = "port",
         .type = EXPOSR_SETTING_INT,
         .def = "8080",
         .min = 0,
         .max = 65535,
         .flag = "api-port",
         .short_flag = 'p',
         .value_name = "PORT",
         .help = "websocket endpoint port (--api-port sets the API's too)",
         .offset = offsetof(struct ws_settings, port)},
        /* The client's messages are a few hundred KiB at most (docs/transport.md §4.3). */
        {.key = "max-message-size",
         .type = EXPOSR_SETTING_INT,
         .def = "4194304",
         .min = 1024 * 1024,
         .max = 100L * 1024 * 1024,
         .value_name = "BYTES",
         .def_help = "4 MiB",
         .help = "largest websocket message; a larger one closes the connection (1009)",
         .offset = offsetof(struct ws_settings, max_message)},
        {0},
};

static int ws_init(const struct exposr_host *host, struct exposr_module_handle *mod,
                   const struct exposr_cfg *cfg, void **state)
{
	struct ws_settings set;
	if (host->config->read(cfg, ws_settings, &set) != EXPOSR_OK)
		return EXPOSR_ERROR;
	struct ws_module *wm = calloc(1, sizeof(*wm));
	if (wm == NULL)
		return EXPOSR_ERROR;
	wm->host = host;
	wm->mod = mod;
	wm->port = set.port;
	wm->max_message = (size_t)set.max_message;
	wm->conns_open = host->metrics->get("exposrd_transport_ws_connections", EXPOSR_METRIC_GAUGE,
	                                    "Websocket transport connections open");
	wm->channels_open = host->metrics->get("exposrd_transport_ws_channels", EXPOSR_METRIC_GAUGE,
	                                       "Multiplex channels open or not yet freed");
	if (ws_endpoint_register(wm) != EXPOSR_OK) {
		host->log(mod, EXPOSR_LOG_ERROR, "cannot register the websocket endpoint");
		free(wm);
		return EXPOSR_ERROR;
	}
	if (host->registry->add_transport(mod, "ws", &ws_transport_vt, wm) != EXPOSR_OK) {
		free(wm);
		return EXPOSR_ERROR;
	}
	*state = wm;
	return EXPOSR_OK;
}

/* Shutdown: every client gets 1001 "Server shutting down" (docs/transport.md §4.4). */
static int ws_stop(void *state)
{
	struct ws_module *wm = state;
	wm->stopping = true;
	ws_conns_close_all(wm, WS_CLOSE_GOING_AWAY, "Server shutting down");
	if (LIST_EMPTY(&wm->conns) && LIST_EMPTY(&wm->handshakes))
		return EXPOSR_OK;
	wm->drain_pending = true;
	return EXPOSR_AGAIN;
}

static void ws_fini(void *state)
{
	struct ws_module *wm = state;
	wm->drain_pending = false;
	ws_endpoint_abort_all(wm);
	ws_conns_free_all(wm);
	free(wm);
}

EXPOSR_MODULE_DEFINE(.name = "transport-ws", .version = "1.0",
                     .description = "websocket transport (exposr multiplex v1 and v2)",
                     .init = ws_init, .stop = ws_stop, .fini = ws_fini, .settings = ws_settings);
