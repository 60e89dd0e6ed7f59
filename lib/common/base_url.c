/* The base URL of a request (docs/api.md §2.1), computed exactly as exposrd does. */
#include "common/base_url.h"

#include <ctype.h>
#include <string.h>

#include "common/request.h"

struct span {
	const char *p;
	size_t len;
	bool defined;
};

static bool js_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static struct span trim(const char *p, size_t len)
{
	while (len > 0 && js_space(p[0])) {
		p++;
		len--;
	}
	while (len > 0 && js_space(p[len - 1]))
		len--;
	return (struct span){p, len, true};
}

static bool span_is(struct span s, const char *word)
{
	return s.len == strlen(word) && memcmp(s.p, word, s.len) == 0;
}

/* JavaScript truthiness of a header or parsed value: present and not "". */
static bool truthy(struct span s)
{
	return s.defined && s.len > 0;
}

/* JavaScript's a || b || c || fallback. */
static struct span first_truthy(struct span a, struct span b, struct span c, struct span fallback)
{
	return truthy(a) ? a : truthy(b) ? b : truthy(c) ? c : fallback;
}

static struct span header_span(const char *value)
{
	return value != NULL ? (struct span){value, strlen(value), true} : (struct span){0};
}

/* exposrd's naive Forwarded parsing: split on ';', trim, split on '=' (key and first
 * value, both trimmed, not unquoted); a later key overwrites an earlier one. */
static void parse_forwarded(const char *forwarded, struct span *proto, struct span *host)
{
	*proto = (struct span){0};
	*host = (struct span){0};
	if (forwarded == NULL)
		return;
	const char *p = forwarded;
	for (;;) {
		size_t part_len = strcspn(p, ";");
		struct span part = trim(p, part_len);
		if (part.len > 0) {
			const char *eq = memchr(part.p, '=', part.len);
			struct span key =
			        trim(part.p, eq != NULL ? (size_t)(eq - part.p) : part.len);
			struct span value = {0};
			if (eq != NULL) {
				const char *v = eq + 1;
				size_t rest = part.len - (size_t)(v - part.p);
				const char *next = memchr(v, '=', rest);
				value = trim(v, next != NULL ? (size_t)(next - v) : rest);
			}
			if (span_is(key, "proto"))
				*proto = value;
			else if (span_is(key, "host"))
				*host = value;
		}
		if (p[part_len] == '\0')
			break;
		p += part_len + 1;
	}
}

/* split(':')[0] and split(':')[1] of a host value; an IPv6 literal keeps its brackets. */
static void split_host(struct span value, struct span *hostname, struct span *port)
{
	size_t host_len;
	if (value.len > 0 && value.p[0] == '[') {
		const char *close = memchr(value.p, ']', value.len);
		host_len = close != NULL ? (size_t)(close - value.p) + 1 : value.len;
	} else {
		const char *colon = memchr(value.p, ':', value.len);
		host_len = colon != NULL ? (size_t)(colon - value.p) : value.len;
	}
	*hostname = (struct span){value.p, host_len, true};
	*port = (struct span){0};
	if (host_len < value.len && value.p[host_len] == ':') {
		const char *p = value.p + host_len + 1;
		size_t rest = value.len - host_len - 1;
		const char *colon = memchr(p, ':', rest);
		*port = (struct span){p, colon != NULL ? (size_t)(colon - p) : rest, true};
	}
}

bool base_url_from_headers(const char *forwarded, const char *x_forwarded_proto,
                           const char *x_scheme, const char *host, const char *x_forwarded_port,
                           struct url_parts *out)
{
	memset(out, 0, sizeof(*out));
	struct span fwd_proto, fwd_host;
	parse_forwarded(forwarded, &fwd_proto, &fwd_host);
	struct span host_header = header_span(host);

	struct span proto = first_truthy(fwd_proto, header_span(x_forwarded_proto),
	                                 header_span(x_scheme), (struct span){"http", 4, true});
	struct span host_value = truthy(fwd_host) ? fwd_host : host_header;
	if (!truthy(host_value))
		return false;

	struct span hostname, port, unused, fwd_port = {0}, header_port = {0};
	split_host(host_value, &hostname, &unused);
	if (truthy(fwd_host))
		split_host(fwd_host, &unused, &fwd_port);
	if (truthy(host_header))
		split_host(host_header, &unused, &header_port);
	port = first_truthy(fwd_port, header_span(x_forwarded_port), header_port,
	                    (struct span){"", 0, true});

	/* exposrd lower-cases the host whatever the scheme. */
	char lower[URL_HOSTNAME_MAX];
	if (hostname.len >= sizeof(lower))
		return false;
	for (size_t i = 0; i < hostname.len; i++)
		lower[i] = (char)tolower((unsigned char)hostname.p[i]);
	if (!url_scheme_normalize(proto.p, proto.len, out->scheme) ||
	    !url_normalize_authority(out, lower, hostname.len, port.p, port.len))
		return false;
	strcpy(out->rest, "/");
	return true;
}

bool base_url_of_request(const struct exposr_http_request *req, struct url_parts *out)
{
	return base_url_from_headers(request_header(req, "Forwarded"),
	                             request_header(req, "X-Forwarded-Proto"),
	                             request_header(req, "X-Scheme"), request_header(req, "Host"),
	                             request_header(req, "X-Forwarded-Port"), out);
}
