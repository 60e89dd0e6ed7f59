/* Multiplex protocol v2, client side (see mux_client.h). Headers are encoded and decoded
 * by the server's own frame code (lib/mux). */
#include "mux_client.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <llhttp.h>

#include "hmap.h"
#include "monotonic.h"
#include "mux_frame.h"
#include "net.h"
#include "sock_fill.h"
#include "ws_client.h"

/* ws-multiplex: PAUSE once more than 16 KiB wait for the target socket (§4.7). */
#define CHANNEL_PAUSE_AT 16384
/* Largest DATA payload: what one read of a Node socket gives. */
#define MAX_DATA_PAYLOAD  (64 * 1024)
#define MAX_CHANNELS      65535
#define PING_EVERY_MS     10000
#define PONG_TIMEOUT_MS   20000
#define CLOSE_ACK_WAIT_MS 1000
#define FLUSH_TIMEOUT_S   5
#define MAX_CLOSE_REASON  64

struct mux_client_stats mux_client_stats;

enum channel_state {
	CH_OPEN,
	CH_CLOSING, /* our CLOSE is out: waiting for the ACK */
};

struct channel {
	struct mux_client *m;
	uint32_t local, remote;
	enum channel_state state;
	struct bufferevent *target;
	bool target_connected;
	bool target_direct; /* plain TCP: read and written past libevent */
	bool target_eof;    /* the target ended: CLOSE once its input is sent */
	bool peer_paused;   /* the server sent PAUSE */
	bool we_paused;     /* we sent PAUSE */
	uint64_t closing_since;
	llhttp_t *http; /* counts the requests of an http(s) target; NULL once it cannot */
	struct hmap_node hash_node;   /* keyed by `local` */
	TAILQ_ENTRY(channel) blocked; /* in m->blocked while is_blocked */
	bool is_blocked;              /* waiting for the websocket to drain */
	TAILQ_ENTRY(channel) closing; /* in m->closing while CH_CLOSING, oldest first */
};

struct mux_client {
	struct event_base *base;
	struct ws_client *ws;
	const struct mux_client_handler *handler;
	void *arg;
	const struct net_target *target;
	struct hmap channels; /* by local number */
	uint32_t next_channel;
	TAILQ_HEAD(, channel) blocked, closing;
	uint64_t last_ping;
	bool open;
	/* The message being received. */
	uint8_t head[MUX_V2_HEADER_LEN];
	size_t head_len;
	struct mux_header h;
	struct channel *rx;
	uint8_t reason[MAX_CLOSE_REASON];
	size_t reason_len;
};

/* Targets still writing what a channel received before the server closed it. */
static TAILQ_HEAD(, flushing_target) flushing = TAILQ_HEAD_INITIALIZER(flushing);

struct flushing_target {
	TAILQ_ENTRY(flushing_target) link;
	struct bufferevent *bev;
};

/* channel table, keyed by our own number */

static struct channel *channel_find(struct mux_client *m, uint32_t local)
{
	for (struct hmap_node *node = hmap_chain(&m->channels, local); node != NULL;
	     node = node->next) {
		struct channel *ch = hmap_entry(node, struct channel, hash_node);
		if (ch->local == local)
			return ch;
	}
	return NULL;
}

/* sending */

static void send_message(struct mux_client *m, uint16_t type, uint32_t dst, uint32_t src,
                         const char *reason)
{
	uint8_t head[MUX_V2_HEADER_LEN];
	size_t len = reason != NULL ? strlen(reason) : 0;
	mux_encode_v2(head, type, dst, src, (uint32_t)len);
	if (ws_client_send_mem(m->ws, head, sizeof(head), (const uint8_t *)reason, len) == 0)
		mux_client_stats.messages_out++;
}

/* channels */

static void channel_unblock(struct channel *ch)
{
	if (ch->is_blocked)
		TAILQ_REMOVE(&ch->m->blocked, ch, blocked);
	ch->is_blocked = false;
}

