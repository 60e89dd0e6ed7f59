/* /v1/admin/account…: create, read, delete, disable and list accounts (docs/api.md §3.2).
 * Account numbers are normalised before anything is done with them (D18). */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "admin_api.h"
#include "common/joi.h"
#include "common/json_body.h"
#include "common/tunnel_object.h"

/* {account_id, account_id_hr, tunnels, status, created_at, updated_at} */
static cJSON *account_object(const struct exposr_host *host, const cJSON *record)
{
	const char *id = record_string(record, "id");
	char hr[EXPOSR_ACCOUNT_ID_LEN * 2];
	cJSON *obj = cJSON_CreateObject(), *tunnels = NULL, *status = NULL;
	if (obj == NULL || id == NULL)
		goto fail;
	host->accounts->format_hr(id, hr, sizeof(hr));
	const cJSON *t = record_at(record, "tunnels"), *s = record_at(record, "status");
	tunnels = t != NULL ? cJSON_Duplicate(t, true) : cJSON_CreateArray();
	status = s != NULL ? cJSON_Duplicate(s, true) : cJSON_CreateObject();
	if (cJSON_AddStringToObject(obj, "account_id", id) == NULL ||
	    cJSON_AddStringToObject(obj, "account_id_hr", hr) == NULL || tunnels == NULL ||
	    !cJSON_AddItemToObject(obj, "tunnels", tunnels))
		goto fail;
	tunnels = NULL;
	if (status == NULL || !cJSON_AddItemToObject(obj, "status", status))
		goto fail;
	status = NULL;
	const char *created = record_string(record, "created_at");
	const char *updated = record_string(record, "updated_at");
	if ((created != NULL && cJSON_AddStringToObject(obj, "created_at", created) == NULL) ||
	    (updated != NULL && cJSON_AddStringToObject(obj, "updated_at", updated) == NULL))
		goto fail;
	return obj;
fail:
	cJSON_Delete(tunnels);
	cJSON_Delete(status);
	cJSON_Delete(obj);
	return NULL;
}

static void on_created(void *arg, int status, const struct cJSON *record)
{
	struct admin_call *call = arg;
	if (status != EXPOSR_OK) {
		call_text(&call->call, 503);
		return;
	}
	call_json(&call->call, 201, account_object(call->api->host, record));
}

void admin_account_create(struct admin_call *call)
{
	call->api->host->accounts->create(on_created, call);
}

static void on_got(void *arg, int status, const struct cJSON *record)
{
	struct admin_call *call = arg;
	if (status != EXPOSR_OK) {
		call_json(&call->call, 404, cJSON_CreateObject());
		return;
	}
	call_json(&call->call, 200, account_object(call->api->host, record));
}

void admin_account_get(struct admin_call *call, const char *account)
{
	const struct exposr_host *host = call->api->host;
	if (!host->accounts->normalize(account, call->account_id)) {
		call_json(&call->call, 404, cJSON_CreateObject());
		return;
	}
	host->accounts->get(call->account_id, on_got, call);
}

static void on_removed(void *arg, int status)
{
	struct admin_call *call = arg;
	if (status != EXPOSR_OK) {
		call_json(&call->call, 500, cJSON_CreateObject());
		return;
	}
	call_empty(&call->call, 204);
}

void admin_account_delete(struct admin_call *call, const char *account)
{
	const struct exposr_host *host = call->api->host;
	if (!host->accounts->normalize(account, call->account_id)) {
		call_json(&call->call, 500, cJSON_CreateObject());
		return;
	}
	host->accounts->remove(call->account_id, on_removed, call);
}

static void on_disabled(void *arg, int status, const struct cJSON *record)
{
	struct admin_call *call = arg;
	if (status == EXPOSR_OK)
		call_json(&call->call, 200, account_object(call->api->host, record));
	else
		call_text(&call->call, status == EXPOSR_NOT_FOUND ? 404 : 500);
}

/* JavaScript's string length: UTF-16 code units. */
static size_t js_length(const char *s)
{
	size_t n = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if ((*p & 0xc0) != 0x80)
			n++;
		if ((*p & 0xf8) == 0xf0)
			n++; /* a surrogate pair */
	}
	return n;
}

/* {"disable": <bool, required>, "reason": <string ≤ 256>} */
static bool disable_body(const cJSON *body, int *disable, const char **reason,
                         struct joi_error *err)
{
	static const char *const keys[] = {"disable", "reason", NULL};
	struct joi_label label;
	joi_label_init(&label);
	if (!joi_object(body, &label, err))
		return false;
	size_t saved = joi_label_push_key(&label, "disable");
	const cJSON *value = joi_member(body, "disable");
	if (value == NULL)
		return joi_fail(err, &label, "is required");
	if (!joi_boolean(value, &label, disable, err))
		return false;
	joi_label_pop(&label, saved);
	saved = joi_label_push_key(&label, "reason");
	if (!joi_string(joi_member(body, "reason"), false, &label, reason, err))
		return false;
	if (*reason != NULL && js_length(*reason) > 256)
		return joi_fail(err, &label,
		                "length must be less than or equal to 256 characters long");
	joi_label_pop(&label, saved);
	return joi_known_keys(body, keys, &label, err);
}

void admin_account_disable(struct admin_call *call, const char *account)
{
	const struct exposr_host *host = call->api->host;
	char reason_text[256], field[300];
	cJSON *body = json_body_parse(call->call.req, reason_text, sizeof(reason_text));
	if (body == NULL) {
		snprintf(field, sizeof(field), "content-type: %s", reason_text);
		call_error(&call->call, 400, "BAD_INPUT", "field", field);
		return;
	}
	struct joi_error err = {0};
	int disable;
	const char *reason;
	if (!disable_body(body, &disable, &reason, &err)) {
		cJSON_Delete(body);
		call_error(&call->call, 400, "BAD_INPUT", "field", err.message);
		return;
	}
	if (!host->accounts->normalize(account, call->account_id)) {
		cJSON_Delete(body);
		call_text(&call->call, 404);
		return;
	}
	/* Kept with the call until the service has answered. */
	if (reason != NULL && (call->reason = strdup(reason)) == NULL) {
		cJSON_Delete(body);
		call_text(&call->call, 500);
		return;
	}
	cJSON_Delete(body);
	host->accounts->set_disabled(call->account_id, disable == 1, call->reason, on_disabled,
	                             call);
}

static void on_account_page(void *arg, int status, const struct cJSON *items,
                            const char *next_cursor)
{
	struct admin_call *call = arg;
	if (status != EXPOSR_OK) {
		call_text(&call->call, 500);
		return;
	}
	cJSON *body = cJSON_CreateObject();
	cJSON *accounts = items != NULL ? cJSON_Duplicate(items, true) : cJSON_CreateArray();
	if (body == NULL || accounts == NULL ||
	    (next_cursor != NULL ? cJSON_AddStringToObject(body, "cursor", next_cursor)
	                         : cJSON_AddNullToObject(body, "cursor")) == NULL ||
	    !cJSON_AddItemToObject(body, "accounts", accounts)) {
		cJSON_Delete(accounts);
		cJSON_Delete(body);
		body = NULL;
	}
	call_json(&call->call, 200, body);
}

void admin_account_list(struct admin_call *call)
{
	const char *cursor;
	size_t count;
	bool verbose;
	if (!admin_list_query(call, &cursor, &count, &verbose, &call->cursor))
		return;
	call->api->host->accounts->list(call->cursor, count, verbose, on_account_page, call);
}
