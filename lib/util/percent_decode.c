/* Percent-decoding as decodeURIComponent does it: libevent decodes, this file adds the
 * checks that make decodeURIComponent throw. */
#include "percent_decode.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>

/* Every '%' must start two hex digits. %00 is refused too: a C string cannot carry it. */
static bool escapes_valid(const char *in, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (in[i] != '%')
			continue;
		if (len - i < 3 || !isxdigit((unsigned char)in[i + 1]) ||
		    !isxdigit((unsigned char)in[i + 2]) || (in[i + 1] == '0' && in[i + 2] == '0'))
			return false;
		i += 2;
	}
	return true;
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

char *percent_decode(const char *in, size_t len)
{
	char *raw = strndup(in, len);
	if (raw == NULL || !escapes_valid(raw, strlen(raw)))
		return raw;
	size_t n = 0;
	/* decode_plus 0: a '+' stays a '+', as in decodeURIComponent. */
	char *out = evhttp_uridecode(raw, 0, &n);
	if (out == NULL) {
		free(raw);
		return NULL;
	}
	if (!utf8_valid((const unsigned char *)out, n)) {
		free(out);
		return raw;
	}
	free(raw);
	return out;
}
