/* Route paths matched the way koa-router (path-to-regexp, not strict, not case-sensitive)
 * matches them, with its safe decodeURIComponent for parameters. */
#include "common/path_match.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static bool utf8_valid(const unsigned char *s, size_t len)
{
	for (size_t i = 0; i < len;) {
		size_t n;
		unsigned cp;
		if (s[i] < 0x80) {
			i++;
			continue;
		} else if ((s[i] & 0xe0) == 0xc0) {
			n = 2;
			cp = s[i] & 0x1fu;
		} else if ((s[i] & 0xf0) == 0xe0) {
			n = 3;
			cp = s[i] & 0x0fu;
		} else if ((s[i] & 0xf8) == 0xf0) {
			n = 4;
			cp = s[i] & 0x07u;
		} else {
			return false;
		}
		if (i + n > len)
			return false;
		for (size_t k = 1; k < n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3fu);
		}
		static const unsigned min[] = {0, 0, 0x80, 0x800, 0x10000};
		if (cp < min[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += n;
	}
	return true;
}

static char *copy(const char *in, size_t len)
{
	char *out = malloc(len + 1);
	if (out != NULL) {
		memcpy(out, in, len);
		out[len] = '\0';
	}
	return out;
}

char *percent_decode(const char *in, size_t len)
{
	char *out = malloc(len + 1);
	if (out == NULL)
		return NULL;
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		if (in[i] != '%') {
			out[o++] = in[i];
			continue;
		}
		/* A bad escape makes decodeURIComponent throw: koa-router keeps the raw text.
		 * So do we for %00, which C strings cannot carry. */
		if (i + 2 >= len) {
			free(out);
			return copy(in, len);
		}
		int h = hex_value(in[i + 1]), l = hex_value(in[i + 2]);
		if (h < 0 || l < 0 || (h == 0 && l == 0)) {
			free(out);
			return copy(in, len);
		}
		out[o++] = (char)(h * 16 + l);
		i += 2;
	}
	out[o] = '\0';
	if (!utf8_valid((const unsigned char *)out, o)) {
		free(out);
		return copy(in, len);
	}
	return out;
}

void path_params_free(struct path_params *params)
{
	for (size_t i = 0; i < params->count; i++)
		free(params->value[i]);
	params->count = 0;
}

enum path_match_result path_match(const char *path, const char *pattern, struct path_params *out)
{
	out->count = 0;
	const char *p = path, *q = pattern;
	while (*q != '\0') {
		/* Both sit on a '/' starting a segment. */
		if (*p != '/' || *q != '/')
			goto no_match;
		p++;
		q++;
		size_t seg_len = strcspn(p, "/");
		size_t pat_len = strcspn(q, "/");
		if (q[0] == ':') {
			if (seg_len == 0 || out->count == PATH_PARAMS_MAX)
				goto no_match;
			char *value = percent_decode(p, seg_len);
			if (value == NULL) {
				path_params_free(out);
				return PATH_MATCH_ERROR;
			}
			out->value[out->count++] = value;
		} else if (seg_len != pat_len || strncasecmp(p, q, seg_len) != 0) {
			goto no_match;
		}
		p += seg_len;
		q += pat_len;
	}
	if (*p == '\0' || (p[0] == '/' && p[1] == '\0'))
		return PATH_MATCH;
no_match:
	path_params_free(out);
	return PATH_NO_MATCH;
}
