/* The tunnel as the APIs show it (docs/api.md §2.7 and §3.2), built from a stored record. */
#include "common/tunnel_object.h"

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <exposr/registry.h>
#include <exposr/transport.h>

#include "iso_time.h"

const struct cJSON *record_at(const struct cJSON *record, const char *path)
{
	const cJSON *node = record;
	char key[64];
	while (node != NULL && *path != '\0') {
		size_t len = strcspn(path, ".");
		if (len >= sizeof(key))
			return NULL;
		memcpy(key, path, len);
		key[len] = '\0';
		node = cJSON_IsObject(node) ? cJSON_GetObjectItemCaseSensitive(node, key) : NULL;
		path += len;
		if (*path == '.')
			path++;
	}
	return node;
}

const char *record_string(const struct cJSON *record, const char *path)
{
	const cJSON *node = record_at(record, path);
	return cJSON_IsString(node) ? node->valuestring : NULL;
}

bool record_bool(const struct cJSON *record, const char *path)
{
	return cJSON_IsTrue(record_at(record, path));
}

/* querystring.escape(): everything but A-Z a-z 0-9 - _ . ! ~ * ' ( ) is escaped. */
static int query_escape(const char *in, char *out, size_t size)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;
	for (const unsigned char *p = (const unsigned char *)in; *p != '\0'; p++) {
		bool plain = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		             (*p >= '0' && *p <= '9') || strchr("-_.!~*'()", *p) != NULL;
		if (o + (plain ? 1 : 3) >= size)
			return -1;
		if (plain) {
			out[o++] = (char)*p;
		} else {
			out[o++] = '%';
			out[o++] = hex[*p >> 4];
			out[o++] = hex[*p & 15];
		}
	}
	out[o] = '\0';
	return 0;
}

/* ws[s]://<host of base><path><tunnel id><query><token escaped>. */
static int ws_url(const struct url_parts *base, const char *path, const char *tunnel_id,
                  const char *query, const char *token, char *out, size_t size)
{
	char escaped[512];
	if (query_escape(token, escaped, sizeof(escaped)) != 0)
		return -1;
	int n = snprintf(out, size, "%s://%s%s%s%s%s%s%s",
	                 strcmp(base->scheme, "https") == 0 ? "wss" : "ws", base->hostname,
	                 base->port[0] != '\0' ? ":" : "", base->port, path, tunnel_id, query,
	                 escaped);
	return n >= 0 && (size_t)n < size ? 0 : -1;
}

int ws_endpoint_url(const struct url_parts *base, const char *tunnel_id, const char *token,
                    char *out, size_t size)
{
	return ws_url(base, "/v1/tunnel/", tunnel_id, "/ws-endpoint?t=", token, out, size);
}

static bool add_time(cJSON *obj, const char *key, int64_t ms, bool iso)
{
	if (ms == 0)
		return true; /* unknown: absent */
	if (!iso)
		return cJSON_AddNumberToObject(obj, key, (double)ms) != NULL;
	char text[ISO_TIME_LEN];
	iso_time_format(ms, text);
	return cJSON_AddStringToObject(obj, key, text) != NULL;
}

static cJSON *connection_object(const struct exposr_host *host, const char *tunnel_id, bool admin)
{
	struct exposr_tunnel_state st;
	memset(&st, 0, sizeof(st));
	host->tunnels->state(tunnel_id, &st);
	cJSON *obj = cJSON_CreateObject();
	if (obj == NULL || cJSON_AddBoolToObject(obj, "connected", st.connected) == NULL ||
	    (!admin && cJSON_AddNumberToObject(obj, "connections", st.connections) == NULL) ||
	    !add_time(obj, "connected_at", st.connected_at, admin) ||
	    !add_time(obj, "disconnected_at", st.disconnected_at, admin) ||
	    !add_time(obj, "alive_at", st.alive_at, admin)) {
		cJSON_Delete(obj);
		return NULL;
	}
	return obj;
}

struct describe_ctx {
	const cJSON *record;
	const char *tunnel_id;
	const char *token;
	const char *base_url;
	cJSON *transport;
};

/* Every transport describes itself, in a block named after it that starts with the
 * tunnel's stored `enabled` flag (§2.7). */
