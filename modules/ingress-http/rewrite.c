/* The request head as the target gets it (docs/ingress.md §5.5, §5.7). */
#include "rewrite.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>

#include "common/base_url.h"
#include "http_ows.h"
#include "request_header.h"

/* Room for a rewritten Referer: scheme, userinfo, host, port and the rest of a URL. */
#define VALUE_MAX (URL_SCHEME_MAX + 2 * URL_HOSTNAME_MAX + URL_REST_MAX + 16)

static bool is_ip(const char *s)
{
	unsigned char addr[sizeof(struct in6_addr)];
	char bare[INET6_ADDRSTRLEN];
	if (inet_pton(AF_INET, s, addr) == 1 || inet_pton(AF_INET6, s, addr) == 1)
		return true;
	/* An IPv6 address with a zone ("fe80::1%eth0") is an address too. */
	size_t len = strcspn(s, "%");
	if (s[len] != '%' || len >= sizeof(bare) || s[len + 1] == '\0')
		return false;
	memcpy(bare, s, len);
	bare[len] = '\0';
	return inet_pton(AF_INET6, bare, addr) == 1;
}

void rewrite_client_ip(const struct exposr_http_request *req, const char *peer_addr, char *out,
                       size_t size)
{
	const char *candidate = peer_addr != NULL ? peer_addr : "";
	size_t len = strlen(candidate);
	const char *xff = request_header(req, "X-Forwarded-For");
	if (xff != NULL) {
		candidate = xff;
		len = http_trim_ows(&candidate, strcspn(xff, ","));
	}
	out[0] = '\0';
	if (len == 0 || len >= size)
		return;
	memcpy(out, candidate, len);
	out[len] = '\0';
	if (!is_ip(out))
		out[0] = '\0';
}

