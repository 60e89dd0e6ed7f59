/* Small helpers: base64, Authorization words, route paths, query strings, times, bodies. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/b64.h"
#include "common/bearer.h"
#include "common/json_body.h"
#include "common/path_match.h"
#include "iso_time.h"
#include "query.h"

static char *decode(const char *in)
{
	static char out[256];
	size_t n = b64_decode_lenient(in, strlen(in), (unsigned char *)out);
	out[n] = '\0';
	return out;
}

Test(b64, encode_and_lenient_decode)
{
	char t[25];
	cr_assert_eq(
	        EVP_EncodeBlock((unsigned char *)t, (const unsigned char *)"MNF4P6Y6M2MRRVCT", 16),
	        24);
	cr_assert_str_eq(t, "TU5GNFA2WTZNMk1SUlZDVA==");
	cr_assert_str_eq(decode("TU5GNFA2WTZNMk1SUlZDVA=="), "MNF4P6Y6M2MRRVCT");
	cr_assert_str_eq(decode("TU5GNFA2WTZNMk1SUlZDVA"), "MNF4P6Y6M2MRRVCT", "no padding");
	cr_assert_str_eq(decode("TU5G NFA2\nWTZN!Mk1SUlZDVA"), "MNF4P6Y6M2MRRVCT", "junk skipped");
	cr_assert_str_eq(decode("YQ=junk"), "a", "stops at '='");
	cr_assert_str_eq(decode("-_-_"), "\xfb\xff\xbf", "URL-safe alphabet");
	cr_assert_str_eq(decode("Y"), "");
}

Test(bearer, second_word)
{
	char *out;
	size_t len;
	cr_assert_eq(bearer_decode(NULL, &out, &len), -1);
	cr_assert_eq(bearer_decode("Bearer", &out, &len), -1);
	cr_assert_eq(bearer_decode("Bearer ", &out, &len), -1);
	cr_assert_eq(bearer_decode("Bearer  YQ==", &out, &len), -1, "split on single spaces");
	cr_assert_eq(bearer_decode("Anything YWJj extra", &out, &len), 0);
	cr_assert_str_eq(out, "abc");
	free(out);
	cr_assert_eq(bearer_decode("Bearer !!!", &out, &len), 0);
	cr_assert_eq(len, 0);
	free(out);
}

Test(path_match, koa_router_rules)
{
	struct path_params p;
	cr_assert_eq(path_match("/v1/tunnel/abc", "/v1/tunnel/:id", &p), PATH_MATCH);
	cr_assert_eq(p.count, 1);
	cr_assert_str_eq(p.value[0], "abc");
	path_params_free(&p);
	cr_assert_eq(path_match("/V1/Tunnel/abc/", "/v1/tunnel/:id", &p), PATH_MATCH);
	path_params_free(&p);
	cr_assert_eq(path_match("/v1/tunnel/a%20b/disconnect", "/v1/tunnel/:id/disconnect", &p),
	             PATH_MATCH);
	cr_assert_str_eq(p.value[0], "a b");
	path_params_free(&p);
	cr_assert_eq(path_match("/v1/tunnel/a%zzb", "/v1/tunnel/:id", &p), PATH_MATCH);
	cr_assert_str_eq(p.value[0], "a%zzb", "a bad escape stays raw");
	path_params_free(&p);
	cr_assert_eq(path_match("/v1/tunnel/", "/v1/tunnel/:id", &p), PATH_NO_MATCH);
	cr_assert_eq(path_match("/v1/tunnel//", "/v1/tunnel/:id", &p), PATH_NO_MATCH);
	cr_assert_eq(path_match("/v1/tunnel/a/b", "/v1/tunnel/:id", &p), PATH_NO_MATCH);
	cr_assert_eq(path_match("/v1/tunnel/a//", "/v1/tunnel/:id", &p), PATH_NO_MATCH);
	cr_assert_eq(path_match("/v1/account", "/v1/account", &p), PATH_MATCH);
	cr_assert_eq(path_match("/v1/accounts", "/v1/account", &p), PATH_NO_MATCH);
	cr_assert_eq(p.count, 0);
}

Test(query, node_querystring)
{
	struct query q;
	cr_assert_eq(query_parse("count=10&verbose=true&cursor=MTA%3D&x&a+b=c+d&count=2&&", &q), 0);
	const struct query_param *count = query_find(&q, "count");
	cr_assert_not_null(count);
	cr_assert_eq(count->count, 2);
	cr_assert_str_eq(query_find(&q, "cursor")->values[0], "MTA=");
	cr_assert_str_eq(query_find(&q, "x")->values[0], "");
	cr_assert_str_eq(query_find(&q, "a b")->values[0], "c d");
	cr_assert_eq(q.count, 5);
	cr_assert_str_eq(q.params[0].name, "count", "order of first appearance");
	query_free(&q);
	cr_assert_eq(query_parse("", &q), 0);
	cr_assert_eq(q.count, 0);
	query_free(&q);
}

Test(iso_time, to_iso_string)
{
	char out[ISO_TIME_LEN];
	iso_time_format(1707566096789, out);
	cr_assert_str_eq(out, "2024-02-10T11:54:56.789Z");
	iso_time_format(0, out);
	cr_assert_str_eq(out, "1970-01-01T00:00:00.000Z");
}

static cJSON *body(const char *content_type, const char *text, char *reason)
{
	static char length[32];
	snprintf(length, sizeof(length), "%zu", text != NULL ? strlen(text) : 0);
	struct exposr_http_header headers[2] = {{"Content-Type", content_type},
	                                        {"Content-Length", length}};
	struct exposr_http_request req = {
	        .method = "PUT",
	        .headers = headers[0].value != NULL ? headers : headers + 1,
	        .header_count = headers[0].value != NULL ? 2 : 1,
	        .body = text,
	        .body_len = text != NULL ? strlen(text) : 0,
	};
	if (text == NULL)
		req.header_count--; /* no Content-Length: no body at all */
	return json_body_parse(&req, reason, 128);
}

