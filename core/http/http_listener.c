/* The core's shared HTTP listeners: the route table, one listening socket per route port,
 * and the HTTP API table given to modules. */
#include "http_listener.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/listener.h>

#include "http_conn.h"
#include "http_forward.h"
#include "log.h"
#include "request_header.h"

struct route_entry {
	struct exposr_http_route route; /* `name` is our own copy */
	struct exposr_module_handle *mod;
};

struct listener {
	struct listener *next;
	int route_port;
	int bound_port;
	struct evconnlistener *evl;
};

static struct route_entry *routes;
static size_t route_count;
static size_t route_capacity;
static struct listener *listeners;
static struct http_limits limits;

size_t http_route_count(void)
{
	return route_count;
}

const struct exposr_http_route *http_route_get(size_t index)
{
	return &routes[index].route;
}

int http_route_add(struct exposr_module_handle *mod, const struct exposr_http_route *route)
{
	if (route == NULL || route->handle == NULL || route->port < 0 || route->port > 65535) {
		log_msg("http", EXPOSR_LOG_ERROR, "route %s rejected: needs a handler and a port",
		        route != NULL && route->name != NULL ? route->name : "(unnamed)");
		return EXPOSR_ERROR;
	}
	if (route_count == route_capacity) {
		size_t capacity = route_capacity > 0 ? route_capacity * 2 : 8;
		struct route_entry *grown = realloc(routes, capacity * sizeof(*grown));
		if (grown == NULL)
			return EXPOSR_ERROR;
		routes = grown;
		route_capacity = capacity;
	}
	char *name = strdup(route->name != NULL ? route->name : "(unnamed)");
	if (name == NULL)
		return EXPOSR_ERROR;
	/* After every route of the same priority: equal priorities keep their order. */
	size_t at = 0;
	while (at < route_count && routes[at].route.priority <= route->priority)
		at++;
	memmove(&routes[at + 1], &routes[at], (route_count - at) * sizeof(*routes));
	routes[at].route = *route;
	routes[at].route.name = name;
	routes[at].mod = mod;
	route_count++;
	log_msg("http", EXPOSR_LOG_DEBUG, "route %s on port %d, priority %d", name, route->port,
	        route->priority);
	return EXPOSR_OK;
}

void http_routes_remove_module(struct exposr_module_handle *mod)
{
	size_t kept = 0;
	for (size_t i = 0; i < route_count; i++) {
		if (routes[i].mod == mod)
			free((char *)routes[i].route.name);
		else
			routes[kept++] = routes[i];
	}
	route_count = kept;
}

static struct listener *listener_find(int route_port)
{
	for (struct listener *l = listeners; l != NULL; l = l->next)
		if (l->route_port == route_port)
			return l;
	return NULL;
}

static void listener_accept(struct evconnlistener *evl, evutil_socket_t fd, struct sockaddr *addr,
                            int addr_len, void *arg)
{
	struct listener *l = arg;
	http_conn_accept(evconnlistener_get_base(evl), fd, addr, (socklen_t)addr_len, l->route_port,
	                 l->bound_port, &limits);
}

/* A listening socket, or -1 with errno set. */
static int listen_socket(const struct sockaddr *addr, socklen_t addr_len, bool dual_stack)
{
	int saved_errno;
	int fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int one = 1;
	int zero = 0;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0)
		goto fail;
	if (dual_stack && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) != 0)
		goto fail;
	if (bind(fd, addr, addr_len) != 0 || listen(fd, SOMAXCONN) != 0)
		goto fail;
	return fd;
fail:
	saved_errno = errno;
	close(fd);
	errno = saved_errno;
	return -1;
}

/* Every interface: a dual-stack IPv6 socket, or IPv4 alone where IPv6 is unavailable. */
static int listen_any(int port)
{
	struct sockaddr_in6 any6 = {.sin6_family = AF_INET6,
	                            .sin6_addr = in6addr_any,
	                            .sin6_port = htons((uint16_t)port)};
	int fd = listen_socket((struct sockaddr *)&any6, sizeof(any6), true);
	if (fd >= 0 || (errno != EAFNOSUPPORT && errno != EADDRNOTAVAIL))
		return fd;
	struct sockaddr_in any4 = {.sin_family = AF_INET,
	                           .sin_addr.s_addr = htonl(INADDR_ANY),
	                           .sin_port = htons((uint16_t)port)};
	return listen_socket((struct sockaddr *)&any4, sizeof(any4), false);
}

/* "address:port" as people write it: "*" for every interface, brackets around IPv6. */
static void format_endpoint(char *out, size_t size, const char *bind_address, int port)
{
	if (bind_address == NULL)
		snprintf(out, size, "*:%d", port);
	else if (strchr(bind_address, ':') != NULL)
		snprintf(out, size, "[%s]:%d", bind_address, port);
	else
		snprintf(out, size, "%s:%d", bind_address, port);
}

