/* API calls of the load client (see api_client.h). */
#include "api_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#define API_TIMEOUT_S 30
#define MAX_BODY      (64 * 1024)

struct api_client {
	struct event_base *base;
	struct evhttp_connection **conns;
	int nconns, next;
	char host[300];
};

struct api_call {
	api_done_cb cb;
	void *arg;
};

struct api_client *api_client_new(struct event_base *base, const char *host, int port,
                                  int connections)
{
	struct api_client *api = calloc(1, sizeof(*api));
	if (api == NULL)
		return NULL;
	api->base = base;
	snprintf(api->host, sizeof(api->host), "%s:%d", host, port);
	api->conns = calloc((size_t)connections, sizeof(*api->conns));
	if (api->conns == NULL)
		goto fail;
	for (; api->nconns < connections; api->nconns++) {
		struct evhttp_connection *c =
		        evhttp_connection_base_new(base, NULL, host, (unsigned short)port);
		if (c == NULL)
			goto fail;
		evhttp_connection_set_timeout(c, API_TIMEOUT_S);
		evhttp_connection_set_retries(c, 2);
		evhttp_connection_set_max_body_size(c, MAX_BODY);
		api->conns[api->nconns] = c;
	}
	return api;
fail:
	api_client_free(api);
	return NULL;
}

void api_client_free(struct api_client *api)
{
	if (api == NULL)
		return;
	for (int i = 0; i < api->nconns; i++)
		evhttp_connection_free(api->conns[i]);
	free(api->conns);
	free(api);
}

const char *api_client_host(const struct api_client *api)
{
	return api->host;
}

static void request_done(struct evhttp_request *req, void *arg)
{
	struct api_call *call = arg;
	int status = 0;
	char body[MAX_BODY + 1];
	size_t len = 0;
	if (req != NULL) {
		status = evhttp_request_get_response_code(req);
		struct evbuffer *in = evhttp_request_get_input_buffer(req);
		len = evbuffer_get_length(in);
		if (len > MAX_BODY)
			len = MAX_BODY;
		evbuffer_copyout(in, body, len);
	}
	body[len] = '\0';
	call->cb(call->arg, status, body, len);
	free(call);
}

int api_client_request(struct api_client *api, const char *method, const char *path,
                       const char *token, const char *json_body, api_done_cb cb, void *arg)
{
	enum evhttp_cmd_type type;
	if (strcmp(method, "GET") == 0)
		type = EVHTTP_REQ_GET;
	else if (strcmp(method, "POST") == 0)
		type = EVHTTP_REQ_POST;
	else if (strcmp(method, "PUT") == 0)
		type = EVHTTP_REQ_PUT;
	else if (strcmp(method, "PATCH") == 0)
		type = EVHTTP_REQ_PATCH;
	else
		return -1;
	struct api_call *call = malloc(sizeof(*call));
	if (call == NULL)
		return -1;
	call->cb = cb;
	call->arg = arg;
	struct evhttp_request *req = evhttp_request_new(request_done, call);
	if (req == NULL) {
		free(call);
		return -1;
	}
	struct evkeyvalq *headers = evhttp_request_get_output_headers(req);
	evhttp_add_header(headers, "Host", api->host);
	evhttp_add_header(headers, "User-Agent", "exposr-cli/bench");
	if (token != NULL) {
		char auth[256];
		snprintf(auth, sizeof(auth), "Bearer %s", token);
		evhttp_add_header(headers, "Authorization", auth);
	}
	if (json_body != NULL) {
		/* libevent 2.1 adds Content-Length for POST and PUT, not for PATCH. */
		char length[24];
		snprintf(length, sizeof(length), "%zu", strlen(json_body));
		evhttp_add_header(headers, "Content-Type", "application/json");
		evhttp_add_header(headers, "Content-Length", length);
		evbuffer_add(evhttp_request_get_output_buffer(req), json_body, strlen(json_body));
	}
	struct evhttp_connection *conn = api->conns[api->next];
	api->next = (api->next + 1) % api->nconns;
	/* On failure libevent has freed the request, and with it the callback's chance. */
	if (evhttp_make_request(conn, req, type, path) != 0) {
		free(call);
		return -1;
	}
	return 0;
}
