/* /v1/admin/tunnel…: read, delete, disconnect and list any tunnel (docs/api.md §3.2). */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_api.h"
#include "common/joi.h"
#include "common/tunnel_object.h"
#include "common/validate.h"

/* The id is validated after authentication (docs/api.md §1.1). */
static bool valid_id(struct admin_call *call, const char *tunnel_id)
{
	if (!tunnel_id_valid(tunnel_id)) {
		struct joi_error err = {0};
		joi_fail_pattern(&err, "tunnel_id", tunnel_id, JOI_TUNNEL_ID_REGEX);
		call_error(&call->call, 400, "BAD_INPUT", "field", err.message);
		return false;
	}
	snprintf(call->tunnel_id, sizeof(call->tunnel_id), "%s", tunnel_id);
	return true;
}

static void on_got(void *arg, int status, const struct cJSON *record)
{
	struct admin_call *call = arg;
	if (status == EXPOSR_NOT_FOUND)
		call_error(&call->call, 404, "TUNNEL_NOT_FOUND", NULL, NULL);
	else if (status != EXPOSR_OK)
		call_error(&call->call, 500, "TUNNEL_NOT_FOUND", "details", "storage_error");
	else
		call_json(&call->call, 200,
		          tunnel_object_admin(call->api->host, record, &call->call.base));
}

void admin_tunnel_get(struct admin_call *call, const char *tunnel_id)
{
	if (valid_id(call, tunnel_id))
		call->api->host->tunnels->get(call->tunnel_id, on_got, call);
}

static void on_removed(void *arg, int status)
{
	struct admin_call *call = arg;
	if (status == EXPOSR_OK)
		call_empty(&call->call, 204);
	else if (status == EXPOSR_NOT_FOUND)
		call_error(&call->call, 403, "UNKNOWN_ERROR", "details", "no_such_tunnel");
	else
		call_text(&call->call, 403);
}

void admin_tunnel_delete(struct admin_call *call, const char *tunnel_id)
{
	if (valid_id(call, tunnel_id))
		call->api->host->tunnels->remove(call->tunnel_id, on_removed, call);
}

static void answer_detail(struct admin_call *call, int status, const char *details)
{
	cJSON *body = cJSON_CreateObject();
	if (body != NULL && cJSON_AddStringToObject(body, "details", details) == NULL) {
		cJSON_Delete(body);
		body = NULL;
	}
	call_json(&call->call, status, body);
}

static void on_disconnected(void *arg, int status)
{
	struct admin_call *call = arg;
	cJSON *body = cJSON_CreateObject();
	if (body != NULL && cJSON_AddBoolToObject(body, "result", status == EXPOSR_OK) == NULL) {
		cJSON_Delete(body);
		body = NULL;
	}
	call_json(&call->call, 200, body);
}

static void on_disconnect_get(void *arg, int status, const struct cJSON *record)
{
	(void)record;
	struct admin_call *call = arg;
	if (status != EXPOSR_OK) {
		answer_detail(call, 403,
		              status == EXPOSR_NOT_FOUND ? "no_such_tunnel" : "storage_error");
		return;
	}
	call->api->host->tunnels->disconnect(call->tunnel_id, EXPOSR_DISCONNECT_REQUESTED,
	                                     on_disconnected, call);
}

void admin_tunnel_disconnect(struct admin_call *call, const char *tunnel_id)
{
	if (valid_id(call, tunnel_id))
		call->api->host->tunnels->get(call->tunnel_id, on_disconnect_get, call);
}

static void answer_list(struct admin_call *call, cJSON *tunnels)
{
	cJSON *body = cJSON_CreateObject();
	if (body == NULL ||
	    (call->cursor != NULL ? cJSON_AddStringToObject(body, "cursor", call->cursor)
	                          : cJSON_AddNullToObject(body, "cursor")) == NULL ||
	    tunnels == NULL || !cJSON_AddItemToObject(body, "tunnels", tunnels)) {
		cJSON_Delete(tunnels);
		cJSON_Delete(body);
		body = NULL;
	}
	call_json(&call->call, 200, body);
}

static void next_tunnel(struct admin_call *call);

/* A tunnel deleted since it was listed is left out. */
static void on_listed_tunnel(void *arg, int status, const struct cJSON *record)
{
	struct admin_call *call = arg;
	if (status == EXPOSR_OK) {
		cJSON *obj = tunnel_object_admin(call->api->host, record, &call->call.base);
		if (obj == NULL || !cJSON_AddItemToArray(call->tunnels, obj)) {
			cJSON_Delete(obj);
			call_text(&call->call, 500);
			return;
		}
	}
	call->next_id = call->next_id->next;
	next_tunnel(call);
}

/* One tunnel at a time, so the work per page is bounded and nothing runs in parallel. */
static void next_tunnel(struct admin_call *call)
{
	while (call->next_id != NULL && !cJSON_IsString(call->next_id))
		call->next_id = call->next_id->next;
	if (call->next_id == NULL) {
		cJSON *tunnels = call->tunnels;
		call->tunnels = NULL;
		answer_list(call, tunnels);
		return;
	}
	call->api->host->tunnels->get(call->next_id->valuestring, on_listed_tunnel, call);
}

static void on_page(void *arg, int status, const struct cJSON *items, const char *next_cursor)
{
	struct admin_call *call = arg;
	if (status != EXPOSR_OK) {
		call_text(&call->call, 500);
		return;
	}
	/* The request's cursor is not needed any more: keep the next one instead. */
	free(call->cursor);
	call->cursor = next_cursor != NULL ? strdup(next_cursor) : NULL;
	cJSON *ids = items != NULL ? cJSON_Duplicate(items, true) : cJSON_CreateArray();
	if (ids == NULL || (next_cursor != NULL && call->cursor == NULL)) {
		cJSON_Delete(ids);
		call_text(&call->call, 500);
		return;
	}
	if (call->tunnels == NULL) {
		answer_list(call, ids); /* not verbose: the ids themselves */
		return;
	}
	call->ids = ids;
	call->next_id = ids->child;
	next_tunnel(call);
}

void admin_tunnel_list(struct admin_call *call)
{
	const char *cursor;
	size_t count;
	bool verbose;
	if (!admin_list_query(call, &cursor, &count, &verbose, &call->cursor))
		return;
	/* A verbose list collects tunnel objects here; its presence marks the mode. */
	if (verbose && (call->tunnels = cJSON_CreateArray()) == NULL) {
		call_text(&call->call, 500);
		return;
	}
	call->api->host->tunnels->list(cursor, count, on_page, call);
}
