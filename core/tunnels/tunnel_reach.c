/* tunnels->reach (docs/cluster.md §8.2, §8.6): a channel of one of the tunnel's local
 * connections, or a plain TCP connection to the ingress port of the node that holds one,
 * which the caller uses like a channel. Every ingress gets clustering from it. */
#include "tunnel_reach.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/bufferevent.h>
#include <event2/event.h>

#include "cluster_tunnels.h"
#include "host_table.h"
#include "log.h"
#include "streams.h"
#include "tunnel_state.h"

/* As long as a channel open may take (§5.8: "timed out after 5 s"). */
#define REROUTE_CONNECT_TIMEOUT_S 5

struct reroute {
	struct bufferevent *bev; /* NULL while a local channel is being opened */
	void *open_token;        /* the local open's cancel token */
	exposr_reach_cb cb;
	void *arg;
	char tunnel_id[66]; /* §1.1: at most 65 characters; longer ones are cut in logs */
	char target[EXPOSR_ROUTE_IP_MAX + 8];
};

static void on_connect_event(struct bufferevent *bev, short what, void *arg)
{
	struct reroute *r = arg;
	exposr_reach_cb cb = r->cb;
	void *cb_arg = r->arg;
	struct exposr_stream *stream = NULL;
	if (what & BEV_EVENT_CONNECTED) {
		/* The stream takes the socket: its callbacks and timeouts replace ours. */
		stream = stream_socket_new(bev);
		if (stream == NULL)
			bufferevent_free(bev);
	} else {
		log_msg("cluster", EXPOSR_LOG_DEBUG,
		        "tunnel %s: cannot reach the owning node at %s%s", r->tunnel_id, r->target,
		        (what & BEV_EVENT_TIMEOUT) ? " (timed out)" : "");
		bufferevent_free(bev);
	}
	free(r);
	cb(cb_arg, stream != NULL ? EXPOSR_OK : EXPOSR_UNREACHABLE, stream, true);
}

/* sockaddr of `ip` (a literal, as nodes announce themselves) and `port`. */
static bool node_address(const char *ip, int port, struct sockaddr_storage *ss, socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, ip, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)port);
		*len = sizeof(*v4);
		return true;
	}
	if (inet_pton(AF_INET6, ip, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*v6);
		return true;
	}
	return false;
}

/* NULL when cb already ran. The replayed bytes wait in the output until connected. */
static struct reroute *connect_node(struct reroute *r, const struct exposr_tunnel_route *route,
                                    const struct exposr_reach_options *opts)
{
	struct sockaddr_storage ss;
	socklen_t len;
	struct timeval timeout = {.tv_sec = REROUTE_CONNECT_TIMEOUT_S, .tv_usec = 0};
	if (!node_address(route->ip, opts->port, &ss, &len))
		goto fail;
	snprintf(r->target, sizeof(r->target), "%s%s%s:%d", ss.ss_family == AF_INET6 ? "[" : "",
	         route->ip, ss.ss_family == AF_INET6 ? "]" : "", opts->port);
	r->bev = bufferevent_socket_new(host_event_base(), -1, BEV_OPT_CLOSE_ON_FREE);
	if (r->bev == NULL)
		goto fail;
	/* The write timeout bounds the connect. */
	bufferevent_setcb(r->bev, NULL, NULL, on_connect_event, r);
	if (bufferevent_set_timeouts(r->bev, NULL, &timeout) != 0 ||
	    (opts->replay_len > 0 &&
	     bufferevent_write(r->bev, opts->replay, opts->replay_len) != 0) ||
	    bufferevent_socket_connect(r->bev, (struct sockaddr *)&ss, (int)len) != 0)
		goto fail;
	log_msg("cluster", EXPOSR_LOG_DEBUG, "tunnel %s: re-routed to node %s at %s", r->tunnel_id,
	        route->node_id, r->target);
	return r;
fail:
	log_msg("cluster", EXPOSR_LOG_DEBUG, "tunnel %s: cannot connect to node %s at %s",
	        r->tunnel_id, route->node_id, route->ip);
	if (r->bev != NULL)
		bufferevent_free(r->bev);
	exposr_reach_cb cb = r->cb;
	void *arg = r->arg;
	free(r);
	cb(arg, EXPOSR_UNREACHABLE, NULL, true);
	return NULL;
}

static void on_local_channel(void *arg, int status, struct exposr_stream *stream)
{
	struct reroute *r = arg;
	exposr_reach_cb cb = r->cb;
	void *cb_arg = r->arg;
	free(r);
	cb(cb_arg, status, stream, false);
}

void *tunnel_reach(const char *tunnel_id, const struct exposr_reach_options *opts,
                   exposr_reach_cb cb, void *arg)
{
	return tunnel_reach_from(tunnel_id, opts, NULL, cb, arg);
}

/* A re-routed connection carries no origin: the owning node sees this node as the peer. */
void *tunnel_reach_from(const char *tunnel_id, const struct exposr_reach_options *opts,
                        const struct exposr_origin *origin, exposr_reach_cb cb, void *arg)
{
	struct exposr_tunnel_route route;
	int rc = cluster_tunnels_route(tunnel_id, &route);
	if (rc != EXPOSR_OK) {
		/* Not connected any more (a race), or only through nodes we cannot use. */
		if (rc == EXPOSR_ERROR)
			log_msg("cluster", EXPOSR_LOG_DEBUG,
			        "tunnel %s: its nodes are unknown or stale", tunnel_id);
		cb(arg, rc == EXPOSR_NOT_FOUND ? EXPOSR_NOT_FOUND : EXPOSR_UNREACHABLE, NULL,
		   !route.local);
		return NULL;
	}
	struct reroute *r = calloc(1, sizeof(*r));
	if (r == NULL) {
		cb(arg, EXPOSR_ERROR, NULL, !route.local);
		return NULL;
	}
	r->cb = cb;
	r->arg = arg;
	snprintf(r->tunnel_id, sizeof(r->tunnel_id), "%s", tunnel_id);
	if (!route.local)
		return connect_node(r, &route, opts);
	/* NULL: on_local_channel already ran and freed `r`. */
	void *token = tunnel_state_open_stream_from(tunnel_id, origin, on_local_channel, r);
	if (token == NULL)
		return NULL;
	r->open_token = token;
	return r;
}

void tunnel_reach_cancel(void *token)
{
	struct reroute *r = token;
	if (r == NULL)
		return;
	if (r->bev != NULL)
		bufferevent_free(r->bev);
	else
		tunnel_state_cancel_open(r->open_token);
	free(r);
}
