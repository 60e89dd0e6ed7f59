/* Routes on the core's shared HTTP/1.1 listeners. */
#ifndef EXPOSR_HTTP_H
#define EXPOSR_HTTP_H

#include "common.h"

struct bufferevent;
struct evbuffer;

struct exposr_http_header {
	const char *name;
	const char *value;
};

/* The listener's limits, which a handler that goes on reading HTTP on a connection it
 * took over applies as well. */
struct exposr_http_limits {
	size_t max_head_bytes;    /* request line + headers; over it: 431 */
	size_t max_headers;       /* over it: 431 */
	unsigned head_timeout_ms; /* a started head must be complete by then: 408 */
	unsigned idle_timeout_ms; /* a keep-alive connection with no request is closed */
};

/* A parsed request head (and, for routes that ask for it, the whole body). Owned by
 * the listener; valid until the handler answers, declines or takes over. */
struct exposr_http_request {
	const char *method;
	const char *target; /* request-target as received: path and query */
	const char *path;   /* the target up to '?' */
	const char *query;  /* after '?', or "" */
	int http_major;
	int http_minor;
	const struct exposr_http_header *headers;
	size_t header_count;
	bool upgrade;            /* Connection: upgrade with an Upgrade header */
	bool keep_alive;         /* the connection may carry another request after this one */
	const char *remote_addr; /* numeric address of the peer */
	int remote_port;
	int local_port;   /* the listener's port */
	const char *body; /* routes with max_body > 0 only */
	size_t body_len;
	const char *head_raw; /* the request head exactly as received */
	size_t head_raw_len;
};

/* A route on the listener of `port`. The listener offers each request to the routes
 * of that port by ascending priority. `match` (optional) is a quick synchronous
 * filter; `handle` then owns the request until it calls respond, decline or
 * takeover, now or later from the event loop. */
struct exposr_http_route {
	const char *name;
	int port;
	int priority;
	/* > 0: the listener reads the body (up to this many bytes, else 413) before
	 * calling handle; 0: the body stays on the connection (takeover routes). */
	size_t max_body;
	bool (*match)(void *self, const struct exposr_http_request *req);
	void (*handle)(void *self, struct exposr_http_request *req);
	void *self;
};

struct exposr_http_api {
	size_t size;
	int (*route_add)(struct exposr_module_handle *mod, const struct exposr_http_route *route);
	/* Case-insensitive lookup of the first header with that name, or NULL. */
	const char *(*header)(const struct exposr_http_request *req, const char *name);
	/* Answers with a complete response. `headers` is NULL-terminated by name (may be
	 * NULL); Content-Length and Date are added. */
	void (*respond)(struct exposr_http_request *req, int status,
	                const struct exposr_http_header *headers, const char *body, size_t len);
	/* Hands the request to the next route. */
	void (*decline)(struct exposr_http_request *req);
	/* The handler takes the connection: bytes after the head are still in the
	 * bufferevent's input, its callbacks are unset and reading is disabled (call
	 * bufferevent_enable and look at the input buffer first: no read callback fires
	 * for bytes already there). The listener forgets the connection; the request
	 * stays readable until release(), which must always be called. */
	struct bufferevent *(*takeover)(struct exposr_http_request *req);
	void (*release)(struct exposr_http_request *req);
	/* Standard reason phrase of a status code ("Not Found"). */
	const char *(*reason)(int status);
	/* ABI 2.0. After takeover, for a handler that goes on reading HTTP on the
	 * connection: copies the listener's llhttp parser as it stands after the head
	 * (`parser` is an llhttp_t of `size` bytes; its `settings` and `data` are the
	 * listener's and must be replaced), so that the body is followed on without the head
	 * being parsed again. EXPOSR_ERROR before takeover or for another llhttp_t size. */
	int (*parser_state)(const struct exposr_http_request *req, void *parser, size_t size);
	/* ABI 2.0. Appends the listener's error answer for a connection it no longer owns: a
	 * complete HTTP/1.1 response with the JSON body {"error":"<code>"} (`code` NULL: the
	 * listener's own code for the status), Date and Connection: close; `head_only`: the
	 * request was HEAD, so no body. Nothing is appended on failure. */
	int (*format_error)(struct evbuffer *out, int status, const char *code, bool head_only);
	/* ABI 2.0. The listeners' limits (http.max-head-size, http.max-headers,
	 * http.head-timeout, http.idle-timeout); known once the listeners are open. */
	void (*limits)(struct exposr_http_limits *out);
};

#endif
