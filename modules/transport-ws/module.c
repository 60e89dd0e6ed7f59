/* The transport-ws module: configuration, registration as transport "ws", lifecycle. */
#include <stdlib.h>

#include <exposr/module.h>
#include <exposr/registry.h>
#include <exposr/transport.h>

#include "endpoint.h"
#include "ws_conn.h"
#include "ws_module.h"

/* The API module builds the websocket URL itself (it knows the request's base URL), so
 * there is nothing to add here. */
static void ws_describe(void *self, const char *tunnel_id, const char *token, const char *base_url,
                        void *json_object)
{
	(void)self;
	(void)tunnel_id;
	(void)token;
	(void)base_url;
	(void)json_object;
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

static int ws_init(const struct exposr_host *host, struct exposr_module_handle *mod,
                   const struct exposr_cfg *cfg, void **state)
{
	static const char *const keys[] = {"enabled", "port", "max-message-size", NULL};
	const struct exposr_config_api *c = host->config;
	long port, max_message;
	if (c->check_keys(cfg, keys) != EXPOSR_OK ||
	    c->get_int(cfg, "port", WS_DEFAULT_PORT, 0, 65535, &port) != EXPOSR_OK ||
	    c->get_int(cfg, "max-message-size", WS_DEFAULT_MAX_MESSAGE, 1024 * 1024,
	               100L * 1024 * 1024, &max_message) != EXPOSR_OK)
		return EXPOSR_ERROR;
	if (host->tunnels == NULL || host->http == NULL) {
		host->log(mod, EXPOSR_LOG_ERROR,
		          "needs the core's tunnel service and HTTP listener");
		return EXPOSR_ERROR;
	}
	struct ws_module *wm = calloc(1, sizeof(*wm));
	if (wm == NULL)
		return EXPOSR_ERROR;
	wm->host = host;
	wm->mod = mod;
	wm->port = port;
	wm->max_message = (size_t)max_message;
	wm->conns_open = host->metrics->get("exposrd_transport_ws_connections", EXPOSR_METRIC_GAUGE,
	                                    "Websocket transport connections open");
	wm->channels_open = host->metrics->get("exposrd_transport_ws_channels", EXPOSR_METRIC_GAUGE,
	                                       "Multiplex channels open or not yet freed");
	if (ws_endpoint_register(wm) != EXPOSR_OK ||
	    host->registry->add(mod, EXPOSR_KIND_TRANSPORT, "ws", &ws_transport_vt, wm) !=
	            EXPOSR_OK) {
		host->log(mod, EXPOSR_LOG_ERROR, "cannot register the websocket endpoint");
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
                     .init = ws_init, .stop = ws_stop, .fini = ws_fini);
