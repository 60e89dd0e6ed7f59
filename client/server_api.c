/* API calls (see server_api.h). */
#include "server_api.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/err.h>

#include "client_url.h"
#include "net.h"

#define API_TIMEOUT_S 5
#define MAX_BODY      (1024 * 1024)

struct api {
	struct event_base *base;
	struct client_url url;
	char server[2048];
	char host_header[300];
	char *auth;
	SSL_CTX *tls;
	/* Finished calls: their connections are freed from here, once libevent is done
	 * with them (it is not when it calls back, and it frees them itself on no path the
	 * client can rely on). */
	struct api_call *done;
	struct event *reaper;
};

struct api_call {
	struct api *api;
	struct evhttp_connection *conn;
	struct api_call *next;
	api_cb cb;
	void *arg;
	char what[160]; /* "GET /v1/..." for messages */
};

static void reap(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct api *api = arg;
	while (api->done != NULL) {
		struct api_call *call = api->done;
		api->done = call->next;
		evhttp_connection_free(call->conn);
		free(call);
	}
}

/* What the exposr client prints for each error code (docs/api.md §2.1). */
static const struct {
	const char *code, *text;
} messages[] = {
        {"TUNNEL_NOT_FOUND", "Tunnel not found"},
        {"TUNNEL_NOT_CONNECTED", "Tunnel not connected"},
        {"TUNNEL_ALREADY_CONNECTED", "Tunnel already connected"},
        {"TUNNEL_HTTP_INGRESS_DISABLED", "HTTP ingress not enabled for tunnel"},
        {"TUNNEL_TRANSPORT_REQUEST_LIMIT", "Tunnel transport concurrent connection limit"},
        {"TUNNEL_TARGET_CON_RESET", "Target connection refused"},
        {"TUNNEL_INGRESS_BAD_ALT_NAMES", "The altname can not be configured for this tunnel"},
        {"HTTP_INGRESS_REQUEST_LOOP", "Request loop at ingress"},
        {"UNKNOWN_ERROR", "Unknown server error"},
        {"BAD_INPUT", "Bad input"},
        {"AUTH_NO_TOKEN", "Access token missing"},
        {"PERMISSION_DENIED", "Permission denied"},
};

