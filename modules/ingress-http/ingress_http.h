/* The HTTP ingress module's shared state and the calls between its files. */
#ifndef EXPOSR_INGRESS_HTTP_H
#define EXPOSR_INGRESS_HTTP_H

#include <sys/queue.h>

#include <exposr/ingress.h>
#include <exposr/module.h>

#include "whatwg_url.h"

struct ingress_conn;
struct admission;

/* Longest tunnel id or Host we keep: longer ones cannot name a tunnel anyway. */
#define INGRESS_NAME_MAX 256

/* The settings, read once at init. */
struct ingress_settings {
	struct url_parts url;          /* --ingress-http-url, "rest" is "/" */
	char domain[URL_HOSTNAME_MAX]; /* its hostname without a leading "*." */
	int port;
	/* Deprecated overrides of the listener's limits; 0: the listener's. */
	unsigned idle_timeout_ms;
	unsigned head_timeout_ms;
	size_t max_head_size;
};

struct ingress {
	const struct exposr_host *host;
	struct exposr_module_handle *mod;
	struct ingress_settings settings;
	LIST_HEAD(, ingress_conn) conns; /* proxied connections in HTTP mode */
	size_t conn_count;
	LIST_HEAD(, admission) admissions; /* first requests between route and takeover */
	size_t admission_count;
	size_t splice_count;                 /* upgraded connections the core splice owns */
	struct exposr_metric *conns_gauge;   /* conn_count, for /metrics */
	struct exposr_metric *splices_gauge; /* splice_count, for /metrics */
	bool stopping;
	bool drained; /* host->drained() was called */
};

/* The tunnel's target as far as the Host/Referer/Origin rewrite needs it (§5.5). */
struct ingress_target {
	bool rewrite; /* an http or https target URL */
	char scheme[8];
	char hostname[URL_HOSTNAME_MAX];
	char port[6];
};

/* What a proxied connection keeps of its first request. */
struct ingress_tunnel {
	char id[INGRESS_NAME_MAX];
	char host[INGRESS_NAME_MAX]; /* the Host that named it, lower case, without port */
	struct ingress_target target;
	bool remote; /* its "channel" is a connection to the node that holds it (§8.6) */
};

/* module.c: reports host->drained() once a stopping ingress has nothing left. */
void ingress_check_drained(struct ingress *in);
void ingress_log(struct ingress *in, enum exposr_log_level level, const char *fmt, ...)
        EXPOSR_PRINTF(3, 4);

/* admit.c: the route's handler, and what is left of it at unload. */
void admission_handle(void *self, struct exposr_http_request *req);
void admissions_abort_all(struct ingress *in);

/* proxied.c: a request that passed every check goes on with its channel; the listener
 * carries it and the later requests on its connection. Takes `channel` and finishes
 * `req`. */
void proxied_start(struct ingress *in, struct exposr_http_request *req,
                   struct exposr_stream *channel, const struct ingress_tunnel *tunnel);
/* Stopping: connections end between requests. */
void proxied_stop_all(struct ingress *in);
/* Unloading: they end at once. */
void proxied_close_all(struct ingress *in);

#endif
