/* A public connection the listener carries to a tunnel channel (host->http->forward):
 * what is the ingress's own in it, which is the head each request gets (§5.5), the checks
 * on later requests, the splice of an upgrade, and the counts behind the gauges. */
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "ingress_http.h"
#include "rewrite.h"
#include "tunnel_lookup.h"

struct ingress_conn {
	LIST_ENTRY(ingress_conn) link;
	struct ingress *in;
	struct exposr_http_forward *forward;
	struct ingress_tunnel tunnel;
};

static int proxied_write_head(void *ctx, const struct exposr_http_request *req,
                              struct evbuffer *out)
{
	struct ingress_conn *c = ctx;
	/* Re-routed to the node that holds the tunnel (§8.6): that node adds the rest. */
	const struct rewrite_context rewrite = {
	        .node_id = c->in->host->node_id(),
	        .peer_addr = req->remote_addr,
	        .local = !c->tunnel.remote,
	        .target = &c->tunnel.target,
	};
	return head_rewrite(req, &rewrite, out);
}

/* A later request on the connection must name the same tunnel, and not come round
 * through us again. */
static int proxied_check(void *ctx, const struct exposr_http_request *req, const char **code)
{
	struct ingress_conn *c = ctx;
	const struct exposr_host *host = c->in->host;
	char name[INGRESS_NAME_MAX];
	if (!tunnel_host_of(host->http->header(req, "Host"), name, sizeof(name)) ||
	    strcmp(name, c->tunnel.host) != 0) {
		*code = ERR_MISDIRECTED;
		return 421;
	}
	if (tunnel_loop_detected(req, host->node_id())) {
		*code = ERR_REQUEST_LOOP;
		return 508;
	}
	return 0;
}

static void splice_done(void *arg)
{
	struct ingress *in = arg;
	in->splice_count--;
	in->host->metrics->add(in->splices_gauge, -1);
	ingress_check_drained(in);
}

/* From here on bytes go raw both ways, through the core splice. */
static void proxied_upgraded(void *ctx, struct exposr_stream *client, struct exposr_stream *channel)
{
	struct ingress_conn *c = ctx;
	struct ingress *in = c->in;
	const struct exposr_host *host = in->host;
	/* Counted first: the splice may end, and call splice_done(), before it returns. */
	in->splice_count++;
	host->metrics->add(in->splices_gauge, 1);
	if (host->streams->splice(client, channel, 0, 0, splice_done, in) != EXPOSR_OK) {
		/* The streams are still ours. */
		channel->vt->close(channel);
		client->vt->close(client);
		splice_done(in);
	}
}

static void conn_free(struct ingress_conn *c)
{
	struct ingress *in = c->in;
	LIST_REMOVE(c, link);
	in->conn_count--;
	in->host->metrics->add(in->conns_gauge, -1);
	free(c);
	ingress_check_drained(in);
}

static void proxied_done(void *ctx)
{
	conn_free(ctx);
}

static const struct exposr_http_forward_hooks proxied_hooks = {
        .check = proxied_check,
        .write_head = proxied_write_head,
        .upgraded = proxied_upgraded,
        .done = proxied_done,
};

void proxied_start(struct ingress *in, struct exposr_http_request *req,
                   struct exposr_stream *channel, const struct ingress_tunnel *tunnel)
{
	const struct exposr_host *host = in->host;
	struct ingress_conn *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		channel->vt->close(channel);
		host->http->respond(req, 500, NULL, NULL, 0);
		return;
	}
	c->in = in;
	c->tunnel = *tunnel;
	LIST_INSERT_HEAD(&in->conns, c, link);
	in->conn_count++;
	host->metrics->add(in->conns_gauge, 1);
	const struct ingress_settings *s = &in->settings;
	const struct exposr_http_forward_options options = {
	        .label = c->tunnel.id,
	        .stream_error_code = ERR_TARGET_CON_RESET,
	        .head_timeout_ms = s->head_timeout_ms,
	        .idle_timeout_ms = s->idle_timeout_ms,
	        .max_head_bytes = s->max_head_size,
	};
	c->forward = host->http->forward(req, channel, &options, &proxied_hooks, c);
	if (c->forward == NULL)
		conn_free(c); /* it ended at once, or the client had left */
}

void proxied_stop_all(struct ingress *in)
{
	struct ingress_conn *c = LIST_FIRST(&in->conns);
	while (c != NULL) {
		struct ingress_conn *next = LIST_NEXT(c, link);
		in->host->http->forward_stop(c->forward); /* may free c */
		c = next;
	}
}

void proxied_close_all(struct ingress *in)
{
	while (!LIST_EMPTY(&in->conns)) {
		struct ingress_conn *c = LIST_FIRST(&in->conns);
		in->host->http->forward_close(c->forward);
		conn_free(c);
	}
}