static void channel_free(struct channel *ch)
{
	struct mux_client *m = ch->m;
	hmap_remove(&m->channels, &ch->hash_node);
	channel_unblock(ch);
	if (ch->state == CH_CLOSING)
		TAILQ_REMOVE(&m->closing, ch, closing);
	if (ch->target != NULL)
		bufferevent_free(ch->target);
	free(ch->http);
	free(ch);
}

/* We end the channel: CLOSE, then wait for the ACK (or 1 s). */
static void channel_close(struct channel *ch)
{
	struct mux_client *m = ch->m;
	if (ch->state != CH_OPEN)
		return;
	send_message(m, MUX_CLOSE, ch->remote, ch->local, NULL);
	ch->state = CH_CLOSING;
	ch->closing_since = monotonic_ms();
	TAILQ_INSERT_TAIL(&m->closing, ch, closing);
	channel_unblock(ch);
	if (ch->target != NULL) {
		bufferevent_free(ch->target);
		ch->target = NULL;
	}
	mux_client_stats.channels_closed++;
}

/* Moves the target's input into DATA messages while the server and the socket allow. */
static void channel_pump(struct channel *ch)
{
	struct mux_client *m = ch->m;
	if (ch->state != CH_OPEN || ch->target == NULL)
		return;
	struct evbuffer *in = bufferevent_get_input(ch->target);
	size_t len;
	while ((len = evbuffer_get_length(in)) > 0) {
		if (ch->peer_paused) {
			bufferevent_disable(ch->target, EV_READ);
			return;
		}
		if (ws_client_congested(m->ws)) {
			if (!ch->is_blocked)
				TAILQ_INSERT_TAIL(&m->blocked, ch, blocked);
			ch->is_blocked = true;
			bufferevent_disable(ch->target, EV_READ);
			return;
		}
		size_t n = len < MAX_DATA_PAYLOAD ? len : MAX_DATA_PAYLOAD;
		uint8_t head[MUX_V2_HEADER_LEN];
		mux_encode_v2(head, MUX_DATA, ch->remote, ch->local, (uint32_t)n);
		if (ws_client_send(m->ws, head, sizeof(head), in, n) != 0)
			return; /* the websocket is closing */
		mux_client_stats.messages_out++;
		mux_client_stats.bytes_from_target += n;
	}
	if (ch->target_eof)
		channel_close(ch);
	else
		bufferevent_enable(ch->target, EV_READ);
}

static void target_read(struct bufferevent *bev, void *arg)
{
	struct channel *ch = arg;
	if (ch->target_direct)
		sock_fill(bev, MAX_DATA_PAYLOAD);
	channel_pump(ch);
}

static void target_write(struct bufferevent *bev, void *arg)
{
	(void)bev;
	struct channel *ch = arg;
	/* The target took everything: the server may send again. */
	if (ch->we_paused && ch->state == CH_OPEN) {
		ch->we_paused = false;
		send_message(ch->m, MUX_RESUME, ch->remote, ch->local, NULL);
	}
}

static void target_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	struct channel *ch = arg;
	if (what & BEV_EVENT_CONNECTED) {
		ch->target_connected = true;
		return;
	}
	if ((what & BEV_EVENT_ERROR) && evbuffer_get_length(bufferevent_get_input(bev)) == 0)
		mux_client_stats.targets_failed++;
	/* As the client: a target that ends or fails closes the channel (empty CLOSE) once
	 * what it sent has gone to the server. */
	ch->target_eof = true;
	channel_pump(ch);
	if (ch->state == CH_OPEN && ch->target != NULL &&
	    evbuffer_get_length(bufferevent_get_input(ch->target)) > 0)
		return; /* held back by PAUSE or a congested websocket */
	channel_close(ch);
}

static void flushing_free(struct flushing_target *f)
{
	TAILQ_REMOVE(&flushing, f, link);
	bufferevent_free(f->bev);
	free(f);
}