static void describe_one(void *arg, const struct exposr_registry_entry *e)
{
	struct describe_ctx *ctx = arg;
	const struct exposr_transport_vtable *vt = e->vtable;
	char path[64];
	int n = snprintf(path, sizeof(path), "transport.%s.enabled", e->name);
	cJSON *block = cJSON_AddObjectToObject(ctx->transport, e->name);
	if (n < 0 || (size_t)n >= sizeof(path) || block == NULL ||
	    cJSON_AddBoolToObject(block, "enabled", record_bool(ctx->record, path)) == NULL)
		return;
	vt->describe(e->instance, ctx->tunnel_id, ctx->token, ctx->base_url, block);
}

static cJSON *transport_object(const struct exposr_host *host, const cJSON *record,
                               const struct url_parts *base, bool admin)
{
	const char *id = record_string(record, "id");
	const char *token = record_string(record, "transport.token");
	cJSON *obj = cJSON_CreateObject();
	if (obj == NULL ||
	    (admin && token != NULL && cJSON_AddStringToObject(obj, "token", token) == NULL) ||
	    cJSON_AddNumberToObject(obj, "max_connections", host->tunnels->max_connections()) ==
	            NULL)
		goto fail;
	if (id == NULL || token == NULL)
		return obj;
	char base_url[URL_HOSTNAME_MAX + URL_SCHEME_MAX + 16];
	if (url_format(base, NULL, base_url, sizeof(base_url)) != 0)
		goto fail;
	struct describe_ctx ctx = {record, id, token, base_url, obj};
	host->registry->each(EXPOSR_KIND_TRANSPORT, describe_one, &ctx);
	return obj;
fail:
	cJSON_Delete(obj);
	return NULL;
}

/* An enabled ingress block as stored, a disabled one as {}. */
static cJSON *public_ingress_block(const cJSON *record, const char *path)
{
	const cJSON *block = record_at(record, path);
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(block, "enabled")))
		return cJSON_Duplicate(block, true);
	return cJSON_CreateObject();
}

static bool add_copy(cJSON *obj, const char *key, const cJSON *value)
{
	cJSON *copy = value != NULL ? cJSON_Duplicate(value, true) : cJSON_CreateObject();
	if (copy == NULL)
		return false;
	if (!cJSON_AddItemToObject(obj, key, copy)) {
		cJSON_Delete(copy);
		return false;
	}
	return true;
}

static bool add_item(cJSON *obj, const char *key, cJSON *item)
{
	if (item == NULL)
		return false;
	if (!cJSON_AddItemToObject(obj, key, item)) {
		cJSON_Delete(item);
		return false;
	}
	return true;
}

static bool add_string_if(cJSON *obj, const char *key, const char *value)
{
	return value == NULL || cJSON_AddStringToObject(obj, key, value) != NULL;
}

/* What the pre-0.5 clients read as `endpoints` (docs/legacy-clients.md §14.5 C4, C5): ws whenever
 * transport.ws is there, whatever its flag (0.1 never sets it), with the URL of their
 * endpoint and the same token; ssh as transport.ssh; no max_connections, which their
 * tunnel-info would print as a transport. */
static cJSON *endpoints_object(const cJSON *record, const cJSON *transport,
                               const struct url_parts *base)
{
	const cJSON *ws = cJSON_GetObjectItemCaseSensitive(transport, "ws");
	const cJSON *ssh = cJSON_GetObjectItemCaseSensitive(transport, "ssh");
	const char *id = record_string(record, "id");
	const char *token = record_string(record, "transport.token");
	cJSON *obj = cJSON_CreateObject();
	if (obj == NULL)
		return NULL;
	if (ws != NULL && id != NULL && token != NULL) {
		char url[1024];
		cJSON *legacy = cJSON_AddObjectToObject(obj, "ws");
		if (legacy == NULL ||
		    !add_copy(legacy, "enabled", cJSON_GetObjectItemCaseSensitive(ws, "enabled")) ||
		    ws_url(base, "/v1/endpoint/ws/", id, "?token=", token, url, sizeof(url)) != 0 ||
		    cJSON_AddStringToObject(legacy, "url", url) == NULL)
			goto fail;
	}
	if (ssh != NULL && !add_copy(obj, "ssh", ssh))
		goto fail;
	return obj;
fail:
	cJSON_Delete(obj);
	return NULL;
}

