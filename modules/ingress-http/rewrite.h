/* The request head as the target gets it (docs/ingress.md §5.5, §5.7). */
#ifndef EXPOSR_INGRESS_HTTP_REWRITE_H
#define EXPOSR_INGRESS_HTTP_REWRITE_H

#include <exposr/http.h>

#include "ingress_http.h"

struct evbuffer;

struct rewrite_context {
	const char *node_id;
	const char *peer_addr; /* the public socket's remote address */
	/* The tunnel is connected to this node. A request re-routed to the owning node
	 * (§8.6) gets only X-Forwarded-For, X-Real-IP and exposr-via; the owner adds the
	 * rest. */
	bool local;
	const struct ingress_target *target;
};

/* Appends `<METHOD> <target> HTTP/<version>`, the rewritten headers and the empty line
 * to `out`. Upgrade requests keep their Connection header. */
int head_rewrite(const struct exposr_http_request *req, const struct rewrite_context *ctx,
                 struct evbuffer *out);

/* docs/ingress.md §5.5's clientIp: the first X-Forwarded-For entry if that header is there,
 * else the peer address; "" when it is not an IP address. */
void rewrite_client_ip(const struct exposr_http_request *req, const char *peer_addr, char *out,
                       size_t size);

/* The value Host, Referer or Origin takes for an http(s) target; false when it stays. */
bool rewrite_target_value(const char *value, const char *original_host,
                          const struct ingress_target *target, char *out, size_t size);

#endif
