/* JSON request bodies, read as koa-joi-router's `type: 'json'` (co-body, strict) reads them. */
#include "common/json_body.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

#include "common/request.h"

bool json_content_type(const char *content_type)
{
	if (content_type == NULL)
		return false;
	const char *p = content_type;
	while (*p == ' ' || *p == '\t')
		p++;
	size_t len = strcspn(p, ";");
	while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
		len--;
	static const char json[] = "application/json", suffix[] = "+json";
	if (len == sizeof(json) - 1 && strncasecmp(p, json, len) == 0)
		return true;
	const char *slash = memchr(p, '/', len);
	return slash != NULL && slash != p && len - (size_t)(slash - p) > sizeof(suffix) &&
	       strncasecmp(p + len - (sizeof(suffix) - 1), suffix, sizeof(suffix) - 1) == 0;
}

/* type-is's hasBody(): a Transfer-Encoding, or a Content-Length that is a number. */
static bool has_body(const struct exposr_http_request *req)
{
	if (request_header(req, "Transfer-Encoding") != NULL)
		return true;
	const char *length = request_header(req, "Content-Length");
	if (length == NULL)
		return false;
	char *end;
	strtod(length, &end);
	while (isspace((unsigned char)*end))
		end++;
	return *end == '\0';
}

/* Length of the valid UTF-8 sequence at s[0..len), or 0. */
static size_t utf8_sequence(const unsigned char *s, size_t len)
{
	if (s[0] < 0x80)
		return 1;
	size_t n;
	unsigned cp;
	if ((s[0] & 0xe0) == 0xc0) {
		n = 2;
		cp = s[0] & 0x1fu;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3;
		cp = s[0] & 0x0fu;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4;
		cp = s[0] & 0x07u;
	} else {
		return 0;
	}
	if (n > len)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3fu);
	}
	static const unsigned min[] = {0, 0, 0x80, 0x800, 0x10000};
	if (cp < min[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* The body decoded as text the way Node decodes it: invalid UTF-8 becomes U+FFFD. NULL
 * when it is valid as it is (nothing to copy), or on OOM with *oom set. */
static char *utf8_repair(const char *body, size_t len, size_t *out_len, bool *oom)
{
	const unsigned char *s = (const unsigned char *)body;
	size_t i = 0;
	while (i < len) {
		size_t n = utf8_sequence(s + i, len - i);
		if (n == 0)
			break;
		i += n;
	}
	*oom = false;
	if (i == len)
		return NULL;
	char *out = malloc(len * 3 + 1);
	if (out == NULL) {
		*oom = true;
		return NULL;
	}
	size_t o = 0;
	for (i = 0; i < len;) {
		size_t n = utf8_sequence(s + i, len - i);
		if (n == 0) {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		} else {
			memcpy(out + o, s + i, n);
			o += n;
			i += n;
		}
	}
	out[o] = '\0';
	*out_len = o;
	return out;
}

static bool json_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void parse_error(const char *text, size_t len, size_t pos, char *reason, size_t size)
{
	if (pos >= len)
		snprintf(reason, size, "Unexpected end of JSON input");
	else
		snprintf(reason, size, "Unexpected token %c in JSON at position %zu", text[pos],
		         pos);
}

/* cJSON ends a string at a NUL (written raw or as \u0000), so what a field holds would not
 * be what was sent: the position of the first NUL inside a string of valid JSON, or -1. */
static ssize_t nul_in_string(const char *text, size_t len)
{
	bool in_string = false;
	for (size_t i = 0; i < len; i++) {
		char c = text[i];
		if (!in_string) {
			in_string = c == '"';
		} else if (c == '\0') {
			return (ssize_t)i;
		} else if (c == '"') {
			in_string = false;
		} else if (c == '\\' && i + 1 < len) {
			if (text[i + 1] == 'u' && len - i >= 6 &&
			    memcmp(text + i + 2, "0000", 4) == 0)
				return (ssize_t)i;
			i++;
		}
	}
	return -1;
}

struct cJSON *json_body_parse(const struct exposr_http_request *req, char *reason,
                              size_t reason_size)
{
	if (!has_body(req) || !json_content_type(request_header(req, "Content-Type"))) {
		snprintf(reason, reason_size, "expected json");
		return NULL;
	}
	if (req->body == NULL || req->body_len == 0)
		return cJSON_CreateObject();
	size_t len = req->body_len;
	bool oom;
	char *repaired = utf8_repair(req->body, len, &len, &oom);
	if (oom) {
		snprintf(reason, reason_size, "out of memory");
		return NULL;
	}
	const char *text = repaired != NULL ? repaired : req->body;
	cJSON *value = NULL;
	size_t first = 0;
	while (first < len && json_space(text[first]))
		first++;
	/* co-body's strict mode takes only objects and arrays. */
	if (first == len || (text[first] != '{' && text[first] != '[')) {
		snprintf(reason, reason_size, "invalid JSON, only supports object and array");
		goto out;
	}
	const char *end = NULL;
	value = cJSON_ParseWithLengthOpts(text, len, &end, false);
	size_t pos = end != NULL ? (size_t)(end - text) : 0;
	if (value == NULL) {
		parse_error(text, len, pos, reason, reason_size);
		goto out;
	}
	while (pos < len && json_space(text[pos]))
		pos++;
	ssize_t nul = pos < len ? -1 : nul_in_string(text, len);
	if (pos < len)
		parse_error(text, len, pos, reason, reason_size);
	else if (nul >= 0)
		snprintf(reason, reason_size, "a string holds a NUL character at position %zd",
		         nul);
	if (pos < len || nul >= 0) {
		cJSON_Delete(value);
		value = NULL;
	}
out:
	free(repaired);
	return value;
}