static void flushing_write(struct bufferevent *bev, void *arg)
{
	(void)bev;
	flushing_free(arg);
}

static void flushing_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	if (what & BEV_EVENT_CONNECTED)
		return;
	flushing_free(arg);
}

/* The server closed the channel: its data still goes to the target, then the socket
 * closes; the channel number is free at once. */
static void channel_detach(struct channel *ch)
{
	struct bufferevent *bev = ch->target;
	ch->target = NULL;
	mux_client_stats.channels_closed++;
	channel_free(ch);
	if (bev == NULL)
		return;
	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0) {
		bufferevent_free(bev);
		return;
	}
	struct flushing_target *f = calloc(1, sizeof(*f));
	if (f == NULL) {
		bufferevent_free(bev);
		return;
	}
	f->bev = bev;
	TAILQ_INSERT_TAIL(&flushing, f, link);
	struct timeval tv = {FLUSH_TIMEOUT_S, 0};
	bufferevent_disable(bev, EV_READ);
	bufferevent_setcb(bev, NULL, flushing_write, flushing_event, f);
	bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
	bufferevent_set_timeouts(bev, NULL, &tv);
}

static int request_complete(llhttp_t *parser)
{
	(void)parser;
	mux_client_stats.requests++;
	return HPE_OK;
}

static const llhttp_settings_t request_counter = {.on_message_complete = request_complete};

/* Counting stops at the first thing that is not HTTP/1 (an upgrade, a parse error). */
static void count_requests(struct channel *ch, const uint8_t *data, size_t len)
{
	if (llhttp_execute(ch->http, (const char *)data, len) != HPE_OK) {
		free(ch->http);
		ch->http = NULL;
	}
}

static void handle_open(struct mux_client *m, uint32_t remote)
{
	if (m->channels.count >= MAX_CHANNELS) {
		send_message(m, MUX_CLOSE, remote, 0, MUX_ERR_NO_CHANNELS);
		return;
	}
	/* The client's allocator: next, skipping numbers still in use, wrapping to 1. */
	uint32_t local = m->next_channel;
	while (channel_find(m, local) != NULL)
		local = local == UINT32_MAX ? 1 : local + 1;
	m->next_channel = local == UINT32_MAX ? 1 : local + 1;
	struct channel *ch = calloc(1, sizeof(*ch));
	if (ch == NULL) {
		send_message(m, MUX_CLOSE, remote, 0, MUX_ERR_NO_CHANNELS);
		return;
	}
	ch->m = m;
	ch->local = local;
	ch->remote = remote;
	hmap_insert(&m->channels, &ch->hash_node, local);
	mux_client_stats.channels_opened++;
	/* ACK before the target is connected, as the client; DATA waits in the output. */
	send_message(m, MUX_ACK, remote, local, NULL);
	ch->target = net_connect(m->base, m->target);
	if (ch->target == NULL) {
		mux_client_stats.targets_failed++;
		ch->target_eof = true;
		channel_close(ch);
		return;
	}
	ch->target_direct = m->target->tls == NULL;
	if (m->target->count_http && (ch->http = malloc(sizeof(*ch->http))) != NULL)
		llhttp_init(ch->http, HTTP_REQUEST, &request_counter);
	bufferevent_setcb(ch->target, target_read, target_write, target_event, ch);
	bufferevent_set_max_single_read(ch->target, MAX_DATA_PAYLOAD);
	bufferevent_set_max_single_write(ch->target, 4 * MAX_DATA_PAYLOAD);
	bufferevent_enable(ch->target, EV_READ | EV_WRITE);
}

/* ws_client_handler */

static void ws_opened(void *arg)
{
	struct mux_client *m = arg;
	m->open = true;
	/* ws-multiplex pings as soon as the multiplexer starts. */
	m->last_ping = monotonic_ms();
	ws_client_ping(m->ws, m->last_ping);
	m->handler->opened(m->arg);
}