static int listener_open(struct event_base *base, const char *bind_address, int port)
{
	char endpoint[300];
	const char *error;
	int fd;
	if (bind_address == NULL) {
		fd = listen_any(port);
	} else {
		struct addrinfo hints = {.ai_flags = AI_PASSIVE | AI_NUMERICSERV,
		                         .ai_socktype = SOCK_STREAM};
		struct addrinfo *found;
		char service[16];
		snprintf(service, sizeof(service), "%d", port);
		int rc = getaddrinfo(bind_address, service, &hints, &found);
		if (rc != 0) {
			error = gai_strerror(rc);
			goto fail;
		}
		fd = listen_socket(found->ai_addr, found->ai_addrlen, false);
		freeaddrinfo(found);
	}
	if (fd < 0) {
		error = strerror(errno);
		goto fail;
	}
	struct listener *l = calloc(1, sizeof(*l));
	if (l == NULL) {
		error = strerror(ENOMEM);
		goto fail_socket;
	}
	struct sockaddr_storage bound;
	socklen_t bound_len = sizeof(bound);
	if (getsockname(fd, (struct sockaddr *)&bound, &bound_len) != 0) {
		error = strerror(errno);
		goto fail_listener;
	}
	l->route_port = port;
	l->bound_port =
	        ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
	                                          : ((struct sockaddr_in *)&bound)->sin_port);
	/* Backlog 0: the socket already listens. */
	l->evl = evconnlistener_new(base, listener_accept, l,
	                            LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE, 0, fd);
	if (l->evl == NULL) {
		error = "cannot create the listener";
		goto fail_listener;
	}
	l->next = listeners;
	listeners = l;
	format_endpoint(endpoint, sizeof(endpoint), bind_address, l->bound_port);
	log_msg("http", EXPOSR_LOG_INFO, "listening on %s", endpoint);
	return EXPOSR_OK;
fail_listener:
	free(l);
fail_socket:
	close(fd);
fail:
	format_endpoint(endpoint, sizeof(endpoint), bind_address, port);
	log_msg("http", EXPOSR_LOG_ERROR, "cannot listen on %s: %s", endpoint, error);
	return EXPOSR_ERROR;
}

static void listeners_free_until(struct listener *stop)
{
	while (listeners != stop) {
		struct listener *l = listeners;
		listeners = l->next;
		evconnlistener_free(l->evl);
		free(l);
	}
}

int http_listeners_open(struct event_base *base, const char *bind_address,
                        const struct http_limits *configured)
{
	/* Zero means the default. */
	static const struct http_limits defaults = {
	        .max_head_bytes = HTTP_DEFAULT_MAX_HEAD_BYTES,
	        .max_headers = HTTP_DEFAULT_MAX_HEADERS,
	        .head_timeout_ms = HTTP_DEFAULT_HEAD_TIMEOUT_MS,
	        .idle_timeout_ms = HTTP_DEFAULT_IDLE_TIMEOUT_MS,
	};
	limits = configured != NULL ? *configured : defaults;
	if (limits.max_head_bytes == 0)
		limits.max_head_bytes = defaults.max_head_bytes;
	if (limits.max_headers == 0)
		limits.max_headers = defaults.max_headers;
	if (limits.head_timeout_ms == 0)
		limits.head_timeout_ms = defaults.head_timeout_ms;
	if (limits.idle_timeout_ms == 0)
		limits.idle_timeout_ms = defaults.idle_timeout_ms;
	struct listener *before = listeners;
	for (size_t i = 0; i < route_count; i++) {
		if (listener_find(routes[i].route.port) != NULL)
			continue;
		if (listener_open(base, bind_address, routes[i].route.port) != EXPOSR_OK) {
			listeners_free_until(before);
			return EXPOSR_ERROR;
		}
	}
	return EXPOSR_OK;
}

int http_listener_bound_port(int route_port)
{
	struct listener *l = listener_find(route_port);
	return l != NULL ? l->bound_port : -1;
}

void http_listeners_stop_accepting(void)
{
	for (struct listener *l = listeners; l != NULL; l = l->next)
		if (evconnlistener_disable(l->evl) != 0)
			log_msg("http", EXPOSR_LOG_WARN, "cannot stop accepting on port %d",
			        l->bound_port);
}

void http_listeners_quiesce(void (*done)(void))
{
	http_conns_quiesce(done);
}

void http_listeners_free(void)
{
	http_conns_close_all();
	listeners_free_until(NULL);
	for (size_t i = 0; i < route_count; i++)
		free((char *)routes[i].route.name);
	free(routes);
	routes = NULL;
	route_count = 0;
	route_capacity = 0;
}

const struct exposr_http_api http_api = {
        .size = sizeof(struct exposr_http_api),
        .route_add = http_route_add,
        .header = request_header,
        .respond = http_respond,
        .decline = http_decline,
        .takeover = http_takeover,
        .release = http_release,
        .reason = http_reason,
        .forward = http_forward_start,
        .forward_stop = http_forward_stop,
        .forward_close = http_forward_close,
};
