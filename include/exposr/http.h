/* Routes on the core's shared HTTP/1.1 listeners. */
#ifndef EXPOSR_HTTP_H
#define EXPOSR_HTTP_H

#include "common.h"

struct bufferevent;

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
};

#endif
