/* The base URL of a request (docs/api.md §2.1): what the API hands out, what --api-url is
 * compared with, and what the HTTP ingress forwards. One computation for every module. */
#ifndef EXPOSR_MODULE_COMMON_BASE_URL_H
#define EXPOSR_MODULE_COMMON_BASE_URL_H

#include <exposr/http.h>

#include "whatwg_url.h"

/* Scheme from Forwarded proto, X-Forwarded-Proto, X-Scheme or "http"; host from
 * Forwarded host or Host; port from the Forwarded host, X-Forwarded-Port or Host; then
 * normalised like a WHATWG URL with the path "/". False when no URL can be built (no
 * Host, an invalid scheme, host or port): the request is answered 400. */
bool base_url_of_request(const struct exposr_http_request *req, struct url_parts *out);

/* The same from the header values themselves (any may be NULL). */
bool base_url_from_headers(const char *forwarded, const char *x_forwarded_proto,
                           const char *x_scheme, const char *host, const char *x_forwarded_port,
                           struct url_parts *out);

#endif