Test(json_body, content_types_and_errors)
{
	char reason[128];
	cJSON *v;
	cr_assert(json_content_type("application/json"));
	cr_assert(json_content_type("Application/JSON; charset=utf-8"));
	cr_assert(json_content_type("application/vnd.api+json"));
	cr_assert_not(json_content_type("text/plain"));
	cr_assert_not(json_content_type("application/jsonx"));
	cr_assert_not(json_content_type("+json"));

	v = body("application/json", "", reason);
	cr_assert(cJSON_IsObject(v) && v->child == NULL, "empty body is {}");
	cJSON_Delete(v);
	v = body("application/json", " [1] ", reason);
	cr_assert(cJSON_IsArray(v));
	cJSON_Delete(v);
	cr_assert_null(body("text/plain", "{}", reason));
	cr_assert_str_eq(reason, "expected json");
	cr_assert_null(body(NULL, "{}", reason));
	cr_assert_str_eq(reason, "expected json");
	cr_assert_null(body("application/json", NULL, reason));
	cr_assert_str_eq(reason, "expected json");
	cr_assert_null(body("application/json", "\"text\"", reason));
	cr_assert_str_eq(reason, "invalid JSON, only supports object and array");
	cr_assert_null(body("application/json", "{\"a\" 1}", reason));
	cr_assert_str_eq(reason, "Unexpected token 1 in JSON at position 5");
	cr_assert_null(body("application/json", "{} x", reason));
	cr_assert_str_eq(reason, "Unexpected token x in JSON at position 3");
	/* A NUL in a string would cut it short: "http://a\u0000b/" was stored as "http://a". */
	cr_assert_null(
	        body("application/json", "{\"target\":{\"url\":\"http://a\\u0000b/\"}}", reason));
	cr_assert_str_eq(reason, "a string holds a NUL character at position 26");
	cr_assert_null(body("application/json", "[\"\\\\\\u0000\"]", reason));
	cr_assert_str_eq(reason, "a string holds a NUL character at position 4");
	v = body("application/json", "{\"a\\u0000\":1}", reason);
	cr_assert_null(v, "a key is a string too");
	v = body("application/json", "{\"a\":\"\\\\u0000\",\"b\":\"\\u0001\"}", reason);
	cr_assert_not_null(v, "an escaped backslash before u0000 is no NUL: %s", reason);
	cr_assert_str_eq(cJSON_GetObjectItem(v, "a")->valuestring, "\\u0000");
	cJSON_Delete(v);
	v = body("application/json", "{\"a\":\"\xff\"}", reason);
	cr_assert_not_null(v);
	cr_assert_str_eq(cJSON_GetObjectItem(v, "a")->valuestring, "\xef\xbf\xbd");
	cJSON_Delete(v);
}
