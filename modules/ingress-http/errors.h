/* The ingress' error responses (docs/ingress.md §5.3, §5.8): JSON bodies with the error code
 * the clients know, in the three forms the ingress needs. */
#ifndef EXPOSR_INGRESS_HTTP_ERRORS_H
#define EXPOSR_INGRESS_HTTP_ERRORS_H

#include <exposr/host.h>

struct bufferevent;
struct evbuffer;

/* The codes of docs/api.md §2.1. */
#define ERR_TUNNEL_NOT_FOUND      "TUNNEL_NOT_FOUND"
#define ERR_TUNNEL_NOT_CONNECTED  "TUNNEL_NOT_CONNECTED"
#define ERR_HTTP_INGRESS_DISABLED "TUNNEL_HTTP_INGRESS_DISABLED"
#define ERR_REQUEST_LOOP          "HTTP_INGRESS_REQUEST_LOOP"
#define ERR_REQUEST_LIMIT         "TUNNEL_TRANSPORT_REQUEST_LIMIT"
#define ERR_TARGET_CON_RESET      "TUNNEL_TARGET_CON_RESET"
#define ERR_TARGET_CON_FAILED     "TUNNEL_TARGET_CON_FAILED"
#define ERR_UNKNOWN               "UNKNOWN_ERROR"
/* Ours: a later request on a proxied connection that is not HTTP we can pass on. */
#define ERR_BAD_REQUEST       "BAD_REQUEST"
#define ERR_REQUEST_TIMEOUT   "REQUEST_TIMEOUT"
#define ERR_HEADERS_TOO_LARGE "REQUEST_HEADER_FIELDS_TOO_LARGE"
#define ERR_MISDIRECTED       "MISDIRECTED_REQUEST"

/* Before the takeover, an ordinary request: through the listener, which keeps the
 * connection for the next request when it can. */
void error_respond(const struct exposr_host *host, struct exposr_http_request *req, int status,
                   const char *code);

/* An upgrade request (§5.3): `HTTP/<its version> <status> <reason>`, Content-Length and
 * Connection: close, the body; nothing else. */
int error_format_raw(struct evbuffer *out, int http_major, int http_minor, int status,
                     const char *reason, const char *code);

/* On a proxied connection, after earlier responses: a complete HTTP/1.1 response that
 * ends the connection. `head_only`: the request was HEAD, so no body follows. */
int error_format_final(struct evbuffer *out, int status, const char *reason, const char *code,
                       bool head_only);

/* Reason phrases, including the ones the listener's table lacks. */
const char *error_reason(const struct exposr_host *host, int status);

/* Queues `response` on a connection the ingress took over, then flushes and closes it;
 * the connection (and `response`'s bytes) are gone afterwards. */
void error_send_and_close(const struct exposr_host *host, struct bufferevent *bev,
                          struct evbuffer *response);

#endif
