/* The body of PUT/PATCH /v1/tunnel/<id>, validated in Joi's order with Joi's messages:
 * known keys in schema order, depth first, then unknown keys; the first failure wins.
 * The pre-0.5 clients' names `upstream` and `endpoints` are aliases of `target` and
 * `transport` (docs/legacy-clients.md §14.5 C1, C2). */
#include "tunnel_patch.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "common/joi.h"
#include "common/validate.h"

void tunnel_patch_init(struct tunnel_patch *p)
{
	memset(p, 0, sizeof(*p));
	p->http_enabled = p->sni_enabled = p->ws_enabled = p->ssh_enabled = -1;
}

void tunnel_patch_free(struct tunnel_patch *p)
{
	free(p->target_url);
	for (size_t i = 0; i < p->alt_count; i++)
		free(p->alt_names[i]);
	tunnel_patch_init(p);
}

/* Checks `key` of `parent` as an object; *out is NULL when absent. */
static bool child_object(const cJSON *parent, const char *key, struct joi_label *label,
                         struct joi_error *err, const cJSON **out)
{
	*out = joi_member(parent, key);
	size_t saved = joi_label_push_key(label, key);
	bool ok = joi_object(*out, label, err);
	joi_label_pop(label, saved);
	return ok;
}

static bool member_boolean(const cJSON *object, const char *key, struct joi_label *label, int *out,
                           struct joi_error *err)
{
	size_t saved = joi_label_push_key(label, key);
	bool ok = joi_boolean(joi_member(object, key), label, out, err);
	joi_label_pop(label, saved);
	return ok;
}

/* { "enabled": <bool> } */
static bool enabled_block(const cJSON *parent, const char *key, struct joi_label *label, int *out,
                          struct joi_error *err)
{
	static const char *const keys[] = {"enabled", NULL};
	const cJSON *block;
	if (!child_object(parent, key, label, err, &block))
		return false;
	if (block == NULL)
		return true;
	size_t saved = joi_label_push_key(label, key);
	bool ok = member_boolean(block, "enabled", label, out, err) &&
	          joi_known_keys(block, keys, label, err);
	joi_label_pop(label, saved);
	return ok;
}

/* array().max(10).items(string().lowercase().domain()).allow(null); -1 on OOM. */
static int alt_names(const cJSON *value, struct joi_label *label, struct tunnel_patch *out,
                     struct joi_error *err)
{
	if (value == NULL)
		return 0;
	out->alt_names_set = true;
	if (cJSON_IsNull(value))
		return 0;
	if (!cJSON_IsArray(value))
		return joi_fail(err, label, "must be an array") ? 0 : 1;
	size_t index = 0;
	for (const cJSON *item = value->child; item != NULL; item = item->next, index++) {
		size_t saved = joi_label_push_index(label, index);
		const char *name;
		bool ok = joi_string(item, false, label, &name, err);
		char *lower = ok ? strdup(name) : NULL;
		if (ok && lower == NULL) {
			joi_label_pop(label, saved);
			return -1;
		}
		for (char *p = lower; p != NULL && *p != '\0'; p++)
			*p = (char)tolower((unsigned char)*p);
		if (ok && !domain_name_valid(lower))
			ok = joi_fail(err, label, "must contain a valid domain name");
		joi_label_pop(label, saved);
		if (!ok) {
			free(lower);
			return 1;
		}
		bool duplicate = false;
		for (size_t i = 0; i < out->alt_count && !duplicate; i++)
			duplicate = strcmp(out->alt_names[i], lower) == 0;
		if (duplicate || out->alt_count == ALT_NAMES_MAX)
			free(lower); /* beyond the limit: the size check below refuses it */
		else
			out->alt_names[out->alt_count++] = lower;
	}
	if (index > ALT_NAMES_MAX)
		return joi_fail(err, label, "must contain less than or equal to %d items",
		                ALT_NAMES_MAX)
		               ? 0
		               : 1;
	return 0;
}

/* ingress: { http: { enabled, alt_names }, sni: { enabled } } */
static int ingress(const cJSON *body, struct joi_label *label, struct tunnel_patch *out,
                   struct joi_error *err)
{
	static const char *const ingress_keys[] = {"http", "sni", NULL};
	static const char *const http_keys[] = {"enabled", "alt_names", NULL};
	const cJSON *block, *http;
	if (!child_object(body, "ingress", label, err, &block))
		return 1;
	if (block == NULL)
		return 0;
	size_t at_ingress = joi_label_push_key(label, "ingress");
	int rc = 1;
	if (!child_object(block, "http", label, err, &http))
		goto out;
	if (http != NULL) {
		size_t at_http = joi_label_push_key(label, "http");
		size_t at_names;
		if (!member_boolean(http, "enabled", label, &out->http_enabled, err)) {
			joi_label_pop(label, at_http);
			goto out;
		}
		at_names = joi_label_push_key(label, "alt_names");
		rc = alt_names(joi_member(http, "alt_names"), label, out, err);
		joi_label_pop(label, at_names);
		if (rc == 0 && !joi_known_keys(http, http_keys, label, err))
			rc = 1;
		joi_label_pop(label, at_http);
		if (rc != 0)
			goto out;
	}
	rc = enabled_block(block, "sni", label, &out->sni_enabled, err) &&
	                     joi_known_keys(block, ingress_keys, label, err)
	             ? 0
	             : 1;
out:
	joi_label_pop(label, at_ingress);
	return rc;
}

