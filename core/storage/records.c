/* Account and tunnel records as stored (docs/storage.md §8.1), described by one schema per
 * kind so that defaults, merging and field order come from the same table. */
#include "records.h"

#include <stdlib.h>
#include <string.h>

enum field_type {
	FIELD_STRING,  /* absent by default */
	FIELD_BOOL,    /* false by default */
	FIELD_NUMBER,  /* `number` by default */
	FIELD_STRINGS, /* an array of strings, [] by default */
	FIELD_OBJECT,  /* always present, merged key by key */
};

struct field {
	const char *name;
	enum field_type type;
	const struct field *fields; /* FIELD_OBJECT: its members, NULL-name terminated */
	double number;
};

/* One line per kind of field. */
/* clang-format off */
#define STRING(n) {.name = (n), .type = FIELD_STRING}
#define BOOL(n) {.name = (n), .type = FIELD_BOOL}
#define NUMBER(n, def) {.name = (n), .type = FIELD_NUMBER, .number = (def)}
#define STRINGS(n) {.name = (n), .type = FIELD_STRINGS}
#define OBJECT(n, f) {.name = (n), .type = FIELD_OBJECT, .fields = (f)}
#define END {.name = NULL}
/* clang-format on */

static const struct field enabled_only[] = {BOOL("enabled"), END};

static const struct field tunnel_transport[] = {
        STRING("token"),
        NUMBER("max_connections", 1),
        OBJECT("ws", enabled_only),
        OBJECT("ssh", enabled_only),
        END,
};

static const struct field tunnel_ingress_http[] = {
        BOOL("enabled"), STRING("url"), STRINGS("urls"), STRINGS("alt_names"), END,
};

/* docs/api.md §2.5: an enabled SNI block carries its url like the HTTP one. */
static const struct field tunnel_ingress_sni[] = {
        BOOL("enabled"),
        STRING("url"),
        STRINGS("urls"),
        END,
};

static const struct field tunnel_ingress[] = {
        OBJECT("http", tunnel_ingress_http),
        OBJECT("sni", tunnel_ingress_sni),
        END,
};

static const struct field tunnel_target[] = {STRING("url"), END};

static const struct field tunnel_fields[] = {
        OBJECT("transport", tunnel_transport),
        OBJECT("ingress", tunnel_ingress),
        OBJECT("target", tunnel_target),
        STRING("id"),
        STRING("account"),
        STRING("created_at"),
        STRING("updated_at"),
        END,
};

static const struct field account_status[] = {
        BOOL("disabled"),
        STRING("disabled_at"),
        STRING("disabled_reason"),
        END,
};

static const struct field account_fields[] = {
        STRING("accountId"),
        STRING("id"),
        STRING("created_at"),
        STRING("updated_at"),
        STRINGS("tunnels"),
        OBJECT("status", account_status),
        END,
};

static const struct field *schema_of(enum record_kind kind)
{
	return kind == RECORD_ACCOUNT ? account_fields : tunnel_fields;
}

const char *records_namespace(enum record_kind kind)
{
	return kind == RECORD_ACCOUNT ? "account" : "tunnel";
}

static cJSON *copy_strings(const cJSON *src)
{
	cJSON *out = cJSON_CreateArray();
	if (out == NULL || !cJSON_IsArray(src))
		return out;
	const cJSON *item;
	cJSON_ArrayForEach(item, src)
	{
		if (!cJSON_IsString(item))
			continue;
		cJSON *s = cJSON_CreateString(item->valuestring);
		if (s == NULL || !cJSON_AddItemToArray(out, s)) {
			cJSON_Delete(s);
			cJSON_Delete(out);
			return NULL;
		}
	}
	return out;
}

/* The value of one field: the source's if it has the schema's type, else the default.
 * *absent is set for a string field that stays undefined. */
static cJSON *merge_field(const struct field *f, const cJSON *src, bool *absent);

static cJSON *merge_object(const struct field *fields, const cJSON *src)
{
	cJSON *out = cJSON_CreateObject();
	if (out == NULL)
		return NULL;
	for (const struct field *f = fields; f->name != NULL; f++) {
		const cJSON *s =
		        cJSON_IsObject(src) ? cJSON_GetObjectItemCaseSensitive(src, f->name) : NULL;
		bool absent = false;
		cJSON *v = merge_field(f, s, &absent);
		if (absent)
			continue;
		if (v == NULL || !cJSON_AddItemToObject(out, f->name, v)) {
			cJSON_Delete(v);
			cJSON_Delete(out);
			return NULL;
		}
	}
	return out;
}

