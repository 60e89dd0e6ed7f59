/* One public connection from accept to the splice (docs/ingress.md §6): the ClientHello's
 * server name names the tunnel; an unknown tunnel, one with SNI off or one connected
 * nowhere loses its TCP connection before any TLS is spoken (no alert). A tunnel
 * connected here gets the TLS ended and a channel; one connected on another node gets
 * the client's bytes, ClientHello first, carried to that node's SNI port
 * (docs/cluster.md §8.6). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "sni.h"
#include "tls_stream.h"

struct sni_conn {
	LIST_ENTRY(sni_conn) link;
	struct sni *s;
	struct bufferevent *bev;       /* the socket until it becomes a stream */
	struct exposr_stream *tls;     /* handshaking */
	struct exposr_stream *channel; /* ... with the tunnel channel waiting */
	struct exposr_timer *timeout;
	void *reach_token;
	bool waiting; /* a tunnels->get is in flight: it frees a closed connection */
	bool closed;
	char id[SNI_NAME_MAX];
	bool peer_known;
	char peer_ip[SNI_PEER_IP_SIZE];
	int peer_port;
};

static void conn_unlink(struct sni_conn *c)
{
	struct sni *s = c->s;
	LIST_REMOVE(c, link);
	s->conn_count--;
	s->host->metrics->set(s->handshakes_gauge, (int64_t)s->conn_count);
}

/* Ends the connection's handshake phase: what is still held is closed (no alert is
 * sent by a socket closed before TLS started). */
static void conn_close(struct sni_conn *c)
{
	struct sni *s = c->s;
	if (c->timeout != NULL)
		s->host->timer_cancel(c->timeout);
	c->timeout = NULL;
	if (c->reach_token != NULL)
		s->host->tunnels->cancel_reach(c->reach_token);
	c->reach_token = NULL;
	if (c->channel != NULL)
		c->channel->vt->close(c->channel);
	c->channel = NULL;
	if (c->tls != NULL)
		c->tls->vt->close(c->tls);
	c->tls = NULL;
	if (c->bev != NULL)
		bufferevent_free(c->bev);
	c->bev = NULL;
	if (!c->closed) {
		c->closed = true;
		conn_unlink(c);
	}
	if (!c->waiting)
		free(c);
	sni_check_drained(s);
}

static void refuse(struct sni_conn *c, const char *why)
{
	sni_log(c->s, EXPOSR_LOG_DEBUG, "connection for %s closed: %s",
	        c->id[0] != '\0' ? c->id : "no tunnel", why);
	conn_close(c);
}

static void on_splice_done(void *arg)
{
	struct sni *s = arg;
	s->splice_count--;
	s->host->metrics->set(s->splices_gauge, (int64_t)s->splice_count);
	sni_check_drained(s);
}

/* The connection leaves the handshake phase: the core's splice owns both streams. */
static void conn_splice(struct sni_conn *c, struct exposr_stream *client,
                        struct exposr_stream *tunnel)
{
	struct sni *s = c->s;
	c->tls = c->channel = NULL;
	if (s->host->streams->splice(client, tunnel, 0, 0, on_splice_done, s) != EXPOSR_OK) {
		client->vt->close(client);
		tunnel->vt->close(tunnel);
		refuse(c, "out of memory");
		return;
	}
	s->splice_count++;
	s->host->metrics->set(s->splices_gauge, (int64_t)s->splice_count);
	conn_close(c);
}

static void on_handshake(void *arg, bool ok)
{
	struct sni_conn *c = arg;
	if (!ok) {
		refuse(c, "TLS handshake failed");
		return;
	}
	conn_splice(c, c->tls, c->channel);
}

/* The socket, with what it has read, as a core stream. */
static struct exposr_stream *client_stream(struct sni_conn *c)
{
	struct exposr_stream *raw = c->s->host->streams->from_bufferevent(c->bev);
	if (raw != NULL)
		c->bev = NULL;
	return raw;
}

static void on_reach(void *arg, int status, struct exposr_stream *stream, bool remote)
{
	struct sni_conn *c = arg;
	struct sni *s = c->s;
	c->reach_token = NULL;
	if (status != EXPOSR_OK) {
		refuse(c, status == EXPOSR_NOT_FOUND ? "tunnel not connected"
		          : status == EXPOSR_UNREACHABLE
		                  ? "the node holding the tunnel is unreachable"
		          : status == EXPOSR_AGAIN ? "tunnel out of channels"
		                                   : "tunnel channel failed");
		return;
	}
	if (remote) {
		/* The node got the ClientHello already. */
		struct evbuffer *hello = bufferevent_get_input(c->bev);
		evbuffer_drain(hello, evbuffer_get_length(hello));
		struct exposr_stream *client = client_stream(c);
		if (client == NULL) {
			stream->vt->close(stream);
			refuse(c, "out of memory");
			return;
		}
		conn_splice(c, client, stream);
		return;
	}
	c->channel = stream;
	struct exposr_stream *raw = client_stream(c);
	SSL *ssl = raw != NULL ? SSL_new(s->cert.ctx) : NULL;
	if (ssl != NULL) {
		SSL_set_accept_state(ssl);
		const struct tls_stream_events events = {.on_handshake = on_handshake, .arg = c};
		c->tls = tls_stream_new(s->host->event_base(), raw, ssl, &events);
	}
	if (c->tls == NULL) {
		if (raw != NULL)
			raw->vt->close(raw);
		refuse(c, "out of memory");
	}
}

