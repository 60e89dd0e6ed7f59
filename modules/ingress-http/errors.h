/* The ingress' error responses (docs/ingress.md §5.3, §5.8): JSON bodies with the error code
 * the clients know. On a forwarded connection the listener writes them. */
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
/* Ours: a later request on a proxied connection for another tunnel. */
#define ERR_MISDIRECTED "MISDIRECTED_REQUEST"

/* Before the takeover, an ordinary request: through the listener, which keeps the
 * connection for the next request when it can. */
void error_respond(const struct exposr_host *host, struct exposr_http_request *req, int status,
                   const char *code);

/* An upgrade request (§5.3): `HTTP/<its version> <status> <reason>`, Content-Length and
 * Connection: close, the body; nothing else. */
int error_format_raw(struct evbuffer *out, int http_major, int http_minor, int status,
                     const char *reason, const char *code);

/* Queues `response` on a connection the ingress took over, then flushes and closes it;
 * the connection (and `response`'s bytes) are gone afterwards. */
void error_send_and_close(const struct exposr_host *host, struct bufferevent *bev,
                          struct evbuffer *response);

#endif
