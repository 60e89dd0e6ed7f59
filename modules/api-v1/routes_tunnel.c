/* /v1/tunnel/<id>: GET, PUT, PATCH, DELETE and POST …/disconnect (docs/api.md §2.4–2.6).
 * Input is validated before authentication, as exposrd does. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "api_v1.h"
#include "common/call.h"
#include "common/joi.h"
#include "common/json_body.h"
#include "common/request.h"
#include "common/tunnel_object.h"
#include "common/validate.h"
#include "tunnel_update.h"

/* True for the caller's own tunnel; otherwise the call is answered: storage down, or
 * `http_status` with `code` for a tunnel that is missing or someone else's. */
static bool callers_tunnel(struct api_call *call, int status, const struct cJSON *record,
                           int http_status, const char *code)
{
	if (call_unavailable(&call->call, status))
		return false;
	if (status != EXPOSR_OK || !api_call_owns(call, record)) {
		call_error(&call->call, http_status, code, NULL, NULL);
		return false;
	}
	return true;
}

static void on_get(void *arg, int status, const struct cJSON *record)
{
	struct api_call *call = arg;
	if (!callers_tunnel(call, status, record, 404, "TUNNEL_NOT_FOUND"))
		return;
	call_json(&call->call, 200,
	          tunnel_object_public(call->api->host, record, &call->call.base));
}

static void tunnel_get(struct api_call *call)
{
	call->api->host->tunnels->get(call->tunnel_id, on_get, call);
}

static void on_removed(void *arg, int status)
{
	struct api_call *call = arg;
	if (call_unavailable(&call->call, status))
		return;
	if (status != EXPOSR_OK) {
		call_error(&call->call, 404, "TUNNEL_NOT_FOUND", NULL, NULL);
		return;
	}
	call_empty(&call->call, 204);
}

static void on_delete_get(void *arg, int status, const struct cJSON *record)
{
	struct api_call *call = arg;
	if (!callers_tunnel(call, status, record, 404, "TUNNEL_NOT_FOUND"))
		return;
	call->api->host->tunnels->remove(call->tunnel_id, on_removed, call);
}

static void tunnel_delete(struct api_call *call)
{
	call->api->host->tunnels->get(call->tunnel_id, on_delete_get, call);
}

static void answer_result(struct api_call *call, bool result)
{
	cJSON *body = cJSON_CreateObject();
	if (body != NULL && cJSON_AddBoolToObject(body, "result", result) == NULL) {
		cJSON_Delete(body);
		body = NULL;
	}
	call_json(&call->call, 200, body);
}

static void on_disconnected(void *arg, int status)
{
	answer_result(arg, status == EXPOSR_OK);
}

static void on_disconnect_get(void *arg, int status, const struct cJSON *record)
{
	struct api_call *call = arg;
	if (call_unavailable(&call->call, status))
		return;
	if (status != EXPOSR_OK) {
		call_error(&call->call, 404, "TUNNEL_NOT_FOUND", NULL, NULL);
		return;
	}
	/* Someone else's tunnel: not an error, just nothing disconnected. */
	if (!api_call_owns(call, record)) {
		answer_result(call, false);
		return;
	}
	call->api->host->tunnels->disconnect(call->tunnel_id, EXPOSR_DISCONNECT_REQUESTED,
	                                     on_disconnected, call);
}

static void tunnel_disconnect(struct api_call *call)
{
	call->api->host->tunnels->get(call->tunnel_id, on_disconnect_get, call);
}

static void on_put_get(void *arg, int status, const struct cJSON *record)
{
	struct api_call *call = arg;
	if (!callers_tunnel(call, status, record, 403, "PERMISSION_DENIED"))
		return;
	tunnel_update_start(call, record);
}

/* Whether it was created now, existed already or creation failed, the read decides. */
static void on_put_created(void *arg, int status)
{
	(void)status;
	struct api_call *call = arg;
	call->api->host->tunnels->get(call->tunnel_id, on_put_get, call);
}

static void tunnel_put(struct api_call *call)
{
	call->api->host->tunnels->create(call->tunnel_id, call->account_id, on_put_created, call);
}

static void on_patch_get(void *arg, int status, const struct cJSON *record)
{
	struct api_call *call = arg;
	if (status == EXPOSR_NOT_FOUND) {
		call_error(&call->call, 404, "TUNNEL_NOT_FOUND", NULL, NULL);
		return;
	}
	if (call_unavailable(&call->call, status))
		return;
	if (!api_call_owns(call, record)) {
		call_error(&call->call, 403, "PERMISSION_DENIED", NULL, NULL);
		return;
	}
	tunnel_update_start(call, record);
}

static void tunnel_patch(struct api_call *call)
{
	call->api->host->tunnels->get(call->tunnel_id, on_patch_get, call);
}

static void bad_input(struct api_call *call, const char *field)
{
	call_error(&call->call, 400, "BAD_INPUT", "field", field);
}

/* koa-joi-router's order: the body's content type, the path parameter, the body. */
static bool validate(struct api_call *call, const char *tunnel_id, bool with_body)
{
	struct joi_error err = {0};
	cJSON *body = NULL;
	if (with_body) {
		char reason[256], field[300];
		body = json_body_parse(call->call.req, reason, sizeof(reason));
		if (body == NULL) {
			snprintf(field, sizeof(field), "content-type: %s", reason);
			bad_input(call, field);
			return false;
		}
	}
	if (!tunnel_id_valid(tunnel_id)) {
		cJSON_Delete(body);
		joi_fail_pattern(&err, "tunnel_id", tunnel_id, JOI_TUNNEL_ID_REGEX);
		bad_input(call, err.message);
		return false;
	}
	if (with_body) {
		int rc = tunnel_patch_parse(body, &call->patch, &err);
		cJSON_Delete(body);
		if (rc == EXPOSR_DECLINED) {
			bad_input(call, err.message);
			return false;
		}
		if (rc != EXPOSR_OK) {
			call_text(&call->call, 500);
			return false;
		}
	}
	snprintf(call->tunnel_id, sizeof(call->tunnel_id), "%s", tunnel_id);
	return true;
}

void route_tunnel(struct api_call *call, const char *tunnel_id, bool disconnect)
{
	struct exposr_http_request *req = call->call.req;
	if (disconnect) {
		if (validate(call, tunnel_id, false))
			api_authenticate(call, tunnel_disconnect);
	} else if (request_method_is(req, "GET")) {
		if (validate(call, tunnel_id, false))
			api_authenticate(call, tunnel_get);
	} else if (request_method_is(req, "DELETE")) {
		if (validate(call, tunnel_id, false))
			api_authenticate(call, tunnel_delete);
	} else {
		call->is_put = request_method_is(req, "PUT");
		if (!validate(call, tunnel_id, true))
			return;
		/* A pre-0.5 client's PATCH creates a missing tunnel, as its servers' one handler
		 * for PUT and PATCH did (docs/legacy-clients.md §14.5 C3(a)). */
		api_authenticate(call,
		                 call->is_put || call->patch.legacy ? tunnel_put : tunnel_patch);
	}
}