static void on_record(void *arg, int status, const cJSON *record)
{
	struct sni_conn *c = arg;
	struct sni *s = c->s;
	c->waiting = false;
	if (c->closed) {
		free(c);
		return;
	}
	if (status != EXPOSR_OK) {
		if (status != EXPOSR_NOT_FOUND)
			sni_log(s, EXPOSR_LOG_WARN, "cannot read tunnel %s", c->id);
		refuse(c, status == EXPOSR_NOT_FOUND ? "unknown tunnel" : "storage error");
		return;
	}
	const cJSON *sni = cJSON_GetObjectItemCaseSensitive(
	        cJSON_GetObjectItemCaseSensitive(record, "ingress"), "sni");
	if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(sni, "enabled"))) {
		refuse(c, "SNI ingress disabled for the tunnel");
		return;
	}
	struct evbuffer *hello = bufferevent_get_input(c->bev);
	size_t len = evbuffer_get_length(hello);
	/* Every node listens on the same SNI port (docs/cluster.md §8.6). */
	const struct exposr_reach_options opts = {
	        .port = s->settings.port,
	        .replay = evbuffer_pullup(hello, (ssize_t)len),
	        .replay_len = len,
	};
	/* A connection another node re-routed here names that node: the client's address
	 * travels nowhere in the raw TLS bytes. */
	const struct exposr_origin origin = {.ip = c->peer_ip, .port = c->peer_port};
	void *token = s->host->tunnels->reach_from(c->id, &opts, c->peer_known ? &origin : NULL,
	                                           on_reach, c);
	/* NULL: on_reach already ran and `c` may be gone. */
	if (token != NULL)
		c->reach_token = token;
}

/* `<id>.<domain>`, the id being one label that is a tunnel id. */
static bool tunnel_of(const struct sni *s, const char *name, char id[SNI_NAME_MAX])
{
	size_t len = strlen(name), dlen = strlen(s->cert.domain);
	if (len < dlen + 2 || name[len - dlen - 1] != '.' ||
	    strcmp(name + len - dlen, s->cert.domain) != 0)
		return false;
	memcpy(id, name, len - dlen - 1);
	id[len - dlen - 1] = '\0';
	return strchr(id, '.') == NULL && s->host->tunnels->valid_id(id);
}

static void on_hello(struct bufferevent *bev, void *arg)
{
	struct sni_conn *c = arg;
	struct sni *s = c->s;
	struct evbuffer *input = bufferevent_get_input(bev);
	size_t len = evbuffer_get_length(input);
	char name[SNI_NAME_MAX];
	enum sni_hello rc = sni_hello_parse(evbuffer_pullup(input, (ssize_t)len), len, name);
	if (rc == SNI_HELLO_MORE && len < SNI_MAX_HELLO)
		return;
	if (rc != SNI_HELLO_NAME) {
		refuse(c, rc == SNI_HELLO_NONE ? "no server name" : "not a TLS ClientHello");
		return;
	}
	if (!tunnel_of(s, name, c->id)) {
		c->id[0] = '\0';
		sni_log(s, EXPOSR_LOG_DEBUG, "server name %s names no tunnel", name);
		conn_close(c);
		return;
	}
	/* The rest waits in the socket until the tunnel is known. */
	bufferevent_disable(bev, EV_READ);
	c->waiting = true;
	s->host->tunnels->get(c->id, on_record, c);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	(void)what;
	refuse(arg, "the client left");
}

static void on_timeout(void *arg)
{
	struct sni_conn *c = arg;
	c->timeout = NULL;
	refuse(c, "handshake timed out");
}

void sni_conn_accept(struct sni *s, int fd, const struct exposr_origin *peer)
{
	struct event_base *base = s->host->event_base();
	if (s->stopping || s->conn_count >= s->settings.max_handshakes) {
		/* A flood of unfinished handshakes: the newest wait outside. */
		sni_log(s, EXPOSR_LOG_DEBUG, "connection refused: %zu handshakes in progress",
		        s->conn_count);
		evutil_closesocket(fd);
		return;
	}
	struct sni_conn *c = calloc(1, sizeof(*c));
	if (c == NULL ||
	    (c->bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		free(c);
		evutil_closesocket(fd);
		return;
	}
	c->s = s;
	if (peer != NULL) {
		c->peer_known = true;
		snprintf(c->peer_ip, sizeof(c->peer_ip), "%s", peer->ip);
		c->peer_port = peer->port;
	}
	LIST_INSERT_HEAD(&s->conns, c, link);
	s->conn_count++;
	s->host->metrics->set(s->handshakes_gauge, (int64_t)s->conn_count);
	c->timeout = s->host->timer_add(s->mod, (uint64_t)s->settings.handshake_timeout_s * 1000,
	                                false, on_timeout, c);
	/* The watermark bounds what a client may make us hold before its name is read. */
	bufferevent_setwatermark(c->bev, EV_READ, 0, SNI_MAX_HELLO);
	bufferevent_setcb(c->bev, on_hello, NULL, on_event, c);
	if (c->timeout == NULL || bufferevent_enable(c->bev, EV_READ) != 0)
		refuse(c, "out of memory");
}

void sni_conns_close_idle(struct sni *s)
{
	struct sni_conn *c = LIST_FIRST(&s->conns);
	while (c != NULL) {
		struct sni_conn *next = LIST_NEXT(c, link);
		if (!c->waiting && c->reach_token == NULL)
			refuse(c, "server stopping");
		c = next;
	}
}

void sni_conns_free_all(struct sni *s)
{
	while (!LIST_EMPTY(&s->conns)) {
		struct sni_conn *c = LIST_FIRST(&s->conns);
		/* A lookup still in flight finds it closed and frees it. */
		conn_close(c);
	}
}
