/* Header lookup in a parsed request head, for the core and the modules alike. */
#ifndef EXPOSR_UTIL_REQUEST_HEADER_H
#define EXPOSR_UTIL_REQUEST_HEADER_H

#include <exposr/http.h>

/* The first header of that name (case-insensitive), or NULL. */
const char *request_header(const struct exposr_http_request *req, const char *name);

#endif
