/* What the API modules read from a request: the JSON body reader and the tunnel PUT/PATCH
 * validation behind it, URLs, base64 bearer tokens, route paths and query strings. The
 * first byte picks the reader; the rest is its input. */
#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/b64.h"
#include "common/bearer.h"
#include "common/joi.h"
#include "common/json_body.h"
#include "common/path_match.h"
#include "percent_decode.h"
#include "query.h"
#include "tunnel_patch.h"
#include "whatwg_url.h"

static void check(bool ok)
{
	if (!ok)
		abort();
}

static void body(const char *text, size_t len)
{
	char length[32];
	snprintf(length, sizeof(length), "%zu", len);
	struct exposr_http_header headers[] = {{"Content-Type", "application/json"},
	                                       {"Content-Length", length}};
	struct exposr_http_request req = {.method = "PATCH",
	                                  .headers = headers,
	                                  .header_count = 2,
	                                  .body = text,
	                                  .body_len = len};
	char reason[256];
	cJSON *json = json_body_parse(&req, reason, sizeof(reason));
	if (json == NULL) {
		check(strlen(reason) < sizeof(reason));
		return;
	}
	struct tunnel_patch patch;
	struct joi_error err = {0};
	tunnel_patch_init(&patch);
	int rc = tunnel_patch_parse(json, &patch, &err);
	check(rc == EXPOSR_OK || rc == EXPOSR_DECLINED);
	tunnel_patch_free(&patch);
	cJSON_Delete(json);
}

static void url(const char *text)
{
	struct url_parts u;
	char host[URL_HOSTNAME_MAX + 8], out[4096];
	if (!url_parse(text, &u))
		return;
	url_host(&u, host, sizeof(host));
	url_format(&u, NULL, out, sizeof(out));
	url_format(&u, "target.test", out, sizeof(out));
}

static void base64(const char *text, size_t len)
{
	unsigned char *out = malloc(B64_DECODED_MAX(len) + 1);
	check(out != NULL);
	size_t decoded = b64_decode_lenient(text, len, out);
	check(decoded <= B64_DECODED_MAX(len));
	char *again = malloc((decoded + 2) / 3 * 4 + 1);
	check(again != NULL);
	EVP_EncodeBlock((unsigned char *)again, out, (int)decoded);
	free(again);
	free(out);
	char *token = NULL;
	size_t token_len = 0;
	if (bearer_decode(text, &token, &token_len) == 0)
		free(token);
}

static void route(const char *text)
{
	static const char *const patterns[] = {"/v1/tunnel/:id", "/v1/tunnel/:id/disconnect",
	                                       "/v1/account/:id/token", "/v1/admin/tunnel"};
	for (size_t i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++) {
		struct path_params params;
		if (path_match(text, patterns[i], &params) == PATH_MATCH)
			path_params_free(&params);
	}
	free(percent_decode(text, strlen(text)));
	struct query q;
	if (query_parse(text, &q) == EXPOSR_OK) {
		const struct query_param *count = query_find(&q, "count");
		if (count != NULL) {
			struct joi_label label;
			struct joi_error err = {0};
			long n = 0;
			joi_label_init(&label);
			if (joi_query_integer((const char *const *)count->values, count->count, 1,
			                      100, &label, &n, &err))
				check(n >= 1 && n <= 100);
		}
		query_free(&q);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	size_t len = size - 1;
	char *text = malloc(len + 1);
	check(text != NULL);
	memcpy(text, data + 1, len);
	text[len] = '\0';
	switch (data[0] % 4) {
	case 0:
		body(text, len);
		break;
	case 1:
		url(text);
		break;
	case 2:
		base64(text, len);
		break;
	default:
		route(text);
		break;
	}
	free(text);
	return 0;
}
