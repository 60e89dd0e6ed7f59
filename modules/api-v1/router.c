/* Which requests the API takes (docs/api.md §2.1) and which route answers them. */
#include <string.h>
#include <strings.h>

#include "api_v1.h"
#include "common/base_url.h"
#include "common/call.h"
#include "common/path_match.h"
#include "common/request.h"
#include "common/respond.h"

/* With --api-url, only requests for its host; ordinary requests only (upgrades belong to
 * the websocket endpoint and the ingress). A request without a base URL is taken and
 * answered 400. */
bool api_match(void *self, const struct exposr_http_request *req)
{
	struct api_v1 *api = self;
	/* Paths outside /v1/ are not the API's: the listener answers them 404 JSON. */
	if (req->upgrade || strncasecmp(req->path, "/v1/", 4) != 0)
		return false;
	if (api->filter_host[0] == '\0')
		return true;
	struct url_parts base;
	char host[sizeof(api->filter_host)];
	if (!base_url_of_request(req, &base))
		return true;
	return url_host(&base, host, sizeof(host)) == 0 && strcmp(host, api->filter_host) == 0;
}

static void dispatch(struct api_call *call)
{
	struct exposr_http_request *req = call->call.req;
	struct path_params params;
	enum path_match_result m;
	if ((m = path_match(req->path, "/v1/account", &params)) == PATH_MATCH) {
		if (request_method_is(req, "POST")) {
			route_register(call);
			return;
		}
	} else if ((m = path_match(req->path, "/v1/account/:account/token", &params)) ==
	           PATH_MATCH) {
		if (request_method_is(req, "GET")) {
			route_token(call, params.value[0]);
			path_params_free(&params);
			return;
		}
		path_params_free(&params);
	} else if ((m = path_match(req->path, "/v1/tunnel/:id", &params)) == PATH_MATCH) {
		if (request_method_is(req, "GET") || request_method_is(req, "PUT") ||
		    request_method_is(req, "PATCH") || request_method_is(req, "DELETE")) {
			route_tunnel(call, params.value[0], false);
			path_params_free(&params);
			return;
		}
		path_params_free(&params);
	} else if ((m = path_match(req->path, "/v1/tunnel/:id/disconnect", &params)) ==
	           PATH_MATCH) {
		if (request_method_is(req, "POST")) {
			route_tunnel(call, params.value[0], true);
			path_params_free(&params);
			return;
		}
		path_params_free(&params);
	}
	if (m == PATH_MATCH_ERROR) {
		call_text(&call->call, 500);
		return;
	}
	call_text(&call->call, 404);
}

void api_handle(void *self, struct exposr_http_request *req)
{
	struct api_v1 *api = self;
	struct url_parts base;
	if (!base_url_of_request(req, &base)) {
		respond_empty(api->host, req, 400);
		return;
	}
	struct api_call *call = api_call_new(api, req, &base);
	if (call == NULL) {
		respond_text(api->host, req, 500);
		return;
	}
	dispatch(call);
}