static cJSON *merge_field(const struct field *f, const cJSON *src, bool *absent)
{
	switch (f->type) {
	case FIELD_STRING:
		if (!cJSON_IsString(src)) {
			*absent = true;
			return NULL;
		}
		return cJSON_CreateString(src->valuestring);
	case FIELD_BOOL:
		return cJSON_CreateBool(cJSON_IsBool(src) ? cJSON_IsTrue(src) : false);
	case FIELD_NUMBER:
		return cJSON_CreateNumber(cJSON_IsNumber(src) ? src->valuedouble : f->number);
	case FIELD_STRINGS:
		return copy_strings(src);
	case FIELD_OBJECT:
		return merge_object(f->fields, src);
	}
	return NULL;
}

cJSON *records_normalize(enum record_kind kind, const cJSON *src)
{
	return merge_object(schema_of(kind), src);
}

cJSON *records_parse(enum record_kind kind, const char *json, size_t len)
{
	if (json == NULL)
		return NULL;
	cJSON *parsed = cJSON_ParseWithLength(json, len);
	cJSON *out = cJSON_IsObject(parsed) ? records_normalize(kind, parsed) : NULL;
	cJSON_Delete(parsed);
	return out;
}

char *records_serialize(enum record_kind kind, const cJSON *record)
{
	cJSON *canonical = records_normalize(kind, record);
	if (canonical == NULL)
		return NULL;
	char *text = cJSON_PrintUnformatted(canonical);
	cJSON_Delete(canonical);
	return text;
}

cJSON *records_account_new(const char *account_id, const char *now_iso)
{
	cJSON *src = cJSON_CreateObject();
	cJSON *out = NULL;
	if (src != NULL && records_set_string(src, "accountId", account_id) == EXPOSR_OK &&
	    records_set_string(src, "id", account_id) == EXPOSR_OK &&
	    records_set_string(src, "created_at", now_iso) == EXPOSR_OK &&
	    records_set_string(src, "updated_at", now_iso) == EXPOSR_OK)
		out = records_normalize(RECORD_ACCOUNT, src);
	cJSON_Delete(src);
	return out;
}

cJSON *records_tunnel_new(const char *tunnel_id, const char *account_id, const char *token,
                          const char *now_iso)
{
	cJSON *src = cJSON_CreateObject();
	cJSON *transport = cJSON_AddObjectToObject(src, "transport");
	cJSON *out = NULL;
	if (transport != NULL && records_set_string(transport, "token", token) == EXPOSR_OK &&
	    records_set_string(src, "id", tunnel_id) == EXPOSR_OK &&
	    records_set_string(src, "account", account_id) == EXPOSR_OK &&
	    records_set_string(src, "created_at", now_iso) == EXPOSR_OK &&
	    records_set_string(src, "updated_at", now_iso) == EXPOSR_OK)
		out = records_normalize(RECORD_TUNNEL, src);
	cJSON_Delete(src);
	return out;
}

cJSON *records_account_summary(const cJSON *account)
{
	static const char *const keys[] = {"accountId", "id", "tunnels", "status"};
	cJSON *out = cJSON_CreateObject();
	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(account, keys[i]);
		if (v == NULL)
			continue;
		cJSON *copy = cJSON_Duplicate(v, true);
		if (copy == NULL || !cJSON_AddItemToObject(out, keys[i], copy)) {
			cJSON_Delete(copy);
			cJSON_Delete(out);
			return NULL;
		}
	}
	return out;
}

cJSON *records_at(const cJSON *record, const char *path)
{
	const cJSON *node = record;
	const char *p = path;
	while (node != NULL && *p != '\0') {
		const char *dot = strchr(p, '.');
		size_t len = dot != NULL ? (size_t)(dot - p) : strlen(p);
		char name[64];
		if (len >= sizeof(name) || !cJSON_IsObject(node))
			return NULL;
		memcpy(name, p, len);
		name[len] = '\0';
		node = cJSON_GetObjectItemCaseSensitive(node, name);
		p += len + (dot != NULL ? 1 : 0);
	}
	return (cJSON *)node;
}

const char *records_string(const cJSON *record, const char *path)
{
	const cJSON *v = records_at(record, path);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

int records_set_string(cJSON *object, const char *key, const char *value)
{
	if (!cJSON_IsObject(object))
		return EXPOSR_ERROR;
	if (value == NULL) {
		cJSON_DeleteItemFromObjectCaseSensitive(object, key);
		return EXPOSR_OK;
	}
	cJSON *s = cJSON_CreateString(value);
	if (s == NULL)
		return EXPOSR_ERROR;
	/* cJSON_HasObjectItem ignores case; record keys do not. */
	bool ok = cJSON_GetObjectItemCaseSensitive(object, key) != NULL
	                  ? cJSON_ReplaceItemInObjectCaseSensitive(object, key, s)
	                  : cJSON_AddItemToObject(object, key, s);
	if (!ok) {
		cJSON_Delete(s);
		return EXPOSR_ERROR;
	}
	return EXPOSR_OK;
}
