/* Reading request heads without the host table, so helpers stay testable on their own. */
#ifndef EXPOSR_MODULE_COMMON_REQUEST_H
#define EXPOSR_MODULE_COMMON_REQUEST_H

#include <exposr/http.h>

#include "request_header.h"

/* GET routes answer HEAD too, as koa-router does. */
bool request_method_is(const struct exposr_http_request *req, const char *method);

#endif
