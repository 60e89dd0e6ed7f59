/* The websocket endpoint: handshake checks, token authorisation, refusals with JSON
 * bodies (docs/transport.md §4.2) and the 101 that hands the socket to a ws_conn. Also the
 * pre-0.5 clients' endpoint, /v1/endpoint/ws/<id>?token= (§14.5 C6). */
#include "endpoint.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "ws_conn.h"
#include "ws_handshake.h"

/* Tunnel ids are at most 65 characters; anything longer cannot be a tunnel. */
#define WS_TUNNEL_ID_SIZE 128
/* Tokens are 86 characters. */
#define WS_TOKEN_SIZE 256

struct ws_handshake {
	struct ws_module *wm;
	LIST_ENTRY(ws_handshake) link;
	struct exposr_http_request *req;
	char tunnel_id[WS_TUNNEL_ID_SIZE];
	char accept[WS_ACCEPT_SIZE];
	char peer[WS_PEER_SIZE];
	bool legacy; /* the pre-0.5 endpoint: multiplex v1, 503 at the connection limit */
};

/* Every refusal before the 101 carries a JSON body: both clients only react to the
 * body of an unexpected response (docs/transport.md §4.2, D2). */
static void refuse(struct ws_module *wm, struct exposr_http_request *req, int status,
                   const char *error, const char *field)
{
	static const struct exposr_http_header json[] = {
	        {"Content-Type", "application/json"},
	        {NULL, NULL},
	};
	static const struct exposr_http_header json_version[] = {
	        {"Content-Type", "application/json"},
	        {"Sec-WebSocket-Version", "13"},
	        {NULL, NULL},
	};
	char body[256];
	int len = field != NULL ? snprintf(body, sizeof(body),
	                                   "{\"error\":\"%s\",\"field\":\"%s\"}", error, field)
	                        : snprintf(body, sizeof(body), "{\"error\":\"%s\"}", error);
	if (len < 0 || (size_t)len >= sizeof(body))
		len = snprintf(body, sizeof(body), "{\"error\":\"%s\"}", error);
	ws_log(wm, EXPOSR_LOG_DEBUG, "%s %s from %s: %d %s", req->method, req->path,
	       req->remote_addr, status, error);
	bool bad_version = field != NULL && strncmp(field, "sec-websocket-version", 21) == 0;
	wm->host->http->respond(req, status, bad_version ? json_version : json, body,
	                        (size_t)(len > 0 ? len : 0));
}

static void upgrade(struct ws_handshake *hs)
{
	struct ws_module *wm = hs->wm;
	const struct exposr_http_api *http = wm->host->http;
	struct bufferevent *bev = http->takeover(hs->req);
	if (bev == NULL) {
		http->release(hs->req); /* the listener went away meanwhile */
		return;
	}
	http->release(hs->req);
	hs->req = NULL;
	/* No Sec-WebSocket-Extensions (permessage-deflate is declined) and no sub-protocol. */
	if (evbuffer_add_printf(bufferevent_get_output(bev),
	                        "HTTP/1.1 101 Switching Protocols\r\n"
	                        "Upgrade: websocket\r\n"
	                        "Connection: Upgrade\r\n"
	                        "Sec-WebSocket-Accept: %s\r\n"
	                        "\r\n",
	                        hs->accept) < 0) {
		bufferevent_free(bev);
		return;
	}
	ws_conn_start(wm, bev, hs->tunnel_id, hs->peer, hs->legacy);
}

/* An old client takes a 101 + 1008 for a reason to reconnect at once, but stops (or
 * disconnects the tunnel and starts over) on a 503 before the 101, as its servers
 * answered (docs/legacy-clients.md §14.5 C6, §14.6 K1). The same count as connection_add(). */
static bool at_connection_limit(const struct ws_module *wm, const char *tunnel_id)
{
	const struct exposr_tunnel_api *tunnels = wm->host->tunnels;
	struct exposr_tunnel_state st;
	tunnels->state(tunnel_id, &st);
	return st.connections >= tunnels->max_connections();
}

