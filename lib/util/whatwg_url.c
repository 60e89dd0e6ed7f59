/* URLs as WHATWG serialises them: scheme and host normalised, default ports dropped. */
#include "whatwg_url.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

bool url_scheme_special(const char *scheme)
{
	static const char *const special[] = {"http", "https", "ws", "wss", "ftp", "file", NULL};
	for (size_t i = 0; special[i] != NULL; i++)
		if (strcmp(scheme, special[i]) == 0)
			return true;
	return false;
}

const char *url_default_port(const char *scheme)
{
	if (strcmp(scheme, "http") == 0 || strcmp(scheme, "ws") == 0)
		return "80";
	if (strcmp(scheme, "https") == 0 || strcmp(scheme, "wss") == 0)
		return "443";
	if (strcmp(scheme, "ftp") == 0)
		return "21";
	return NULL;
}

bool url_scheme_normalize(const char *in, size_t len, char out[URL_SCHEME_MAX])
{
	if (len == 0 || len >= URL_SCHEME_MAX || !isalpha((unsigned char)in[0]))
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		if (!isalnum(c) && c != '+' && c != '-' && c != '.')
			return false;
		out[i] = (char)tolower(c);
	}
	out[len] = '\0';
	return true;
}

/* WHATWG's forbidden host code points (ASCII part). */
static bool forbidden_host_char(unsigned char c)
{
	return c == 0 || c == '\t' || c == '\n' || c == '\r' || c == ' ' || c == '#' || c == '/' ||
	       c == ':' || c == '<' || c == '>' || c == '?' || c == '@' || c == '[' || c == '\\' ||
	       c == ']' || c == '^' || c == '|';
}

/* ... and the forbidden domain code points on top of them. */
static bool forbidden_domain_char(unsigned char c)
{
	return forbidden_host_char(c) || c < 0x20 || c == '%' || c == 0x7f;
}

/* One part of a WHATWG IPv4 address: decimal, 0x-hex or 0-octal. */
static bool ipv4_number(const char *s, size_t len, uint64_t *out)
{
	unsigned radix = 10;
	if (len >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		radix = 16;
		s += 2;
		len -= 2;
	} else if (len >= 2 && s[0] == '0') {
		radix = 8;
		s++;
		len--;
	}
	uint64_t v = 0;
	for (size_t i = 0; i < len; i++) {
		int c = tolower((unsigned char)s[i]);
		unsigned d;
		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else
			return false;
		if (d >= radix)
			return false;
		/* Saturate: anything this large fails the range checks anyway. */
		v = v > UINT64_C(0xffffffffff) ? v : v * radix + d;
	}
	*out = v;
	return true;
}

/* Splits off the last label, ignoring one trailing dot. */
static void last_label(const char *host, size_t len, const char **label, size_t *label_len)
{
	if (len > 1 && host[len - 1] == '.')
		len--;
	size_t start = len;
	while (start > 0 && host[start - 1] != '.')
		start--;
	*label = host + start;
	*label_len = len - start;
}

static bool ends_in_number(const char *host, size_t len)
{
	const char *label;
	size_t label_len;
	if (len == 1 && host[0] == '.')
		return false;
	last_label(host, len, &label, &label_len);
	if (label_len == 0)
		return false;
	bool digits = true;
	for (size_t i = 0; i < label_len; i++)
		digits = digits && isdigit((unsigned char)label[i]);
	uint64_t ignored;
	return digits || ipv4_number(label, label_len, &ignored);
}

static bool ipv4_parse(const char *host, size_t len, uint32_t *out)
{
	if (len > 1 && host[len - 1] == '.')
		len--;
	uint64_t numbers[4];
	size_t n = 0, start = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && host[i] != '.')
			continue;
		if (n == 4 || i == start || !ipv4_number(host + start, i - start, &numbers[n]))
			return false;
		n++;
		start = i + 1;
	}
	for (size_t i = 0; i + 1 < n; i++)
		if (numbers[i] > 255)
			return false;
	if (numbers[n - 1] >= (UINT64_C(1) << (8 * (5 - n))))
		return false;
	uint64_t v = numbers[n - 1];
	for (size_t i = 0; i + 1 < n; i++)
		v += numbers[i] << (8 * (3 - i));
	*out = (uint32_t)v;
	return true;
}

