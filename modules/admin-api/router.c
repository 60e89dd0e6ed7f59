/* Which requests the admin API takes, its key check and its routes (docs/api.md §3.2). */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "admin_api.h"
#include "common/base_url.h"
#include "common/bearer.h"
#include "common/path_match.h"
#include "common/request.h"
#include "common/respond.h"

/* Only its own paths, so that the admin interface can share the port (D6). */
bool admin_match(void *self, const struct exposr_http_request *req)
{
	(void)self;
	static const char prefix[] = "/v1/admin";
	return !req->upgrade && strncasecmp(req->path, prefix, sizeof(prefix) - 1) == 0 &&
	       (req->path[sizeof(prefix) - 1] == '\0' || req->path[sizeof(prefix) - 1] == '/');
}

bool admin_not_found_match(void *self, const struct exposr_http_request *req)
{
	(void)self;
	(void)req;
	return true;
}

void admin_not_found(void *self, struct exposr_http_request *req)
{
	struct admin_api *api = self;
	respond_text(api->host, req, 404);
}

enum route {
	ROUTE_NONE,
	ROUTE_ACCOUNT_CREATE,
	ROUTE_ACCOUNT_LIST,
	ROUTE_ACCOUNT_GET,
	ROUTE_ACCOUNT_DELETE,
	ROUTE_ACCOUNT_DISABLE,
	ROUTE_TUNNEL_LIST,
	ROUTE_TUNNEL_GET,
	ROUTE_TUNNEL_DELETE,
	ROUTE_TUNNEL_DISCONNECT,
	ROUTE_CLUSTER,
};

struct route_def {
	const char *method;
	const char *pattern;
	enum route route;
};

static const struct route_def routes[] = {
        {"POST", "/v1/admin/account", ROUTE_ACCOUNT_CREATE},
        {"GET", "/v1/admin/account", ROUTE_ACCOUNT_LIST},
        {"GET", "/v1/admin/account/:account", ROUTE_ACCOUNT_GET},
        {"DELETE", "/v1/admin/account/:account", ROUTE_ACCOUNT_DELETE},
        {"PUT", "/v1/admin/account/:account/disable", ROUTE_ACCOUNT_DISABLE},
        {"GET", "/v1/admin/tunnel", ROUTE_TUNNEL_LIST},
        {"GET", "/v1/admin/tunnel/:id", ROUTE_TUNNEL_GET},
        {"DELETE", "/v1/admin/tunnel/:id", ROUTE_TUNNEL_DELETE},
        {"POST", "/v1/admin/tunnel/:id/disconnect", ROUTE_TUNNEL_DISCONNECT},
        {"GET", "/v1/admin/cluster", ROUTE_CLUSTER},
};

/* `Bearer s3cret` is the usual mistake: 0.12's scheme encodes the key. */
#define KEY_HINT "expected the header Authorization: Bearer <base64 of the admin API key>"

/* The key is compared in constant time; only its length may leak. */
static bool key_matches(const struct admin_api *api, const struct exposr_http_request *req)
{
	char *given;
	size_t len;
	if (bearer_decode(request_header(req, "Authorization"), &given, &len) != 0)
		return false;
	unsigned char diff = len == api->key_len ? 0 : 1;
	for (size_t i = 0; i < len && i < api->key_len; i++)
		diff |= (unsigned char)(given[i] ^ api->key[i]);
	free(given);
	return diff == 0;
}

static void admin_call_release(struct call *base)
{
	struct admin_call *call = (struct admin_call *)base;
	cJSON_Delete(call->ids);
	cJSON_Delete(call->tunnels);
	free(call->cursor);
	free(call->reason);
	free(call);
}

static void dispatch(struct admin_call *call, enum route route, const char *param)
{
	switch (route) {
	case ROUTE_ACCOUNT_CREATE:
		admin_account_create(call);
		break;
	case ROUTE_ACCOUNT_LIST:
		admin_account_list(call);
		break;
	case ROUTE_ACCOUNT_GET:
		admin_account_get(call, param);
		break;
	case ROUTE_ACCOUNT_DELETE:
		admin_account_delete(call, param);
		break;
	case ROUTE_ACCOUNT_DISABLE:
		admin_account_disable(call, param);
		break;
	case ROUTE_TUNNEL_LIST:
		admin_tunnel_list(call);
		break;
	case ROUTE_TUNNEL_GET:
		admin_tunnel_get(call, param);
		break;
	case ROUTE_TUNNEL_DELETE:
		admin_tunnel_delete(call, param);
		break;
	case ROUTE_TUNNEL_DISCONNECT:
		admin_tunnel_disconnect(call, param);
		break;
	case ROUTE_CLUSTER:
		admin_cluster(call);
		break;
	case ROUTE_NONE:
		call_text(&call->call, 404);
		break;
	}
}

void admin_handle(void *self, struct exposr_http_request *req)
{
	struct admin_api *api = self;
	struct path_params params = {0};
	enum route route = ROUTE_NONE;
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]) && route == ROUTE_NONE; i++) {
		if (!request_method_is(req, routes[i].method))
			continue;
		enum path_match_result m = path_match(req->path, routes[i].pattern, &params);
		if (m == PATH_MATCH_ERROR) {
			respond_text(api->host, req, 500);
			return;
		}
		if (m == PATH_MATCH)
			route = routes[i].route;
	}
	/* Authentication comes before any validation; unknown routes stay 404. */
	int refuse = 0;
	if (route != ROUTE_NONE && api->access == ADMIN_ACCESS_CLOSED)
		refuse = 404;
	else if (route != ROUTE_NONE && api->access == ADMIN_ACCESS_KEY && !key_matches(api, req))
		refuse = 403;
	struct url_parts base;
	if (refuse == 0 && !base_url_of_request(req, &base))
		refuse = -400;
	struct admin_call *call = refuse == 0 ? calloc(1, sizeof(*call)) : NULL;
	if (call == NULL) {
		path_params_free(&params);
		if (refuse == -400)
			respond_empty(api->host, req, 400);
		else if (refuse == 403)
			respond_error(api->host, req, 403, "PERMISSION_DENIED", "details",
			              KEY_HINT);
		else
			respond_text(api->host, req, refuse != 0 ? refuse : 500);
		return;
	}
	call->api = api;
	call_begin(&api->calls, &call->call, req, &base, admin_call_release);
	dispatch(call, route, params.count > 0 ? params.value[0] : NULL);
	path_params_free(&params);
}
