/* Where a request goes (protocol.md §8.2, §8.6): a channel of one of the tunnel's local
 * connections, or a plain TCP connection to the ingress port of the node that holds one,
 * which the rest of the ingress uses like a channel. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/bufferevent.h>
#include <event2/event.h>

#include "ingress.h"

/* As long as a channel open may take (§5.8: "timed out after 5 s"). */
#define REROUTE_CONNECT_TIMEOUT_S 5

struct reroute {
	struct ingress *in;
	struct bufferevent *bev;
	exposr_channel_cb cb;
	void *arg;
	char tunnel_id[INGRESS_NAME_MAX];
	char target[EXPOSR_ROUTE_IP_MAX + 8];
};

static bool has_route(const struct exposr_host *host)
{
	const struct exposr_tunnel_api *t = host->tunnels;
	return t->size >= offsetof(struct exposr_tunnel_api, route) + sizeof(t->route) &&
	       t->route != NULL;
}

static void on_connect_event(struct bufferevent *bev, short what, void *arg)
{
	struct reroute *r = arg;
	struct ingress *in = r->in;
	exposr_channel_cb cb = r->cb;
	void *cb_arg = r->arg;
	struct exposr_stream *stream = NULL;
	if (what & BEV_EVENT_CONNECTED) {
		/* The stream takes the socket: its callbacks and timeouts replace ours. */
		stream = in->host->streams->from_bufferevent(bev);
		if (stream == NULL)
			bufferevent_free(bev);
	} else {
		ingress_log(in, EXPOSR_LOG_DEBUG, "tunnel %s: cannot reach the owning node at %s%s",
		            r->tunnel_id, r->target,
		            (what & BEV_EVENT_TIMEOUT) ? " (timed out)" : "");
		bufferevent_free(bev);
	}
	free(r);
	cb(cb_arg, stream != NULL ? EXPOSR_OK : EXPOSR_ERROR, stream);
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

/* NULL when cb already ran. */
static struct reroute *connect_node(struct ingress *in, const char *tunnel_id,
                                    const struct exposr_tunnel_route *route, int port,
                                    exposr_channel_cb cb, void *arg)
{
	struct sockaddr_storage ss;
	socklen_t len;
	struct reroute *r = calloc(1, sizeof(*r));
	struct timeval timeout = {.tv_sec = REROUTE_CONNECT_TIMEOUT_S, .tv_usec = 0};
	if (r == NULL || !node_address(route->ip, port, &ss, &len))
		goto fail;
	r->in = in;
	r->cb = cb;
	r->arg = arg;
	snprintf(r->tunnel_id, sizeof(r->tunnel_id), "%s", tunnel_id);
	snprintf(r->target, sizeof(r->target), "%s%s%s:%d", ss.ss_family == AF_INET6 ? "[" : "",
	         route->ip, ss.ss_family == AF_INET6 ? "]" : "", port);
	r->bev = bufferevent_socket_new(in->host->event_base(), -1, BEV_OPT_CLOSE_ON_FREE);
	if (r->bev == NULL)
		goto fail;
	/* The write timeout bounds the connect. */
	bufferevent_setcb(r->bev, NULL, NULL, on_connect_event, r);
	if (bufferevent_set_timeouts(r->bev, NULL, &timeout) != 0 ||
	    bufferevent_socket_connect(r->bev, (struct sockaddr *)&ss, (int)len) != 0)
		goto fail;
	ingress_log(in, EXPOSR_LOG_DEBUG, "tunnel %s: re-routed to node %s at %s", tunnel_id,
	            route->node_id, r->target);
	return r;
fail:
	ingress_log(in, EXPOSR_LOG_DEBUG, "tunnel %s: cannot connect to node %s at %s", tunnel_id,
	            route->node_id, route->ip);
	if (r != NULL && r->bev != NULL)
		bufferevent_free(r->bev);
	free(r);
	cb(arg, EXPOSR_ERROR, NULL);
	return NULL;
}

void *reroute_open_stream(struct ingress *in, struct ingress_tunnel *tunnel, int port,
                          exposr_channel_cb cb, void *arg)
{
	const struct exposr_host *host = in->host;
	struct exposr_tunnel_route route = {.local = true};
	int rc = has_route(host) ? host->tunnels->route(tunnel->id, &route) : EXPOSR_OK;
	tunnel->remote = false;
	if (rc == EXPOSR_OK && route.local)
		return host->tunnels->open_stream(tunnel->id, cb, arg);
	if (rc != EXPOSR_OK) {
		/* Not connected any more (a race), or only through nodes we cannot use. */
		if (rc == EXPOSR_ERROR)
			ingress_log(in, EXPOSR_LOG_DEBUG,
			            "tunnel %s: its nodes are unknown or stale", tunnel->id);
		cb(arg, rc == EXPOSR_NOT_FOUND ? EXPOSR_NOT_FOUND : EXPOSR_ERROR, NULL);
		return NULL;
	}
	tunnel->remote = true;
	return connect_node(in, tunnel->id, &route, port, cb, arg);
}

void reroute_cancel_open(struct ingress *in, const struct ingress_tunnel *tunnel, void *token)
{
	if (token == NULL)
		return;
	if (!tunnel->remote) {
		in->host->tunnels->cancel_open(token);
		return;
	}
	struct reroute *r = token;
	bufferevent_free(r->bev);
	free(r);
}
