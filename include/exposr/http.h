/* Routes on the core's shared HTTP/1.1 listeners. */
#ifndef EXPOSR_HTTP_H
#define EXPOSR_HTTP_H

#include "common.h"

struct bufferevent;
struct evbuffer;
struct exposr_stream;

struct exposr_http_header {
	const char *name;
	const char *value;
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

/* A connection the listener carries to a stream for a handler (forward() below). */
struct exposr_http_forward;

struct exposr_http_forward_hooks {
	/* A later request on the connection (the first is the handler's own): 0 to carry it,
	 * or the status (4xx/5xx) and JSON error `*code` (NULL: the listener's) it is refused
	 * with, after the responses before it; the connection then ends. Optional. */
	int (*check)(void *ctx, const struct exposr_http_request *req, const char **code);
	/* Appends the head the stream gets for `req` to `out`; EXPOSR_ERROR ends the
	 * connection. Every request, the first included. */
	int (*write_head)(void *ctx, const struct exposr_http_request *req, struct evbuffer *out);
	/* An upgrade went through: the client's connection and the stream are the handler's
	 * from here on, with bytes that followed already in them; the handler sets the
	 * stream's callbacks before it returns (host->streams->splice does). `done` follows.
	 * Optional: without it an upgrade ends the connection. */
	void (*upgraded)(void *ctx, struct exposr_stream *client, struct exposr_stream *stream);
	/* The connection ended (see forward()). */
	void (*done)(void *ctx);
};

struct exposr_http_forward_options {
	const char *label; /* names the connection in the log, with the peer address */
	/* The JSON error code of the 502 when the stream fails before a response began;
	 * NULL: the listener's. */
	const char *stream_error_code;
	/* Over the listener's limits on this connection; 0: the listener's. */
	unsigned head_timeout_ms;
	unsigned idle_timeout_ms;
	size_t max_head_bytes;
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
	/* ABI 3.0. A proxying handler: the listener carries this request and every later one
	 * on its connection through `stream` (a tunnel channel, say) and the responses back,
	 * and owns the HTTP/1.1 of it: the body's framing, keep-alive, pipelining, the head
	 * and idle timers, the limits, the answers when a request cannot be carried or the
	 * stream fails before a response began (JSON, as the listener's own errors). The
	 * handler only says what each head becomes (`hooks`; `write_head` and `done` are
	 * mandatory: without them, or without memory, the listener answers 500). Takes
	 * `stream` and finishes `req` (no release()). NULL: the connection is already gone
	 * or answered (the client left, or it ended while the first request went); `done`
	 * is then never called. Otherwise
	 * `hooks->done(ctx)` runs once, when the connection ends. */
	struct exposr_http_forward *(*forward)(struct exposr_http_request *req,
	                                       struct exposr_stream *stream,
	                                       const struct exposr_http_forward_options *options,
	                                       const struct exposr_http_forward_hooks *hooks,
	                                       void *ctx);
	/* ABI 3.0. Stopping: a forwarded connection between requests ends now, one with
	 * requests in flight after their responses; `done` follows either way. */
	void (*forward_stop)(struct exposr_http_forward *forward);
	/* ABI 3.0. Unloading: ends it at once, without `done`. */
	void (*forward_close)(struct exposr_http_forward *forward);
};

#endif
