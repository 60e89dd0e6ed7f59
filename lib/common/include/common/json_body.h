/* JSON request bodies, read as koa-joi-router's `type: 'json'` reads them. */
#ifndef EXPOSR_MODULE_COMMON_JSON_BODY_H
#define EXPOSR_MODULE_COMMON_JSON_BODY_H

#include <exposr/http.h>

struct cJSON;

/* application/json or any +json media type, parameters ignored. */
bool json_content_type(const char *content_type);

/* The body as a JSON value, {} for an empty body. A string holding a NUL character is
 * refused (every string field, here in one place). On failure NULL, and `reason` holds
 * what follows "content-type: " in the error (e.g. "expected json" for another content
 * type or no body at all). The caller deletes the value. */
struct cJSON *json_body_parse(const struct exposr_http_request *req, char *reason,
                              size_t reason_size);

#endif
