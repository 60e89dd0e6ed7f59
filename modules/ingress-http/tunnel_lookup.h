/* Which tunnel a request's Host names (docs/ingress.md §5.2), and loop detection (§5.6). */
#ifndef EXPOSR_INGRESS_HTTP_TUNNEL_LOOKUP_H
#define EXPOSR_INGRESS_HTTP_TUNNEL_LOOKUP_H

#include <exposr/http.h>

/* The Host value lower-cased and cut at the first ':'. False when it is absent, empty or
 * does not fit in `size`: such a request names no tunnel. */
bool tunnel_host_of(const char *host_header, char *out, size_t size);

/* True when `host` is <label>.<domain>, with the label (the tunnel id, not validated)
 * written to `id`. Only one label is taken: a.b.<domain> is no subdomain. */
bool tunnel_id_from_subdomain(const char *host, const char *domain, char *id, size_t size);

/* True when one of the comma-separated entries of the request's exposr-via headers is
 * this node's id: the request came round through us before. */
/* Alt-names are domain names of two labels or more (the API refuses others): an IP
 * literal or a single label such as "localhost" is never looked up. */
bool tunnel_alt_name_candidate(const char *host);

bool tunnel_loop_detected(const struct exposr_http_request *req, const char *node_id);

#endif
