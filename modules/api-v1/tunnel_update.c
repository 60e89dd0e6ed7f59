/* Applying a PUT/PATCH to a tunnel (docs/api.md §2.5, §2.9): check the ingresses asked for
 * exist, check and claim alt-names when their set changes, then update the record under
 * the tunnel's lock, recomputing both ingress blocks. */
#include "tunnel_update.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include <exposr/ingress.h>
#include <exposr/registry.h>

#include "altname_check.h"
#include "api_v1.h"
#include "common/call.h"
#include "common/tunnel_object.h"

enum update_failure {
	FAILURE_NONE = 0,
	FAILURE_INGRESS_DISABLED, /* the tunnel asks for an ingress this server does not run */
	FAILURE_OUT_OF_MEMORY,
};

struct tunnel_update {
	struct api_call *call;
	bool has_http, has_sni;
	struct url_parts http_url; /* the tunnel's HTTP ingress URL, when has_http */
	char sni_url[URL_REST_MAX];
	char *names[ALT_NAMES_MAX]; /* the alt-names to store, in request order */
	size_t name_count;
	struct altname_check *check;
	enum update_failure failure;
};

void tunnel_update_free(struct tunnel_update *u)
{
	altname_check_cancel(u->check);
	for (size_t i = 0; i < u->name_count; i++)
		free(u->names[i]);
	free(u);
}

static int ingress_url(const struct exposr_registry_entry *e, const char *tunnel_id, char *out,
                       size_t size)
{
	const struct exposr_ingress_vtable *vt = e->vtable;
	if (vt == NULL || vt->tunnel_url == NULL)
		return EXPOSR_ERROR;
	return vt->tunnel_url(e->instance, tunnel_id, out, size);
}

static bool enabled_after(int requested, const cJSON *record, const char *path)
{
	return requested >= 0 ? requested == 1 : record_bool(record, path);
}

/* Replaces or adds; takes `item` in every case. */
static bool set_item(cJSON *obj, const char *key, cJSON *item)
{
	if (item == NULL)
		return false;
	bool ok = cJSON_GetObjectItemCaseSensitive(obj, key) != NULL
	                  ? cJSON_ReplaceItemInObjectCaseSensitive(obj, key, item)
	                  : cJSON_AddItemToObject(obj, key, item);
	if (!ok)
		cJSON_Delete(item);
	return ok;
}

/* The object at `key`, made one if it is missing or something else. */
static cJSON *object_at(cJSON *parent, const char *key)
{
	cJSON *child = cJSON_GetObjectItemCaseSensitive(parent, key);
	if (cJSON_IsObject(child))
		return child;
	return set_item(parent, key, cJSON_CreateObject())
	               ? cJSON_GetObjectItemCaseSensitive(parent, key)
	               : NULL;
}

static bool set_enabled(cJSON *record, const char *block, const char *kind, int value)
{
	if (value < 0)
		return true;
	cJSON *parent = object_at(record, block);
	cJSON *obj = parent != NULL ? object_at(parent, kind) : NULL;
	return obj != NULL && set_item(obj, "enabled", cJSON_CreateBool(value == 1));
}

static bool add_string_array(cJSON *obj, const char *key, char *const *items, size_t count)
{
	cJSON *array = cJSON_AddArrayToObject(obj, key);
	for (size_t i = 0; array != NULL && i < count; i++) {
		cJSON *s = cJSON_CreateString(items[i]);
		if (s == NULL || !cJSON_AddItemToArray(array, s)) {
			cJSON_Delete(s);
			return false;
		}
	}
	return array != NULL;
}

/* {enabled, url, urls: [url, alt urls...], alt_names} or {enabled:false, urls:[],
 * alt_names} (docs/api.md §2.5); without an HTTP ingress {enabled:false, urls:[],
 * alt_names:[]}. */
static cJSON *http_block(const struct tunnel_update *u, bool enabled)
{
	cJSON *block = cJSON_CreateObject(), *urls;
	char url[URL_REST_MAX + URL_HOSTNAME_MAX * 2];
	if (block == NULL ||
	    cJSON_AddBoolToObject(block, "enabled", enabled && u->has_http) == NULL)
		goto fail;
	if (enabled && u->has_http) {
		if (url_format(&u->http_url, NULL, url, sizeof(url)) != 0 ||
		    cJSON_AddStringToObject(block, "url", url) == NULL ||
		    (urls = cJSON_AddArrayToObject(block, "urls")) == NULL ||
		    !cJSON_AddItemToArray(urls, cJSON_CreateString(url)))
			goto fail;
		for (size_t i = 0; i < u->name_count; i++) {
			cJSON *alt;
			if (url_format(&u->http_url, u->names[i], url, sizeof(url)) != 0 ||
			    (alt = cJSON_CreateString(url)) == NULL)
				goto fail;
			if (!cJSON_AddItemToArray(urls, alt)) {
				cJSON_Delete(alt);
				goto fail;
			}
		}
	} else if (cJSON_AddArrayToObject(block, "urls") == NULL) {
		goto fail;
	}
	if (!add_string_array(block, "alt_names", u->names, u->has_http ? u->name_count : 0))
		goto fail;
	return block;
fail:
	cJSON_Delete(block);
	return NULL;
}