static void free_channels(struct mux_client *m)
{
	struct hmap_node *node;
	while ((node = hmap_any(&m->channels)) != NULL)
		channel_free(hmap_entry(node, struct channel, hash_node));
}

static void ws_closed(void *arg, int http_status, uint16_t code)
{
	struct mux_client *m = arg;
	m->open = false;
	free_channels(m);
	m->handler->closed(m->arg, http_status, code);
}

static void ws_message_begin(void *arg)
{
	struct mux_client *m = arg;
	m->head_len = 0;
	m->rx = NULL;
	m->reason_len = 0;
	mux_client_stats.messages_in++;
}

static void on_header(struct mux_client *m)
{
	const uint8_t *payload;
	size_t payload_len;
	if (mux_decode_v2(m->head, sizeof(m->head), &m->h, &payload, &payload_len) !=
	    MUX_DECODE_OK) {
		/* ws-multiplex ends the multiplexer; the client then closes and reconnects. */
		mux_client_stats.protocol_errors++;
		m->h.type = 0;
		ws_client_close(m->ws, 1002);
		return;
	}
	if (m->h.type != MUX_DATA)
		return;
	struct channel *ch = channel_find(m, m->h.dst);
	if (ch == NULL) {
		send_message(m, MUX_CLOSE, m->h.src, 0, MUX_ERR_CHANNEL_NOT_OPEN);
		return;
	}
	if (ch->state == CH_OPEN && ch->target != NULL)
		m->rx = ch; /* data for a closing channel is dropped */
}

static void ws_message_data(void *arg, const uint8_t *data, size_t len)
{
	struct mux_client *m = arg;
	if (m->head_len < MUX_V2_HEADER_LEN) {
		size_t n = MUX_V2_HEADER_LEN - m->head_len;
		if (n > len)
			n = len;
		memcpy(m->head + m->head_len, data, n);
		m->head_len += n;
		data += n;
		len -= n;
		if (m->head_len == MUX_V2_HEADER_LEN)
			on_header(m);
	}
	if (len == 0)
		return;
	if (m->h.type == MUX_DATA && m->rx != NULL) {
		struct bufferevent *target = m->rx->target;
		struct evbuffer *out = bufferevent_get_output(target);
		mux_client_stats.bytes_to_target += len;
		if (m->rx->http != NULL)
			count_requests(m->rx, data, len);
		/* Straight into an idle socket: no copy, and no poll for writing. */
		if (m->rx->target_direct && m->rx->target_connected &&
		    evbuffer_get_length(out) == 0) {
			ssize_t n = send(bufferevent_getfd(target), data, len,
			                 MSG_DONTWAIT | MSG_NOSIGNAL);
			if (n > 0) {
				data += n;
				len -= (size_t)n;
			}
		}
		if (len > 0)
			evbuffer_add(out, data, len);
	} else if (m->h.type == MUX_CLOSE) {
		size_t n = sizeof(m->reason) - m->reason_len;
		if (n > len)
			n = len;
		memcpy(m->reason + m->reason_len, data, n);
		m->reason_len += n;
	}
}

