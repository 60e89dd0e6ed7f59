/* Forwarded connections: the forward() half of struct exposr_http_api (http_forward.c). */
#ifndef EXPOSR_CORE_HTTP_FORWARD_H
#define EXPOSR_CORE_HTTP_FORWARD_H

#include <exposr/http.h>

struct exposr_http_forward *http_forward_start(struct exposr_http_request *req,
                                               struct exposr_stream *stream,
                                               const struct exposr_http_forward_options *options,
                                               const struct exposr_http_forward_hooks *hooks,
                                               void *ctx);
void http_forward_stop(struct exposr_http_forward *fwd);
void http_forward_close(struct exposr_http_forward *fwd);

#endif
