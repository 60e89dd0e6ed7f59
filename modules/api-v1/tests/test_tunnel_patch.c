/* The PUT/PATCH body schema: accepted shapes and Joi's messages in Joi's order. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>

#include "common/joi.h"
#include "tunnel_patch.h"

static const char *message(const char *json)
{
	static struct joi_error err;
	struct tunnel_patch p;
	memset(&err, 0, sizeof(err));
	cJSON *body = cJSON_Parse(json);
	cr_assert_not_null(body, "test JSON: %s", json);
	int rc = tunnel_patch_parse(body, &p, &err);
	cJSON_Delete(body);
	if (rc == EXPOSR_OK) {
		tunnel_patch_free(&p);
		return NULL;
	}
	cr_assert_eq(rc, EXPOSR_DECLINED);
	return err.message;
}

#define REFUSED(json, expected)                                                                    \
	do {                                                                                       \
		const char *m = message(json);                                                     \
		cr_assert_not_null(m, "accepted: %s", json);                                       \
		cr_assert_str_eq(m, expected);                                                     \
	} while (0)

Test(tunnel_patch, accepted)
{
	struct tunnel_patch p;
	struct joi_error err = {0};
	cJSON *body = cJSON_Parse(
	        "{\"target\":{\"url\":\"http://example.com/\"},"
	        "\"ingress\":{\"http\":{\"enabled\":\"TRUE\",\"alt_names\":[\"A.Example.com\","
	        "\"b.example.com\",\"a.example.com\"]},\"sni\":{\"enabled\":false}},"
	        "\"transport\":{\"ws\":{\"enabled\":true},\"ssh\":{}}}");
	cr_assert_eq(tunnel_patch_parse(body, &p, &err), EXPOSR_OK);
	cr_assert_eq(p.http_enabled, 1);
	cr_assert_eq(p.sni_enabled, 0);
	cr_assert_eq(p.ws_enabled, 1);
	cr_assert_eq(p.ssh_enabled, -1);
	cr_assert(p.target_set);
	cr_assert_str_eq(p.target_url, "http://example.com/");
	cr_assert(p.alt_names_set);
	cr_assert_eq(p.alt_count, 2, "lower-cased, duplicates dropped");
	cr_assert_str_eq(p.alt_names[0], "a.example.com");
	cr_assert_str_eq(p.alt_names[1], "b.example.com");
	tunnel_patch_free(&p);
	cJSON_Delete(body);

	body = cJSON_Parse(
	        "{\"target\":{\"url\":null},\"ingress\":{\"http\":{\"alt_names\":null}}}");
	cr_assert_eq(tunnel_patch_parse(body, &p, &err), EXPOSR_OK);
	cr_assert(p.target_set);
	cr_assert_null(p.target_url);
	cr_assert(p.alt_names_set);
	cr_assert_eq(p.alt_count, 0);
	tunnel_patch_free(&p);
	cJSON_Delete(body);

	cr_assert_null(message("{}"));
	cr_assert_null(message("{\"target\":{}}"));
}

Test(tunnel_patch, messages)
{
	REFUSED("[]", "\"value\" must be of type object");
	REFUSED("{\"foo\":1}", "\"foo\" is not allowed");
	REFUSED("{\"target\":null}", "\"target\" must be of type object");
	REFUSED("{\"target\":{\"url\":5}}", "\"target.url\" must be a string");
	REFUSED("{\"target\":{\"url\":\"\"}}", "\"target.url\" is not allowed to be empty");
	REFUSED("{\"target\":{\"url\":\"example.com\"}}", "\"target.url\" must be a valid uri");
	REFUSED("{\"target\":{\"uri\":\"x\"}}", "\"target.uri\" is not allowed");
	REFUSED("{\"ingress\":{\"http\":{\"enabled\":1}}}",
	        "\"ingress.http.enabled\" must be a boolean");
	REFUSED("{\"ingress\":{\"http\":{\"enabled\":\"yes\"}}}",
	        "\"ingress.http.enabled\" must be a boolean");
	REFUSED("{\"ingress\":{\"http\":{\"alt_names\":\"a.com\"}}}",
	        "\"ingress.http.alt_names\" must be an array");
	REFUSED("{\"ingress\":{\"http\":{\"alt_names\":[\"a.com\",7]}}}",
	        "\"ingress.http.alt_names[1]\" must be a string");
	REFUSED("{\"ingress\":{\"http\":{\"alt_names\":[\"localhost\"]}}}",
	        "\"ingress.http.alt_names[0]\" must contain a valid domain name");
	REFUSED("{\"ingress\":{\"http\":{\"alt_names\":[\"a1.com\",\"a2.com\",\"a3.com\",\"a4."
	        "com\","
	        "\"a5.com\",\"a6.com\",\"a7.com\",\"a8.com\",\"a9.com\",\"a10.com\",\"a11.com\"]}}"
	        "}",
	        "\"ingress.http.alt_names\" must contain less than or equal to 10 items");
	REFUSED("{\"ingress\":{\"https\":{}}}", "\"ingress.https\" is not allowed");
	REFUSED("{\"ingress\":{\"sni\":{\"enabled\":null}}}",
	        "\"ingress.sni.enabled\" must be a boolean");
	REFUSED("{\"transport\":{\"ws\":{\"enabled\":true,\"x\":1}}}",
	        "\"transport.ws.x\" is not allowed");
	REFUSED("{\"transport\":{\"ssh\":[]}}", "\"transport.ssh\" must be of type object");
	/* Known keys in schema order come before unknown keys, at every level. */
	REFUSED("{\"zzz\":1,\"transport\":{\"ws\":{\"enabled\":2}}}",
	        "\"transport.ws.enabled\" must be a boolean");
	REFUSED("{\"transport\":{\"ws\":{\"enabled\":2}},\"target\":{\"url\":1}}",
	        "\"target.url\" must be a string");
	REFUSED("{\"ingress\":{\"x\":1,\"sni\":{\"enabled\":3}}}",
	        "\"ingress.sni.enabled\" must be a boolean");
}