/* target (or its alias upstream): { url: <uri> | null } */
static int target(const cJSON *body, const char *key, struct joi_label *label,
                  struct tunnel_patch *out, struct joi_error *err)
{
	static const char *const keys[] = {"url", NULL};
	const cJSON *block;
	if (!child_object(body, key, label, err, &block))
		return 1;
	if (block == NULL)
		return 0;
	size_t at_target = joi_label_push_key(label, key);
	size_t at_url = joi_label_push_key(label, "url");
	const cJSON *url = joi_member(block, "url");
	const char *text;
	bool ok = joi_string(url, true, label, &text, err) &&
	          (text == NULL || uri_valid(text) || joi_fail(err, label, "must be a valid uri"));
	joi_label_pop(label, at_url);
	ok = ok && joi_known_keys(block, keys, label, err);
	joi_label_pop(label, at_target);
	if (!ok)
		return 1;
	out->target_set = url != NULL;
	if (text != NULL && (out->target_url = strdup(text)) == NULL)
		return -1;
	return 0;
}

/* upstream, target's alias; both names in one body are refused (C2, no client sends
 * that). */
static int upstream(const cJSON *body, struct joi_label *label, struct tunnel_patch *out,
                    struct joi_error *err)
{
	if (joi_member(body, "upstream") != NULL && joi_member(body, "target") != NULL) {
		size_t saved = joi_label_push_key(label, "upstream");
		joi_fail(err, label, "and \"target\" are mutually exclusive");
		joi_label_pop(label, saved);
		return 1;
	}
	return target(body, "upstream", label, out, err);
}

/* transport (or its alias endpoints): { ws: { enabled }, ssh: { enabled } } */
static int transport(const cJSON *body, const char *key, struct joi_label *label,
                     struct tunnel_patch *out, struct joi_error *err)
{
	static const char *const keys[] = {"ws", "ssh", NULL};
	const cJSON *block;
	if (!child_object(body, key, label, err, &block))
		return 1;
	if (block == NULL)
		return 0;
	size_t saved = joi_label_push_key(label, key);
	bool ok = enabled_block(block, "ws", label, &out->ws_enabled, err) &&
	          enabled_block(block, "ssh", label, &out->ssh_enabled, err) &&
	          joi_known_keys(block, keys, label, err);
	joi_label_pop(label, saved);
	return ok ? 0 : 1;
}

/* endpoints.ws and transport.ws (or .ssh) name one property (C2). */
static bool transport_exclusive(const cJSON *body, struct joi_label *label, struct joi_error *err)
{
	const cJSON *endpoints = joi_member(body, "endpoints");
	const cJSON *transport = joi_member(body, "transport");
	static const char *const kinds[] = {"ws", "ssh"};
	if (!cJSON_IsObject(endpoints) || !cJSON_IsObject(transport))
		return true;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (joi_member(endpoints, kinds[i]) == NULL ||
		    joi_member(transport, kinds[i]) == NULL)
			continue;
		size_t saved = joi_label_push_key(label, "endpoints");
		size_t inner = joi_label_push_key(label, kinds[i]);
		joi_fail(err, label, "and \"transport.%s\" are mutually exclusive", kinds[i]);
		joi_label_pop(label, inner);
		joi_label_pop(label, saved);
		return false;
	}
	return true;
}

int tunnel_patch_parse(const struct cJSON *body, struct tunnel_patch *out, struct joi_error *err)
{
	static const char *const keys[] = {"ingress",   "target",    "upstream",
	                                   "transport", "endpoints", NULL};
	struct joi_label label;
	joi_label_init(&label);
	tunnel_patch_init(out);
	int rc;
	if (!cJSON_IsObject(body)) {
		joi_fail(err, &label, "must be of type object");
		return EXPOSR_DECLINED;
	}
	out->legacy = joi_member(body, "upstream") != NULL || joi_member(body, "endpoints") != NULL;
	if ((rc = ingress(body, &label, out, err)) == 0 &&
	    (rc = target(body, "target", &label, out, err)) == 0 &&
	    (rc = upstream(body, &label, out, err)) == 0 &&
	    (rc = transport(body, "transport", &label, out, err)) == 0 &&
	    (rc = transport_exclusive(body, &label, err) ? 0 : 1) == 0 &&
	    (rc = transport(body, "endpoints", &label, out, err)) == 0)
		rc = joi_known_keys(body, keys, &label, err) ? 0 : 1;
	if (rc == 0)
		return EXPOSR_OK;
	tunnel_patch_free(out);
	return rc < 0 ? EXPOSR_ERROR : EXPOSR_DECLINED;
}