static void ws_message_end(void *arg)
{
	struct mux_client *m = arg;
	if (m->head_len < MUX_V2_HEADER_LEN)
		return; /* shorter than a header: ignored, as ws-multiplex does */
	struct mux_header *h = &m->h;
	struct channel *ch;
	switch (h->type) {
	case MUX_DATA:
		ch = m->rx;
		if (ch != NULL && !ch->we_paused &&
		    evbuffer_get_length(bufferevent_get_output(ch->target)) > CHANNEL_PAUSE_AT) {
			ch->we_paused = true;
			mux_client_stats.pauses_sent++;
			send_message(m, MUX_PAUSE, ch->remote, ch->local, NULL);
		}
		break;
	case MUX_OPEN:
		handle_open(m, h->src);
		break;
	case MUX_ACK:
		ch = channel_find(m, h->dst);
		if (ch == NULL)
			send_message(m, MUX_CLOSE, h->src, 0, MUX_ERR_CHANNEL_NOT_OPEN);
		else if (ch->state == CH_CLOSING)
			channel_free(ch);
		break;
	case MUX_CLOSE:
		if (h->src != 0)
			send_message(m, MUX_ACK, h->src, h->dst, NULL);
		ch = channel_find(m, h->dst);
		if (ch == NULL)
			break;
		if (ch->state == CH_CLOSING)
			channel_free(ch);
		else
			channel_detach(ch);
		break;
	case MUX_PAUSE:
	case MUX_RESUME:
		ch = channel_find(m, h->dst);
		if (ch == NULL) {
			send_message(m, MUX_CLOSE, h->src, 0, MUX_ERR_CHANNEL_NOT_OPEN);
			break;
		}
		if (h->type == MUX_PAUSE) {
			mux_client_stats.pauses_received++;
			ch->peer_paused = true;
			if (ch->target != NULL)
				bufferevent_disable(ch->target, EV_READ);
		} else {
			ch->peer_paused = false;
			channel_pump(ch);
		}
		break;
	default:
		break; /* unknown types are ignored */
	}
}

static void ws_drained(void *arg)
{
	struct mux_client *m = arg;
	/* Each blocked channel is taken off first: pumping may block it again. */
	while (!TAILQ_EMPTY(&m->blocked) && !ws_client_congested(m->ws)) {
		struct channel *ch = TAILQ_FIRST(&m->blocked);
		channel_unblock(ch);
		channel_pump(ch);
	}
}

static const struct ws_client_handler mux_ws_handler = {
        .opened = ws_opened,
        .closed = ws_closed,
        .message_begin = ws_message_begin,
        .message_data = ws_message_data,
        .message_end = ws_message_end,
        .drained = ws_drained,
};

struct mux_client *mux_client_connect(struct event_base *base, struct bufferevent *server,
                                      const char *host_header, const char *path,
                                      const struct net_target *target,
                                      const struct mux_client_handler *handler, void *arg)
{
	struct mux_client *m = calloc(1, sizeof(*m));
	if (m == NULL) {
		bufferevent_free(server);
		return NULL;
	}
	m->base = base;
	m->handler = handler;
	m->arg = arg;
	m->target = target;
	m->next_channel = 1;
	TAILQ_INIT(&m->blocked);
	TAILQ_INIT(&m->closing);
	if (hmap_init(&m->channels) != 0) {
		bufferevent_free(server);
		goto fail;
	}
	m->ws = ws_client_connect(base, server, host_header, path, &mux_ws_handler, m);
	if (m->ws == NULL)
		goto fail;
	return m;
fail:
	hmap_destroy(&m->channels);
	free(m);
	return NULL;
}

void mux_client_tick(struct mux_client *m, uint64_t now_ms)
{
	if (!m->open)
		return;
	while (!TAILQ_EMPTY(&m->closing)) {
		struct channel *ch = TAILQ_FIRST(&m->closing);
		if (now_ms - ch->closing_since < CLOSE_ACK_WAIT_MS)
			break;
		channel_free(ch);
	}
	if (now_ms - m->last_ping >= PING_EVERY_MS) {
		m->last_ping = now_ms;
		if (ws_client_ping(m->ws, now_ms) >= PONG_TIMEOUT_MS)
			ws_client_close(m->ws, 1001); /* dead: the slot reconnects */
	}
}

void mux_client_close(struct mux_client *m)
{
	ws_client_close(m->ws, 1000);
}

void mux_client_free(struct mux_client *m)
{
	if (m == NULL)
		return;
	free_channels(m);
	ws_client_free(m->ws);
	hmap_destroy(&m->channels);
	free(m);
}

void mux_client_cleanup(void)
{
	while (!TAILQ_EMPTY(&flushing))
		flushing_free(TAILQ_FIRST(&flushing));
}