/* The pre-0.5 clients' names (docs/legacy-clients.md §14.5 C1, C2). */
Test(tunnel_patch, legacy_aliases)
{
	struct tunnel_patch p;
	struct joi_error err = {0};
	cJSON *body =
	        cJSON_Parse("{\"upstream\":{\"url\":\"http://127.0.0.1:3000/\"},"
	                    "\"endpoints\":{\"ws\":{\"enabled\":true},\"ssh\":{\"enabled\":false}},"
	                    "\"ingress\":{\"http\":{\"enabled\":true}}}");
	cr_assert_eq(tunnel_patch_parse(body, &p, &err), EXPOSR_OK);
	cr_assert(p.legacy);
	cr_assert(p.target_set);
	cr_assert_str_eq(p.target_url, "http://127.0.0.1:3000/");
	cr_assert_eq(p.ws_enabled, 1);
	cr_assert_eq(p.ssh_enabled, 0);
	cr_assert_eq(p.http_enabled, 1);
	tunnel_patch_free(&p);
	cJSON_Delete(body);

	body = cJSON_Parse("{\"target\":{\"url\":\"http://a.test/\"},\"transport\":{}}");
	cr_assert_eq(tunnel_patch_parse(body, &p, &err), EXPOSR_OK);
	cr_assert_not(p.legacy);
	tunnel_patch_free(&p);
	cJSON_Delete(body);

	/* Different properties through the two names are fine. */
	cr_assert_null(message("{\"endpoints\":{\"ws\":{\"enabled\":true}},"
	                       "\"transport\":{\"ssh\":{\"enabled\":true}}}"));
	REFUSED("{\"upstream\":{\"url\":\"no uri\"}}", "\"upstream.url\" must be a valid uri");
	REFUSED("{\"upstream\":{\"url\":\"a:\"},\"target\":{\"url\":\"b:\"}}",
	        "\"upstream\" and \"target\" are mutually exclusive");
	REFUSED("{\"endpoints\":{\"ws\":{\"enabled\":true}},\"transport\":{\"ws\":{\"enabled\":1}}"
	        "}",
	        "\"transport.ws.enabled\" must be a boolean");
	REFUSED("{\"endpoints\":{\"ws\":{}},\"transport\":{\"ws\":{}}}",
	        "\"endpoints.ws\" and \"transport.ws\" are mutually exclusive");
	REFUSED("{\"endpoints\":{\"token\":\"x\"}}", "\"endpoints.token\" is not allowed");
	REFUSED("{\"endpoints\":{\"ws\":{\"enabled\":\"maybe\"}}}",
	        "\"endpoints.ws.enabled\" must be a boolean");
	REFUSED("{\"upstream\":{\"url\":\"http://a.test/\",\"x\":1}}",
	        "\"upstream.x\" is not allowed");
	REFUSED("{\"upstream\":[]}", "\"upstream\" must be of type object");
}