struct cJSON *tunnel_object_public(const struct exposr_host *host, const struct cJSON *record,
                                   const struct url_parts *base)
{
	const char *id = record_string(record, "id");
	const char *target_url = record_string(record, "target.url");
	cJSON *obj = cJSON_CreateObject(), *transport, *ingress, *target;
	if (obj == NULL || id == NULL || cJSON_AddStringToObject(obj, "id", id) == NULL ||
	    !add_item(obj, "connection", connection_object(host, id, false)) ||
	    !add_item(obj, "transport", transport = transport_object(host, record, base, false)) ||
	    !add_item(obj, "endpoints", endpoints_object(record, transport, base)) ||
	    (ingress = cJSON_AddObjectToObject(obj, "ingress")) == NULL ||
	    !add_item(ingress, "http", public_ingress_block(record, "ingress.http")) ||
	    !add_item(ingress, "sni", public_ingress_block(record, "ingress.sni")) ||
	    (target = cJSON_AddObjectToObject(obj, "target")) == NULL ||
	    !add_string_if(target, "url", target_url) ||
	    /* upstream: target under its pre-0.5 name (C4) */
	    !add_copy(obj, "upstream", target) ||
	    !add_string_if(obj, "created_at", record_string(record, "created_at"))) {
		cJSON_Delete(obj);
		return NULL;
	}
	return obj;
}

struct connections_list {
	cJSON *array;
	bool failed;
};

static bool add_time_if(cJSON *obj, const char *key, int64_t ms)
{
	char iso[ISO_TIME_LEN];
	if (ms == 0)
		return true;
	iso_time_format(ms, iso);
	return cJSON_AddStringToObject(obj, key, iso) != NULL;
}

static void add_connection(void *arg, const struct exposr_tunnel_connection_info *c)
{
	struct connections_list *list = arg;
	cJSON *o = list->failed ? NULL : cJSON_CreateObject();
	if (o == NULL || cJSON_AddStringToObject(o, "connection_id", c->connection_id) == NULL ||
	    cJSON_AddStringToObject(o, "node_id", c->node_id) == NULL ||
	    cJSON_AddStringToObject(o, "peer", c->peer) == NULL ||
	    cJSON_AddBoolToObject(o, "connected", c->connected) == NULL ||
	    !add_time_if(o, "connected_at", c->connected_at) ||
	    !add_time_if(o, "disconnected_at", c->disconnected_at) ||
	    !add_time_if(o, "alive_at", c->alive_at) || !cJSON_AddItemToArray(list->array, o)) {
		cJSON_Delete(o);
		list->failed = true;
	}
}

/* Every connection the tunnel service knows. */
static cJSON *connections_array(const struct exposr_host *host, const char *id)
{
	struct connections_list list = {cJSON_CreateArray(), false};
	if (list.array == NULL)
		return NULL;
	host->tunnels->connections(id, add_connection, &list);
	if (list.failed) {
		cJSON_Delete(list.array);
		return NULL;
	}
	return list.array;
}

struct cJSON *tunnel_object_admin(const struct exposr_host *host, const struct cJSON *record,
                                  const struct url_parts *base)
{
	const char *id = record_string(record, "id");
	cJSON *obj = cJSON_CreateObject();
	if (obj == NULL || id == NULL || cJSON_AddStringToObject(obj, "tunnel_id", id) == NULL ||
	    !add_string_if(obj, "account_id", record_string(record, "account")) ||
	    !add_item(obj, "connection", connection_object(host, id, true)) ||
	    !add_item(obj, "connections", connections_array(host, id)) ||
	    !add_item(obj, "transport", transport_object(host, record, base, true)) ||
	    !add_copy(obj, "ingress", record_at(record, "ingress")) ||
	    !add_copy(obj, "target", record_at(record, "target")) ||
	    !add_string_if(obj, "created_at", record_string(record, "created_at")) ||
	    !add_string_if(obj, "updated_at", record_string(record, "updated_at"))) {
		cJSON_Delete(obj);
		return NULL;
	}
	return obj;
}