struct api *api_new(struct event_base *base, const char *server, char *err, size_t errlen)
{
	struct api *api = calloc(1, sizeof(*api));
	if (api == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	api->base = base;
	snprintf(api->server, sizeof(api->server), "%s", server);
	if (client_url_parse(server, &api->url, err, errlen) != 0)
		goto fail;
	if (strcmp(api->url.parts.scheme, "http") != 0 &&
	    strcmp(api->url.parts.scheme, "https") != 0) {
		snprintf(err, errlen, "the server URL must be http:// or https://: %s", server);
		goto fail;
	}
	if (url_host(&api->url.parts, api->host_header, sizeof(api->host_header)) != 0) {
		snprintf(err, errlen, "host name too long: %s", server);
		goto fail;
	}
	if ((api->reaper = event_new(base, -1, 0, reap, api)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (api->url.tls && (api->tls = net_tls_context(true)) == NULL) {
		snprintf(err, errlen, "cannot set up TLS");
		goto fail;
	}
	return api;
fail:
	api_free(api);
	return NULL;
}

void api_free(struct api *api)
{
	if (api == NULL)
		return;
	reap(-1, 0, api);
	if (api->reaper != NULL)
		event_free(api->reaper);
	SSL_CTX_free(api->tls);
	free(api->auth);
	free(api);
}

const char *api_server(const struct api *api)
{
	return api->server;
}

int api_set_token(struct api *api, const char *token)
{
	free(api->auth);
	api->auth = NULL;
	if (token == NULL)
		return 0;
	size_t n = strlen(token) + sizeof("Bearer ");
	api->auth = malloc(n);
	if (api->auth == NULL)
		return -1;
	snprintf(api->auth, n, "Bearer %s", token);
	return 0;
}

const char *api_error_code(const struct api_result *r)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(r->json, "error");
	return cJSON_IsString(e) ? e->valuestring : NULL;
}

static void describe_error(struct api_result *r, const char *what)
{
	const char *code = api_error_code(r);
	if (code == NULL) {
		snprintf(r->msg, sizeof(r->msg), "%s: the server answered %d", what, r->status);
		return;
	}
	const char *text = code;
	for (size_t i = 0; i < sizeof(messages) / sizeof(messages[0]); i++)
		if (strcmp(messages[i].code, code) == 0)
			text = messages[i].text;
	/* The detail is in "field", else "details", as the exposr client reads it. */
	const cJSON *detail = cJSON_GetObjectItemCaseSensitive(r->json, "field");
	if (!cJSON_IsString(detail))
		detail = cJSON_GetObjectItemCaseSensitive(r->json, "details");
	if (cJSON_IsString(detail))
		snprintf(r->msg, sizeof(r->msg), "%s: %s", text, detail->valuestring);
	else
		snprintf(r->msg, sizeof(r->msg), "%s", text);
}

static void request_done(struct evhttp_request *req, void *arg)
{
	struct api_call *call = arg;
	struct api_result r = {0};
	if (req == NULL || evhttp_request_get_response_code(req) == 0) {
		unsigned long tls_error = ERR_get_error();
		if (tls_error != 0)
			snprintf(r.msg, sizeof(r.msg), "%s: cannot reach %.200s: %s", call->what,
			         call->api->server, ERR_reason_error_string(tls_error));
		else
			snprintf(r.msg, sizeof(r.msg),
			         "%s: cannot reach %.200s (connection refused, reset or timed out)",
			         call->what, call->api->server);
	} else {
		r.status = evhttp_request_get_response_code(req);
		struct evbuffer *in = evhttp_request_get_input_buffer(req);
		size_t len = evbuffer_get_length(in);
		const char *body = (const char *)evbuffer_pullup(in, -1);
		if (body != NULL)
			r.json = cJSON_ParseWithLength(body, len);
		if (r.status > 299)
			describe_error(&r, call->what);
	}
	call->cb(call->arg, &r);
	api_result_clear(&r);
	call->next = call->api->done;
	call->api->done = call;
	event_active(call->api->reaper, EV_TIMEOUT, 0);
}

static struct evhttp_connection *connect_api(struct api *api)
{
	struct bufferevent *bev = NULL;
	if (api->tls != NULL) {
		SSL *ssl = SSL_new(api->tls);
		if (ssl == NULL)
			return NULL;
		if (!SSL_set_tlsext_host_name(ssl, api->url.host) ||
		    !SSL_set1_host(ssl, api->url.host) ||
		    (bev = bufferevent_openssl_socket_new(api->base, -1, ssl,
		                                          BUFFEREVENT_SSL_CONNECTING,
		                                          BEV_OPT_CLOSE_ON_FREE)) == NULL) {
			SSL_free(ssl);
			return NULL;
		}
	}
	struct evhttp_connection *conn = evhttp_connection_base_bufferevent_new(
	        api->base, NULL, bev, api->url.host, (unsigned short)api->url.port);
	if (conn == NULL) {
		if (bev != NULL)
			bufferevent_free(bev);
		return NULL;
	}
	evhttp_connection_set_timeout(conn, API_TIMEOUT_S);
	evhttp_connection_set_max_body_size(conn, MAX_BODY);
	return conn;
}

static int method_type(const char *method, enum evhttp_cmd_type *type)
{
	static const struct {
		const char *name;
		enum evhttp_cmd_type type;
	} methods[] = {
	        {"GET", EVHTTP_REQ_GET},     {"POST", EVHTTP_REQ_POST},     {"PUT", EVHTTP_REQ_PUT},
	        {"PATCH", EVHTTP_REQ_PATCH}, {"DELETE", EVHTTP_REQ_DELETE},
	};
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		if (strcmp(methods[i].name, method) == 0) {
			*type = methods[i].type;
			return 0;
		}
	}
	return -1;
}

int api_request(struct api *api, const char *method, const char *path, const char *body, api_cb cb,
                void *arg)
{
	enum evhttp_cmd_type type;
	char full[2600];
	if (method_type(method, &type) != 0 ||
	    client_url_join(&api->url, path, full, sizeof(full)) != 0)
		return -1;
	struct api_call *call = calloc(1, sizeof(*call));
	if (call == NULL)
		return -1;
	call->api = api;
	call->cb = cb;
	call->arg = arg;
	snprintf(call->what, sizeof(call->what), "%s %.150s", method, full);
	struct evhttp_connection *conn = connect_api(api);
	struct evhttp_request *req = evhttp_request_new(request_done, call);
	if (conn == NULL || req == NULL) {
		if (req != NULL)
			evhttp_request_free(req);
		if (conn != NULL)
			evhttp_connection_free(conn);
		free(call);
		return -1;
	}
	struct evkeyvalq *headers = evhttp_request_get_output_headers(req);
	evhttp_add_header(headers, "Host", api->host_header);
	evhttp_add_header(headers, "User-Agent", "exposr-cli/" EXPOSR_CLIENT_VERSION);
	evhttp_add_header(headers, "Accept", "application/json");
	/* One connection per call, closed after the answer. */
	evhttp_add_header(headers, "Connection", "close");
	if (api->auth != NULL)
		evhttp_add_header(headers, "Authorization", api->auth);
	if (body != NULL) {
		/* libevent 2.1 adds Content-Length for POST and PUT, not for PATCH. */
		char length[24];
		snprintf(length, sizeof(length), "%zu", strlen(body));
		evhttp_add_header(headers, "Content-Type", "application/json");
		evhttp_add_header(headers, "Content-Length", length);
		evbuffer_add(evhttp_request_get_output_buffer(req), body, strlen(body));
	}
	/* On failure libevent has freed the request. */
	if (evhttp_make_request(conn, req, type, full) != 0) {
		evhttp_connection_free(conn);
		free(call);
		return -1;
	}
	call->conn = conn;
	return 0;
}

struct sync_call {
	bool done;
	struct api_result *out;
};

static void sync_done(void *arg, struct api_result *r)
{
	struct sync_call *s = arg;
	*s->out = *r;
	r->json = NULL; /* moved */
	s->done = true;
}

int api_call(struct api *api, const char *method, const char *path, const char *body,
             struct api_result *r)
{
	struct sync_call s = {.out = r};
	memset(r, 0, sizeof(*r));
	if (api_request(api, method, path, body, sync_done, &s) != 0) {
		snprintf(r->msg, sizeof(r->msg), "%s %s: cannot start the request", method, path);
		return -1;
	}
	while (!s.done)
		if (event_base_loop(api->base, EVLOOP_ONCE) < 0)
			return -1;
	return 0;
}

void api_result_clear(struct api_result *r)
{
	cJSON_Delete(r->json);
	r->json = NULL;
}