static bool starts_with_nocase(const char *s, const char *prefix)
{
	return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

static int target_host(const struct ingress_target *t, char *out, size_t size)
{
	int n = snprintf(out, size, "%s%s%s", t->hostname, t->port[0] != '\0' ? ":" : "", t->port);
	return n > 0 && (size_t)n < size ? EXPOSR_OK : EXPOSR_ERROR;
}

bool rewrite_target_value(const char *value, const char *original_host,
                          const struct ingress_target *target, char *out, size_t size)
{
	/* A URL (Referer, Origin) moves to the target only when it points at the tunnel's
	 * own host; anything else (a Host, "null") becomes the target's host. */
	if (!starts_with_nocase(value, "http://") && !starts_with_nocase(value, "https://"))
		return target_host(target, out, size) == EXPOSR_OK;
	struct url_parts url;
	char host[URL_HOSTNAME_MAX + 8];
	if (original_host == NULL || !url_parse(value, &url) ||
	    url_host(&url, host, sizeof(host)) < 0 || strcmp(host, original_host) != 0)
		return false;
	snprintf(url.scheme, sizeof(url.scheme), "%s", target->scheme);
	snprintf(url.port, sizeof(url.port), "%s", target->port);
	return url_format(&url, target->hostname, out, size) >= 0;
}

/* Writes one header line. The strict reading refuses folded lines, so no value holds a
 * CR or LF; should one ever, it becomes a space rather than split the head. */
static int add_header(struct evbuffer *out, const char *name, const char *value)
{
	if (evbuffer_add_printf(out, "%s: ", name) < 0)
		return EXPOSR_ERROR;
	for (const char *p = value; *p != '\0';) {
		size_t plain = strcspn(p, "\r\n");
		if (plain > 0 && evbuffer_add(out, p, plain) != 0)
			return EXPOSR_ERROR;
		p += plain;
		if (*p != '\0') {
			if (evbuffer_add(out, " ", 1) != 0)
				return EXPOSR_ERROR;
			p++;
		}
	}
	return evbuffer_add(out, "\r\n", 2) == 0 ? EXPOSR_OK : EXPOSR_ERROR;
}

/* Headers the ingress sets itself; the incoming ones are dropped, not appended to. */
static bool replaced(const char *name, const struct exposr_http_request *req, bool local)
{
	if (strcasecmp(name, "X-Forwarded-For") == 0 || strcasecmp(name, "X-Real-IP") == 0 ||
	    strcasecmp(name, "exposr-via") == 0)
		return true;
	if (!local)
		return false;
	return strcasecmp(name, "X-Forwarded-Host") == 0 ||
	       strcasecmp(name, "X-Forwarded-Port") == 0 ||
	       strcasecmp(name, "X-Forwarded-Proto") == 0 || strcasecmp(name, "Forwarded") == 0 ||
	       (!req->upgrade && strcasecmp(name, "Connection") == 0);
}

static bool follows_target(const char *name)
{
	return strcasecmp(name, "Host") == 0 || strcasecmp(name, "Referer") == 0 ||
	       strcasecmp(name, "Origin") == 0;
}

static int add_incoming(const struct exposr_http_request *req, const struct rewrite_context *ctx,
                        struct evbuffer *out)
{
	const char *original_host = request_header(req, "Host");
	bool rewrite = ctx->local && ctx->target != NULL && ctx->target->rewrite;
	char value[VALUE_MAX];
	for (size_t i = 0; i < req->header_count; i++) {
		const struct exposr_http_header *h = &req->headers[i];
		if (replaced(h->name, req, ctx->local))
			continue;
		const char *v = h->value;
		if (rewrite && follows_target(h->name) &&
		    rewrite_target_value(h->value, original_host, ctx->target, value,
		                         sizeof(value)))
			v = value;
		if (add_header(out, h->name, v) != EXPOSR_OK)
			return EXPOSR_ERROR;
	}
	return EXPOSR_OK;
}

/* exposr-via: this node first, then what came in (several headers joined as one). */
static int add_via(const struct exposr_http_request *req, const char *node_id, struct evbuffer *out)
{
	if (evbuffer_add_printf(out, "exposr-via: %s", node_id) < 0)
		return EXPOSR_ERROR;
	bool first = true;
	for (size_t i = 0; i < req->header_count; i++) {
		const char *value = req->headers[i].value;
		if (strcasecmp(req->headers[i].name, "exposr-via") != 0 ||
		    strpbrk(value, "\r\n") != NULL)
			continue;
		if (evbuffer_add_printf(out, "%s%s", first ? "," : ", ", value) < 0)
			return EXPOSR_ERROR;
		first = false;
	}
	return evbuffer_add(out, "\r\n", 2) == 0 ? EXPOSR_OK : EXPOSR_ERROR;
}

static int add_forwarding(const struct exposr_http_request *req, const char *client_ip,
                          struct evbuffer *out)
{
	struct url_parts base;
	char base_host[URL_HOSTNAME_MAX + 8];
	/* Without a base URL (forwarding headers that make no URL) these are left out. */
	if (!base_url_of_request(req, &base) || url_host(&base, base_host, sizeof(base_host)) < 0)
		return EXPOSR_OK;
	if (add_header(out, "x-forwarded-host", base_host) != EXPOSR_OK ||
	    (base.port[0] != '\0' && add_header(out, "x-forwarded-port", base.port) != EXPOSR_OK) ||
	    add_header(out, "x-forwarded-proto", base.scheme) != EXPOSR_OK ||
	    evbuffer_add_printf(out, "forwarded: by=_exposr;for=%s;host=%s;proto=%s\r\n", client_ip,
	                        base_host, base.scheme) < 0)
		return EXPOSR_ERROR;
	return EXPOSR_OK;
}

int head_rewrite(const struct exposr_http_request *req, const struct rewrite_context *ctx,
                 struct evbuffer *out)
{
	char client_ip[INET6_ADDRSTRLEN + 64];
	rewrite_client_ip(req, ctx->peer_addr, client_ip, sizeof(client_ip));
	if (evbuffer_add_printf(out, "%s %s HTTP/%d.%d\r\n", req->method, req->target,
	                        req->http_major, req->http_minor) < 0 ||
	    add_incoming(req, ctx, out) != EXPOSR_OK ||
	    add_header(out, "x-forwarded-for", client_ip) != EXPOSR_OK ||
	    add_header(out, "x-real-ip", client_ip) != EXPOSR_OK ||
	    add_via(req, ctx->node_id, out) != EXPOSR_OK ||
	    (ctx->local && add_forwarding(req, client_ip, out) != EXPOSR_OK) ||
	    evbuffer_add(out, "\r\n", 2) != 0)
		return EXPOSR_ERROR;
	return EXPOSR_OK;
}