static void on_authorized(void *arg, int status, const char *account_id)
{
	(void)account_id;
	struct ws_handshake *hs = arg;
	struct ws_module *wm = hs->wm;
	LIST_REMOVE(hs, link);
	switch (status) {
	case EXPOSR_OK:
		if (hs->legacy && at_connection_limit(wm, hs->tunnel_id))
			refuse(wm, hs->req, 503, "TUNNEL_ALREADY_CONNECTED", NULL);
		else
			upgrade(hs);
		break;
	case EXPOSR_NOT_FOUND:
		refuse(wm, hs->req, 404, "TUNNEL_NOT_FOUND", NULL);
		break;
	case EXPOSR_DECLINED:
		refuse(wm, hs->req, 401, "PERMISSION_DENIED", NULL);
		break;
	default:
		refuse(wm, hs->req, 500, "UNKNOWN_ERROR", NULL);
		break;
	}
	free(hs);
	ws_module_check_drained(wm);
}

static bool endpoint_match(void *self, const struct exposr_http_request *req)
{
	(void)self;
	return req->upgrade && (ws_endpoint_tunnel_id(req->path, NULL, 0) ||
	                        ws_legacy_tunnel_id(req->path, NULL, 0));
}

/* RFC 6455 §4.2.1 checks; NULL when the request is a valid websocket opening. */
static const char *bad_handshake(const struct exposr_http_api *http,
                                 const struct exposr_http_request *req, int *status)
{
	*status = 400;
	if (strcmp(req->method, "GET") != 0) {
		*status = 405;
		return "method: expected GET";
	}
	const char *upgrade = http->header(req, "Upgrade");
	if (upgrade == NULL || !ws_header_has_token(upgrade, "websocket"))
		return "upgrade: expected websocket";
	const char *version = http->header(req, "Sec-WebSocket-Version");
	if (version == NULL || (strcmp(version, "13") != 0 && strcmp(version, "8") != 0))
		return "sec-websocket-version: expected 13";
	const char *key = http->header(req, "Sec-WebSocket-Key");
	if (key == NULL || !ws_key_valid(key))
		return "sec-websocket-key: invalid";
	return NULL;
}

static void endpoint_handle(void *self, struct exposr_http_request *req)
{
	struct ws_module *wm = self;
	const struct exposr_http_api *http = wm->host->http;
	int status;
	const char *bad = bad_handshake(http, req, &status);
	if (bad != NULL) {
		refuse(wm, req, status, "BAD_INPUT", bad);
		return;
	}
	/* Checked before the token, so a malformed request does not use the token up. */
	bool legacy = ws_legacy_tunnel_id(req->path, NULL, 0);
	char token[WS_TOKEN_SIZE];
	if (!ws_query_param(req->query, legacy ? "token" : "t", token, sizeof(token))) {
		refuse(wm, req, 401, "PERMISSION_DENIED", NULL);
		return;
	}
	struct ws_handshake *hs = calloc(1, sizeof(*hs));
	if (hs == NULL) {
		refuse(wm, req, 500, "UNKNOWN_ERROR", NULL);
		return;
	}
	hs->wm = wm;
	hs->req = req;
	hs->legacy = legacy;
	if (!(legacy ? ws_legacy_tunnel_id(req->path, hs->tunnel_id, sizeof(hs->tunnel_id))
	             : ws_endpoint_tunnel_id(req->path, hs->tunnel_id, sizeof(hs->tunnel_id))) ||
	    !ws_accept_value(http->header(req, "Sec-WebSocket-Key"), hs->accept)) {
		free(hs);
		refuse(wm, req, 404, "TUNNEL_NOT_FOUND", NULL);
		return;
	}
	ws_peer_address(http->header(req, "X-Forwarded-For"), req->remote_addr, hs->peer);
	if (wm->stopping) {
		/* Refused with 1008 after the upgrade, without using the token up. */
		upgrade(hs);
		free(hs);
		return;
	}
	/* Linked first: the service may answer before authorize() returns. */
	LIST_INSERT_HEAD(&wm->handshakes, hs, link);
	wm->host->tunnels->authorize(hs->tunnel_id, token, on_authorized, hs);
}

int ws_endpoint_register(struct ws_module *wm)
{
	struct exposr_http_route route = {
	        .name = "transport-ws",
	        .port = (int)wm->port,
	        .priority = 50,
	        .max_body = 0,
	        .match = endpoint_match,
	        .handle = endpoint_handle,
	        .self = wm,
	};
	return wm->host->http->route_add(wm->mod, &route);
}

void ws_endpoint_abort_all(struct ws_module *wm)
{
	while (!LIST_EMPTY(&wm->handshakes)) {
		struct ws_handshake *hs = LIST_FIRST(&wm->handshakes);
		LIST_REMOVE(hs, link);
		refuse(wm, hs->req, 503, "UNKNOWN_ERROR", NULL);
		free(hs);
	}
}