/* {enabled:true, url, urls:[url]} or {enabled:false, urls:[]}. */
static cJSON *sni_block(const struct tunnel_update *u, bool enabled)
{
	bool on = enabled && u->has_sni;
	cJSON *block = cJSON_CreateObject(), *urls;
	if (block == NULL || cJSON_AddBoolToObject(block, "enabled", on) == NULL ||
	    (on && cJSON_AddStringToObject(block, "url", u->sni_url) == NULL) ||
	    (urls = cJSON_AddArrayToObject(block, "urls")) == NULL ||
	    (on && !cJSON_AddItemToArray(urls, cJSON_CreateString(u->sni_url)))) {
		cJSON_Delete(block);
		return NULL;
	}
	return block;
}

/* Runs under the tunnel's lock on a fresh copy of the record. */
static int apply(void *arg, struct cJSON *record)
{
	struct api_call *call = arg;
	struct tunnel_update *u = call->update;
	const struct tunnel_patch *p = &call->patch;
	if (!api_call_owns(call, record))
		return EXPOSR_DECLINED;
	bool http_on = enabled_after(p->http_enabled, record, "ingress.http.enabled");
	bool sni_on = enabled_after(p->sni_enabled, record, "ingress.sni.enabled");
	if ((http_on && !u->has_http) || (sni_on && !u->has_sni)) {
		u->failure = FAILURE_INGRESS_DISABLED;
		return EXPOSR_ERROR;
	}
	cJSON *target = object_at(record, "target"), *ingress = object_at(record, "ingress");
	bool ok = target != NULL && ingress != NULL;
	if (ok && p->target_set) {
		if (p->target_url != NULL)
			ok = set_item(target, "url", cJSON_CreateString(p->target_url));
		else
			cJSON_DeleteItemFromObjectCaseSensitive(target, "url");
	}
	ok = ok && set_enabled(record, "transport", "ws", p->ws_enabled) &&
	     set_enabled(record, "transport", "ssh", p->ssh_enabled) &&
	     set_item(ingress, "http", http_block(u, http_on)) &&
	     set_item(ingress, "sni", sni_block(u, sni_on));
	if (!ok) {
		u->failure = FAILURE_OUT_OF_MEMORY;
		return EXPOSR_ERROR;
	}
	return EXPOSR_OK;
}

static void on_updated(void *arg, int status, const struct cJSON *record)
{
	struct api_call *call = arg;
	if (status == EXPOSR_OK)
		call_json(&call->call, 200,
		          tunnel_object_public(call->api->host, record, &call->call.base));
	else if (status == EXPOSR_NOT_FOUND)
		call_error(&call->call, 404, "TUNNEL_NOT_FOUND", NULL, NULL);
	else if (status == EXPOSR_DECLINED)
		call_error(&call->call, 403, "PERMISSION_DENIED", NULL, NULL);
	else if (call->update->failure == FAILURE_INGRESS_DISABLED)
		call_error(&call->call, 500, "UNKNOWN_ERROR", "detailed",
		           "ingress_administratively_disabled");
	else if (call->update->failure == FAILURE_OUT_OF_MEMORY)
		call_text(&call->call, 500);
	else
		call_unavailable(&call->call, EXPOSR_ERROR);
}

static void write_record(struct api_call *call)
{
	call->api->host->tunnels->update(call->tunnel_id, apply, call, on_updated, call);
}

static void on_claimed(void *arg, int status, const char *conflict)
{
	struct api_call *call = arg;
	if (status == EXPOSR_EXISTS)
		call_error(&call->call, 409, "TUNNEL_INGRESS_BAD_ALT_NAMES", "details",
		           conflict != NULL ? conflict : "");
	else if (status != EXPOSR_OK)
		call_unavailable(&call->call, EXPOSR_ERROR);
	else
		write_record(call);
}

static void claim(struct api_call *call)
{
	struct tunnel_update *u = call->update;
	call->api->host->tunnels->set_alt_names(call->tunnel_id, (const char *const *)u->names,
	                                        u->name_count, on_claimed, call);
}

