/* Joi's string().uri(): an absolute URI by the RFC 3986 grammar. */
#include <arpa/inet.h>
#include <ctype.h>
#include <string.h>

#include "common/validate.h"

static bool unreserved(unsigned char c)
{
	return isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

static bool sub_delim(unsigned char c)
{
	return c != '\0' && strchr("!$&'()*+,;=", c) != NULL;
}

/* Length of a pct-encoded triplet at `s`, or 0. */
static size_t pct_encoded(const char *s)
{
	return s[0] == '%' && isxdigit((unsigned char)s[1]) && isxdigit((unsigned char)s[2]) ? 3
	                                                                                     : 0;
}

/* Consumes *( unreserved / pct-encoded / sub-delims / extra ) and returns the end. */
static const char *run(const char *s, const char *end, const char *extra)
{
	while (s < end) {
		unsigned char c = (unsigned char)*s;
		if (unreserved(c) || sub_delim(c) || (c != '\0' && strchr(extra, c) != NULL)) {
			s++;
		} else if (end - s >= 3 && pct_encoded(s) > 0) {
			s += 3;
		} else {
			break;
		}
	}
	return s;
}

static bool ip_literal(const char *s, size_t len)
{
	char inner[64];
	struct in6_addr addr;
	if (len < 2 || len - 2 >= sizeof(inner))
		return false;
	memcpy(inner, s + 1, len - 2);
	inner[len - 2] = '\0';
	if (inner[0] == 'v' || inner[0] == 'V') {
		/* IPvFuture = "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" ) */
		const char *p = inner + 1;
		const char *hex = p;
		while (isxdigit((unsigned char)*p))
			p++;
		if (p == hex || *p != '.' || p[1] == '\0')
			return false;
		const char *tail_end = inner + strlen(inner);
		for (p++; p < tail_end; p++)
			if (!unreserved((unsigned char)*p) && !sub_delim((unsigned char)*p) &&
			    *p != ':')
				return false;
		return true;
	}
	return inet_pton(AF_INET6, inner, &addr) == 1;
}

static bool authority_valid(const char *s, const char *end)
{
	const char *at = NULL;
	for (const char *p = s; p < end; p++)
		if (*p == '@')
			at = p;
	if (at != NULL) {
		if (run(s, at, ":") != at)
			return false;
		s = at + 1;
	}
	const char *host_end;
	if (s < end && *s == '[') {
		const char *close = memchr(s, ']', (size_t)(end - s));
		if (close == NULL || !ip_literal(s, (size_t)(close - s) + 1))
			return false;
		host_end = close + 1;
	} else {
		host_end = run(s, end, "");
	}
	if (host_end == end)
		return true;
	if (*host_end != ':')
		return false;
	for (const char *p = host_end + 1; p < end; p++)
		if (!isdigit((unsigned char)*p))
			return false;
	return true;
}

bool uri_valid(const char *uri)
{
	const char *end = uri + strlen(uri);
	const char *p = uri;
	if (!isalpha((unsigned char)*p))
		return false;
	while (isalnum((unsigned char)*p) || *p == '+' || *p == '-' || *p == '.')
		p++;
	if (*p != ':')
		return false;
	p++;
	if (strncmp(p, "//", 2) == 0) {
		const char *auth = p + 2;
		const char *auth_end = auth + strcspn(auth, "/?#");
		if (!authority_valid(auth, auth_end))
			return false;
		p = auth_end;
	}
	/* The path: segments of pchar separated by '/' (path-abempty, -absolute, -rootless
	 * and -empty all fit this once the authority case is handled). */
	p = run(p, end, ":@/");
	if (*p == '?')
		p = run(p + 1, end, ":@/?");
	if (*p == '#')
		p = run(p + 1, end, ":@/?");
	return p == end;
}
