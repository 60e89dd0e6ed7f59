/* The public tunnel object's keys for the pre-0.5 clients (docs/legacy-clients.md §14.5 C4, C5),
 * built against a fake host: a ws and an ssh transport that describe themselves. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include <exposr/registry.h>
#include <exposr/transport.h>

#include "common/base_url.h"
#include "common/tunnel_object.h"

/* As transport-ws does it: the endpoint on the request's host. */
static void ws_describe(void *self, const char *id, const char *token, const char *base, void *json)
{
	(void)self;
	struct url_parts parts;
	char url[256];
	cr_assert(url_parse(base, &parts));
	cr_assert_eq(ws_endpoint_url(&parts, id, token, url, sizeof(url)), 0);
	cJSON_AddStringToObject(json, "url", url);
}

static void ssh_describe(void *self, const char *id, const char *token, const char *base,
                         void *json)
{
	(void)self;
	(void)base;
	cJSON_AddStringToObject(json, "username", id);
	cJSON_AddStringToObject(json, "password", token);
}

static const struct exposr_transport_vtable ws_vt = {sizeof(ws_vt), ws_describe};
static const struct exposr_transport_vtable ssh_vt = {sizeof(ssh_vt), ssh_describe};
static const struct exposr_registry_entry transports[] = {
        {EXPOSR_KIND_TRANSPORT, "ws", &ws_vt, NULL},
        {EXPOSR_KIND_TRANSPORT, "ssh", &ssh_vt, NULL},
};
static size_t first_transport; /* 1: the ws transport is not loaded */

static const struct exposr_registry_entry *fake_find(const char *kind, const char *name)
{
	for (size_t i = first_transport; i < 2; i++)
		if (strcmp(kind, transports[i].kind) == 0 &&
		    (name == NULL || strcmp(name, transports[i].name) == 0))
			return &transports[i];
	return NULL;
}

static void fake_each(const char *kind, void (*fn)(void *, const struct exposr_registry_entry *),
                      void *arg)
{
	for (size_t i = first_transport; i < 2; i++)
		if (strcmp(kind, transports[i].kind) == 0)
			fn(arg, &transports[i]);
}

static unsigned fake_max_connections(void)
{
	return 2;
}

static void fake_state(const char *id, struct exposr_tunnel_state *out)
{
	(void)id;
	memset(out, 0, sizeof(*out));
}

static const struct exposr_registry_api registry = {
        .size = sizeof(registry), .find = fake_find, .each = fake_each};
static const struct exposr_tunnel_api tunnels = {
        .size = sizeof(tunnels), .max_connections = fake_max_connections, .state = fake_state};
static const struct exposr_host host = {
        .size = sizeof(host), .registry = &registry, .tunnels = &tunnels};

static const char record_json[] = "{\"id\":\"demo-tunnel\",\"account\":\"MNF4P6Y6M2MRRVCT\","
                                  "\"transport\":{\"token\":\"a+b\",\"ws\":{\"enabled\":false}},"
                                  "\"ingress\":{\"http\":{\"enabled\":false},\"sni\":{}},"
                                  "\"target\":{\"url\":\"http://127.0.0.1:3000/\"},"
                                  "\"created_at\":\"2021-08-20T09:15:02.117Z\"}";

/* The object for `record_json` as compact JSON; the caller frees it. */
static char *object_text(void)
{
	struct url_parts base;
	cr_assert(base_url_from_headers(NULL, NULL, NULL, "api.test:8080", NULL, &base));
	cJSON *record = cJSON_Parse(record_json);
	cr_assert_not_null(record);
	cJSON *obj = tunnel_object_public(&host, record, &base);
	cr_assert_not_null(obj);
	char *text = cJSON_PrintUnformatted(obj);
	cJSON_Delete(obj);
	cJSON_Delete(record);
	return text;
}

Test(tunnel_object, legacy_keys)
{
	first_transport = 0;
	char *text = object_text();
	cr_assert_str_eq(
	        text,
	        "{\"id\":\"demo-tunnel\",\"connection\":{\"connected\":false,\"connections\":0},"
	        "\"transport\":{\"max_connections\":2,\"ws\":{\"enabled\":false,\"url\":\"ws://"
	        "api.test:8080/v1/tunnel/demo-tunnel/ws-endpoint?t=a%2Bb\"},\"ssh\":{\"enabled\":"
	        "false,\"username\":\"demo-tunnel\",\"password\":\"a+b\"}},"
	        "\"endpoints\":{\"ws\":{\"enabled\":false,\"url\":\"ws://api.test:8080/v1/endpoint/"
	        "ws/demo-tunnel?token=a%2Bb\"},\"ssh\":{\"enabled\":false,\"username\":\"demo-"
	        "tunnel\",\"password\":\"a+b\"}},"
	        "\"ingress\":{\"http\":{},\"sni\":{}},\"target\":{\"url\":\"http://127.0.0.1:3000/"
	        "\"},"
	        "\"upstream\":{\"url\":\"http://127.0.0.1:3000/\"},"
	        "\"created_at\":\"2021-08-20T09:15:02.117Z\"}");
	free(text);
}

Test(tunnel_object, no_ws_transport)
{
	first_transport = 1;
	char *text = object_text();
	cJSON *obj = cJSON_Parse(text);
	free(text);
	char *endpoints = cJSON_PrintUnformatted(cJSON_GetObjectItem(obj, "endpoints"));
	cr_assert_str_eq(endpoints, "{\"ssh\":{\"enabled\":false,\"username\":\"demo-tunnel\","
	                            "\"password\":\"a+b\"}}");
	free(endpoints);
	cJSON_Delete(obj);
}