static bool host_normalize(const char *scheme, const char *in, size_t len,
                           char out[URL_HOSTNAME_MAX])
{
	if (len >= URL_HOSTNAME_MAX)
		return false;
	if (len > 0 && in[0] == '[') {
		char inner[URL_HOSTNAME_MAX];
		struct in6_addr addr;
		if (len < 3 || in[len - 1] != ']')
			return false;
		memcpy(inner, in + 1, len - 2);
		inner[len - 2] = '\0';
		if (inet_pton(AF_INET6, inner, &addr) != 1 ||
		    inet_ntop(AF_INET6, &addr, inner, sizeof(inner)) == NULL)
			return false;
		return snprintf(out, URL_HOSTNAME_MAX, "[%s]", inner) < URL_HOSTNAME_MAX;
	}
	bool special = url_scheme_special(scheme);
	if (special && len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		/* Non-ASCII would need IDNA (domains) or percent-encoding (opaque hosts). */
		if (c >= 0x80 || (special ? forbidden_domain_char(c) : forbidden_host_char(c)))
			return false;
		out[i] = special ? (char)tolower(c) : (char)c;
	}
	out[len] = '\0';
	if (special && ends_in_number(out, len)) {
		uint32_t v;
		if (!ipv4_parse(out, len, &v))
			return false;
		snprintf(out, URL_HOSTNAME_MAX, "%u.%u.%u.%u", v >> 24, (v >> 16) & 255,
		         (v >> 8) & 255, v & 255);
	}
	return true;
}

static bool port_normalize(const char *scheme, const char *in, size_t len, char out[6])
{
	out[0] = '\0';
	if (len == 0)
		return true;
	unsigned long v = 0;
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)in[i]))
			return false;
		v = v * 10 + (unsigned long)(in[i] - '0');
		if (v > 65535)
			return false;
	}
	char text[6];
	snprintf(text, sizeof(text), "%lu", v);
	const char *def = url_default_port(scheme);
	if (def == NULL || strcmp(def, text) != 0)
		memcpy(out, text, sizeof(text));
	return true;
}

bool url_normalize_authority(struct url_parts *u, const char *hostname, size_t hostname_len,
                             const char *port, size_t port_len)
{
	char host[URL_HOSTNAME_MAX], port_out[6];
	if (!host_normalize(u->scheme, hostname, hostname_len, host) ||
	    !port_normalize(u->scheme, port, port_len, port_out))
		return false;
	memcpy(u->hostname, host, sizeof(host));
	memcpy(u->port, port_out, sizeof(port_out));
	return true;
}

bool url_parse(const char *text, struct url_parts *out)
{
	memset(out, 0, sizeof(*out));
	const char *colon = strchr(text, ':');
	if (colon == NULL || !url_scheme_normalize(text, (size_t)(colon - text), out->scheme) ||
	    strncmp(colon + 1, "//", 2) != 0)
		return false;
	const char *authority = colon + 3;
	size_t auth_len = strcspn(authority, "/?#");
	const char *rest = authority + auth_len;
	const char *host = authority;
	for (size_t i = auth_len; i > 0; i--) {
		if (authority[i - 1] == '@') {
			host = authority + i;
			if (i - 1 >= sizeof(out->userinfo))
				return false;
			memcpy(out->userinfo, authority, i - 1);
			out->userinfo[i - 1] = '\0';
			break;
		}
	}
	size_t host_part = (size_t)(authority + auth_len - host);
	size_t host_len = host_part;
	if (host_part > 0 && host[0] == '[') {
		const char *close = memchr(host, ']', host_part);
		if (close == NULL)
			return false;
		host_len = (size_t)(close - host) + 1;
	} else {
		const char *port_colon = memchr(host, ':', host_part);
		if (port_colon != NULL)
			host_len = (size_t)(port_colon - host);
	}
	const char *port = host + host_len;
	size_t port_len = host_part - host_len;
	if (port_len > 0) {
		if (port[0] != ':')
			return false;
		port++;
		port_len--;
	}
	if (!url_normalize_authority(out, host, host_len, port, port_len))
		return false;
	/* A special scheme's path starts with "/": "http://h?q" is "http://h/?q". */
	bool slash = url_scheme_special(out->scheme) && rest[0] != '/';
	if (strlen(rest) + slash >= sizeof(out->rest))
		return false;
	snprintf(out->rest, sizeof(out->rest), "%s%s", slash ? "/" : "", rest);
	return true;
}

int url_host(const struct url_parts *u, char *out, size_t size)
{
	int n = snprintf(out, size, "%s%s%s", u->hostname, u->port[0] != '\0' ? ":" : "", u->port);
	return n >= 0 && (size_t)n < size ? 0 : -1;
}

int url_format(const struct url_parts *u, const char *hostname, char *out, size_t size)
{
	int n = snprintf(out, size, "%s://%s%s%s%s%s%s", u->scheme, u->userinfo,
	                 u->userinfo[0] != '\0' ? "@" : "",
	                 hostname != NULL ? hostname : u->hostname, u->port[0] != '\0' ? ":" : "",
	                 u->port, u->rest);
	return n >= 0 && (size_t)n < size ? 0 : -1;
}
