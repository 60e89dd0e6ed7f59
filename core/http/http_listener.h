/* The core's shared HTTP/1.1 listeners: one per port that a route names, parsing
 * with llhttp and offering each request to the routes of that port in order. */
#ifndef EXPOSR_CORE_HTTP_LISTENER_H
#define EXPOSR_CORE_HTTP_LISTENER_H

#include <exposr/http.h>

struct event_base;

/* The listener's limits, on every request of a connection, forwarded ones included. */
struct http_limits {
	size_t max_head_bytes;    /* request line + headers; over it: 431 */
	size_t max_headers;       /* over it: 431 */
	unsigned head_timeout_ms; /* a started head must be complete by then: 408 */
	unsigned idle_timeout_ms; /* a keep-alive connection with no request is closed */
};

#define HTTP_DEFAULT_MAX_HEAD_BYTES  (16 * 1024)
#define HTTP_DEFAULT_MAX_HEADERS     100
#define HTTP_DEFAULT_HEAD_TIMEOUT_MS 10000
#define HTTP_DEFAULT_IDLE_TIMEOUT_MS 60000

extern const struct exposr_http_api http_api;

/* Route bookkeeping (the route is copied; `mod` may be NULL in tests). */
int http_route_add(struct exposr_module_handle *mod, const struct exposr_http_route *route);
void http_routes_remove_module(struct exposr_module_handle *mod);

/* Binds one listener per distinct route port on `bind_address` (NULL: every
 * interface, IPv4 and IPv6). Logs and fails on the first port that cannot be bound. */
int http_listeners_open(struct event_base *base, const char *bind_address,
                        const struct http_limits *limits);
/* The port actually bound for a route port (differs only for port 0, in tests). */
int http_listener_bound_port(int route_port);
/* Stops accepting; open connections keep being served. */
void http_listeners_stop_accepting(void);
/* Shutdown: every connection finishes the response it owes and is closed; `done`
 * runs when none is left (possibly at once). */
void http_listeners_quiesce(void (*done)(void));
/* Closes every connection still owned by the listeners and frees all listeners and
 * routes. */
void http_listeners_free(void);
/* Routes currently registered (for the loader tests). */
size_t http_route_count(void);

#endif