static void on_checked(void *arg, const char *rejected, bool failed)
{
	struct api_call *call = arg;
	call->update->check = NULL;
	if (failed)
		call_text(&call->call, 500);
	else if (rejected != NULL)
		call_error(&call->call, 400, "TUNNEL_INGRESS_BAD_ALT_NAMES", "details", rejected);
	else
		claim(call);
}

static bool listed(const char *name, const cJSON *array)
{
	const cJSON *item;
	cJSON_ArrayForEach(item, array)
	{
		if (cJSON_IsString(item) && strcmp(item->valuestring, name) == 0)
			return true;
	}
	return false;
}

/* Compared as sets, as exposrd does: a reordering alone needs no DNS and no claims. */
static bool same_names(const struct tunnel_update *u, const cJSON *stored)
{
	const cJSON *item;
	for (size_t i = 0; i < u->name_count; i++)
		if (!listed(u->names[i], stored))
			return false;
	cJSON_ArrayForEach(item, stored)
	{
		bool found = false;
		for (size_t i = 0; cJSON_IsString(item) && i < u->name_count && !found; i++)
			found = strcmp(u->names[i], item->valuestring) == 0;
		if (cJSON_IsString(item) && !found)
			return false;
	}
	return true;
}

static int copy_names(struct tunnel_update *u, const struct tunnel_patch *p, const cJSON *stored)
{
	if (p->alt_names_set) {
		for (size_t i = 0; i < p->alt_count; i++)
			if ((u->names[u->name_count++] = strdup(p->alt_names[i])) == NULL)
				return EXPOSR_ERROR;
		return EXPOSR_OK;
	}
	const cJSON *item;
	cJSON_ArrayForEach(item, stored)
	{
		if (cJSON_IsString(item) && u->name_count < ALT_NAMES_MAX &&
		    (u->names[u->name_count++] = strdup(item->valuestring)) == NULL)
			return EXPOSR_ERROR;
	}
	return EXPOSR_OK;
}

void tunnel_update_start(struct api_call *call, const struct cJSON *record)
{
	const struct exposr_host *host = call->api->host;
	struct tunnel_patch *p = &call->patch;
	struct tunnel_update *u = calloc(1, sizeof(*u));
	if (u == NULL) {
		call_text(&call->call, 500);
		return;
	}
	call->update = u;
	u->call = call;
	const struct exposr_registry_entry *http =
	        host->registry->find(EXPOSR_KIND_INGRESS, "http");
	const struct exposr_registry_entry *sni = host->registry->find(EXPOSR_KIND_INGRESS, "sni");
	u->has_http = http != NULL;
	u->has_sni = sni != NULL;
	/* An old client sends everything in one PATCH and ignores its failure, so an ingress
	 * this server lacks must not cost it its target (docs/legacy-clients.md §14.5 C3(b)). */
	if (p->legacy && !u->has_http && p->http_enabled == 1)
		p->http_enabled = -1;
	if (p->legacy && !u->has_sni && p->sni_enabled == 1)
		p->sni_enabled = -1;
	if ((enabled_after(p->http_enabled, record, "ingress.http.enabled") && !u->has_http) ||
	    (enabled_after(p->sni_enabled, record, "ingress.sni.enabled") && !u->has_sni)) {
		call_error(&call->call, 500, "UNKNOWN_ERROR", "detailed",
		           "ingress_administratively_disabled");
		return;
	}
	char url[URL_REST_MAX];
	if ((u->has_http && (ingress_url(http, call->tunnel_id, url, sizeof(url)) != EXPOSR_OK ||
	                     !url_parse(url, &u->http_url))) ||
	    (u->has_sni &&
	     ingress_url(sni, call->tunnel_id, u->sni_url, sizeof(u->sni_url)) != EXPOSR_OK)) {
		call_error(&call->call, 500, "UNKNOWN_ERROR", "detailed", "ingress_url_failed");
		return;
	}
	const cJSON *stored = record_at(record, "ingress.http.alt_names");
	bool changed;
	if (u->has_http) {
		if (copy_names(u, p, stored) != EXPOSR_OK) {
			call_text(&call->call, 500);
			return;
		}
		changed = !same_names(u, stored);
	} else {
		/* Without an HTTP ingress alt-names mean nothing: any held are released. */
		changed = cJSON_GetArraySize(stored) > 0;
	}
	if (!changed) {
		write_record(call);
	} else if (u->name_count == 0) {
		claim(call);
	} else {
		u->check = altname_check_start(call->api->resolver, u->http_url.hostname,
		                               (const char *const *)u->names, u->name_count,
		                               on_checked, call);
		if (u->check == NULL)
			call_text(&call->call, 500);
	}
}
