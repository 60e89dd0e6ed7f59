/* A websocket transport connection: wslay reads frames from the taken-over bufferevent,
 * multiplex messages go to the mux, keep-alive pings run every 10 s, and the tunnel
 * service reaches the connection through exposr_transport_conn_vtable. */
#include "ws_conn.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <wslay/wslay.h>

#include "monotonic.h"
#include "mux.h"
#include "sock_fill.h"
#include "timeval_ms.h"

/* docs/transport.md §4.5: ping at start and every 10 s, give up after 20 s without a pong.
 * The check runs twice as often as the ping so that a dead peer goes within 25 s. */
#define WS_KEEPALIVE_TICK_MS 5000
#define WS_PING_EVERY_TICKS  2
#define WS_PONG_TIMEOUT_MS   20000
/* DATA is sent while the socket's output is under the high mark and resumes below the
 * low mark, so a slow client holds back its channels rather than filling memory. The
 * socket is not read either while its output is over the high mark: every message may
 * force a reply (a pong, a CLOSE), which would pile up unread. */
#define WS_OUTPUT_HIGH EXPOSR_HIGH_WATER
#define WS_OUTPUT_LOW  EXPOSR_LOW_WATER
/* Replies (pongs, multiplex control messages) queued since the output was last down to
 * the low mark: a client that made this many pile up does not read them, and is closed. */
#define WS_UNREAD_REPLIES_MAX (WS_OUTPUT_HIGH / 2)
/* Bytes taken from the socket per pass: as many as libevent 2.1 reads per callback, or
 * WS_READ_BATCH when a frame of at least WS_BULK_FRAME more bytes is arriving; and written
 * per write call (libevent's default is 16 KiB). */
#define WS_READ_SIZE   4096
#define WS_READ_BATCH  (256 * 1024)
#define WS_BULK_FRAME  (16 * 1024)
#define WS_WRITE_BATCH (512 * 1024)
/* After our close frame: time for it to be written and for the peer to answer. */
#define WS_CLOSE_TIMEOUT_MS  5000
#define WS_LINGER_TIMEOUT_MS 2000

/* The frame wslay is reading: its header so far, or the payload bytes still to come. */
struct ws_frame_track {
	uint8_t head[14];
	uint8_t head_len, head_need;
	uint64_t payload_left;
};

enum ws_phase {
	WS_OPEN,
	WS_CLOSING, /* close frame queued: flushing it, reading the peer's answer */
	WS_LINGER,  /* close frame written, our side shut: waiting for the peer's FIN */
	WS_GONE,    /* socket closed; the struct waits for the channels' users to let go */
};

struct ws_conn {
	struct ws_module *wm;
	LIST_ENTRY(ws_conn) link;
	struct bufferevent *bev; /* its output; the socket is read from c->read */
	struct event *read;
	wslay_event_context_ptr ws;
	struct mux *mux;
	struct exposr_tunnel_conn *reg;
	char *tunnel_id;
	char *peer;
	enum ws_phase phase;
	bool in_recv; /* inside wslay_event_recv(): its caller flushes */
	struct ws_frame_track rx_track;
	bool rx_data;        /* the frame wslay is reading belongs to a data message */
	bool rx_fin;         /* ... and is its last frame */
	uint64_t rx_msg_len; /* payload announced so far for the data message */
	bool broken;         /* the output failed: dropped from the loop, not from inside a call */
	bool read_paused;    /* the output is over the high mark: the input waits */
	size_t replies;      /* reply bytes queued since the output was at the low mark */
	unsigned ticks;
	/* Liveness: the last pong, or the last tick after the peer sent a frame or, while our
	 * input waited for the output to drain, read that output down to the low mark. A pong
	 * can sit unread on our side then: a peer busy with a bulk transfer is not dead. */
	uint64_t last_heard;
	bool heard;
	struct event *keepalive;
	struct event *timer; /* the multiplexer's next deadline */
	struct event *defer; /* mux_run(), writing the output and teardown from the loop */
	struct event *close_timer;
};

static const struct exposr_transport_conn_vtable conn_vt;

static void conn_wake(void *arg)
{
	struct ws_conn *c = arg;
	event_active(c->defer, EV_TIMEOUT, 0);
}

/* For failures inside wslay or multiplexer calls, which must not see their state
 * freed under them. */
static void conn_fail_later(struct ws_conn *c)
{
	c->broken = true;
	conn_wake(c);
}

/* The connection writes its output itself, at the end of conn_deferred: in the loop turn
 * the frames are queued, without an EPOLLOUT armed and disarmed around a later turn (two
 * epoll_ctl calls and a loop turn per request), and after mux_run() has handed the
 * channels' users what they were woken for. A RESUME (sent when a user reads again) and
 * the PAUSE its user's next write may bring thus leave together, as they did when the
 * bufferevent wrote on the next turn: a RESUME alone lets the client send what it holds,
 * on top of what the channel keeps (ingress_http's 1 GiB test overflowed a channel).
 * What the socket does not take is left to the bufferevent (EV_WRITE enabled), which
 * writes it when the socket is writable and calls conn_writable at the low mark; once
 * the output is empty it is ours again. A closing connection leaves all of it to the
 * bufferevent. */
static void conn_output_added(struct ws_conn *c)
{
	if (!(bufferevent_get_enabled(c->bev) & EV_WRITE))
		conn_wake(c);
}

/* Frees what belongs to the socket; the struct itself lives on for the channels. */
static void conn_drop(struct ws_conn *c)
{
	if (c->phase == WS_GONE)
		return;
	c->phase = WS_GONE;
	mux_detach(c->mux);
	event_del(c->keepalive);
	event_del(c->close_timer);
	event_del(c->read);
	if (c->ws != NULL) {
		wslay_event_context_free(c->ws);
		c->ws = NULL;
	}
	if (c->bev != NULL) {
		bufferevent_free(c->bev);
		c->bev = NULL;
	}
	conn_wake(c);
}

static void conn_unlink(struct ws_conn *c)
{
	struct ws_module *wm = c->wm;
	LIST_REMOVE(c, link);
	wm->host->metrics->add(wm->conns_open, -1);
}

/* Everything a connection owns but its socket; frees the connection. */
static void conn_free_owned(struct ws_conn *c)
{
	if (c->ws != NULL)
		wslay_event_context_free(c->ws);
	mux_free(c->mux);
	if (c->keepalive != NULL)
		event_free(c->keepalive);
	if (c->timer != NULL)
		event_free(c->timer);
	if (c->defer != NULL)
		event_free(c->defer);
	if (c->read != NULL)
		event_free(c->read);
	if (c->close_timer != NULL)
		event_free(c->close_timer);
	free(c->tunnel_id);
	free(c->peer);
	free(c);
}

static void conn_free(struct ws_conn *c)
{
	conn_unlink(c);
	if (c->reg != NULL)
		c->wm->host->tunnels->connection_remove(c->reg);
	if (c->read != NULL)
		event_del(c->read);
	if (c->bev != NULL)
		bufferevent_free(c->bev);
	conn_free_owned(c);
}

static void conn_start_linger(struct ws_conn *c)
{
	struct timeval tv = timeval_from_ms(WS_LINGER_TIMEOUT_MS);
	/* Our FIN after the close frame tells the peer we are done; reading on until its
	 * FIN keeps the kernel from answering late bytes with a reset that could destroy
	 * the close frame before the peer read it. */
	if (shutdown(bufferevent_getfd(c->bev), SHUT_WR) != 0 ||
	    event_add(c->close_timer, &tv) != 0) {
		conn_drop(c);
		return;
	}
	c->phase = WS_LINGER;
}

/* Writes what wslay has queued (pongs, pings, the close frame). */
static void conn_flush(struct ws_conn *c)
{
	if (c->phase != WS_OPEN && c->phase != WS_CLOSING)
		return;
	if (wslay_event_send(c->ws) != 0) {
		conn_drop(c);
		return;
	}
	if (c->phase == WS_CLOSING && wslay_event_get_close_sent(c->ws) &&
	    evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		conn_start_linger(c);
}

/* Leaves WS_OPEN once a close frame is queued (ours or wslay's answer to the peer's). */
static void conn_enter_closing(struct ws_conn *c)
{
	c->phase = WS_CLOSING;
	event_del(c->keepalive);
	struct timeval tv = timeval_from_ms(WS_CLOSE_TIMEOUT_MS);
	/* The bufferevent writes from now on, and calls the write callback when the output is
	 * empty. */
	bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
	if (bufferevent_enable(c->bev, EV_WRITE) != 0 || event_add(c->close_timer, &tv) != 0)
		conn_fail_later(c);
	conn_wake(c); /* unregisters from the tunnel service */
}

void ws_conn_close(struct ws_conn *c, uint16_t code, const char *reason)
{
	if (c->phase != WS_OPEN)
		return;
	/* CLOSE for every channel goes out before the close frame. */
	mux_close_all(c->mux);
	size_t len = strlen(reason);
	if (wslay_event_queue_close(c->ws, code, (const uint8_t *)reason, len) != 0) {
		conn_fail_later(c);
		return;
	}
	ws_log(c->wm, EXPOSR_LOG_DEBUG, "tunnel %s from %s: closing (%u %s)", c->tunnel_id, c->peer,
	       code, reason);
	conn_enter_closing(c);
	if (!c->in_recv)
		conn_flush(c);
}

/* mux_ops */

static int mux_send(void *arg, const uint8_t *head, size_t head_len, struct evbuffer *payload,
                    size_t len)
{
	struct ws_conn *c = arg;
	if (c->phase != WS_OPEN || c->broken)
		return EXPOSR_ERROR;
	/* Server frames are unmasked, so framing is a few header bytes: the payload moves
	 * into the output without a copy. One unfragmented frame per message. */
	uint64_t total = head_len + len;
	uint8_t frame[10 + MUX_MAX_HEADER_LEN + 64];
	size_t n = 0;
	frame[n++] = 0x80 | WSLAY_BINARY_FRAME;
	if (total < 126) {
		frame[n++] = (uint8_t)total;
	} else if (total <= 0xFFFF) {
		frame[n++] = 126;
		frame[n++] = (uint8_t)(total >> 8);
		frame[n++] = (uint8_t)total;
	} else {
		frame[n++] = 127;
		for (int shift = 56; shift >= 0; shift -= 8)
			frame[n++] = (uint8_t)(total >> shift);
	}
	if (head_len > sizeof(frame) - n)
		return EXPOSR_ERROR;
	memcpy(frame + n, head, head_len);
	if (payload == NULL)
		c->replies += n + head_len;
	struct evbuffer *out = bufferevent_get_output(c->bev);
	if (evbuffer_add(out, frame, n + head_len) != 0)
		goto fail;
	if (len > 0 && evbuffer_remove_buffer(payload, out, len) != (int)len)
		goto fail;
	conn_output_added(c);
	return EXPOSR_OK;
fail:
	/* Half a frame in the output: the stream is unusable. */
	ws_log(c->wm, EXPOSR_LOG_WARN, "tunnel %s: cannot queue output; dropping the connection",
	       c->tunnel_id);
	conn_fail_later(c);
	return EXPOSR_ERROR;
}

static bool mux_writable(void *arg)
{
	struct ws_conn *c = arg;
	return c->phase == WS_OPEN && !c->broken &&
	       evbuffer_get_length(bufferevent_get_output(c->bev)) < WS_OUTPUT_HIGH;
}

static void mux_fail(void *arg, uint16_t code, const char *reason)
{
	ws_conn_close(arg, code, reason);
}

static uint64_t mux_clock(void *arg)
{
	(void)arg;
	return monotonic_ms();
}

static void mux_logv(void *arg, enum exposr_log_level level, const char *fmt, va_list ap)
{
	struct ws_conn *c = arg;
	const struct exposr_host *host = c->wm->host;
	if (!host->log_enabled(level))
		return;
	char text[256];
	vsnprintf(text, sizeof(text), fmt, ap);
	host->log(c->wm->mod, level, "tunnel %s from %s: %s", c->tunnel_id, c->peer, text);
}

static void mux_channels_changed(void *arg, int delta)
{
	struct ws_conn *c = arg;
	c->wm->host->metrics->add(c->wm->channels_open, delta);
}

static const struct mux_ops conn_mux_ops = {
        .send = mux_send,
        .writable = mux_writable,
        .wake = conn_wake,
        .fail = mux_fail,
        .now = mux_clock,
        .log = mux_logv,
        .channels_changed = mux_channels_changed,
};

/* Follows the frames in the bytes wslay takes, to know how much of the frame being read is
 * still to come (see conn_read). */
static void frame_track(struct ws_frame_track *t, const uint8_t *p, size_t n)
{
	while (n > 0) {
		if (t->payload_left > 0) {
			size_t k = n < t->payload_left ? n : (size_t)t->payload_left;
			t->payload_left -= k;
			p += k;
			n -= k;
			continue;
		}
		t->head[t->head_len++] = *p++;
		n--;
		if (t->head_len == 2) {
			uint8_t len7 = t->head[1] & 0x7f;
			t->head_need = (uint8_t)(2 +
			                         (len7 == 126   ? 2
			                          : len7 == 127 ? 8
			                                        : 0) +
			                         ((t->head[1] & 0x80) ? 4 : 0));
		}
		if (t->head_len < 2 || t->head_len < t->head_need)
			continue;
		uint64_t len = t->head[1] & 0x7f;
		if (len == 126) {
			len = (uint64_t)t->head[2] << 8 | t->head[3];
		} else if (len == 127) {
			len = 0;
			for (int i = 2; i < 10; i++)
				len = len << 8 | t->head[i];
		}
		t->payload_left = len;
		t->head_len = 0;
		t->head_need = 0;
	}
}

/* wslay callbacks */

static bool output_full(struct ws_conn *c)
{
	return evbuffer_get_length(bufferevent_get_output(c->bev)) > WS_OUTPUT_HIGH;
}

static ssize_t ws_recv_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags,
                          void *user)
{
	(void)flags;
	struct ws_conn *c = user;
	/* wslay takes at most 4 KiB per call, so this bounds what one pass can add. */
	if (output_full(c)) {
		c->read_paused = true;
		event_del(c->read);
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	int n = evbuffer_remove(bufferevent_get_input(c->bev), buf, len);
	if (n <= 0) {
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	frame_track(&c->rx_track, buf, (size_t)n);
	return n;
}

static ssize_t ws_send_cb(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags,
                          void *user)
{
	(void)flags;
	struct ws_conn *c = user;
	if (evbuffer_add(bufferevent_get_output(c->bev), data, len) != 0) {
		wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
		return -1;
	}
	/* Only control frames go through wslay: pongs, keep-alive pings, the close. */
	c->replies += len;
	conn_output_added(c);
	return (ssize_t)len;
}

/* Data messages are not buffered by wslay (no_buffering): their payload goes to the
 * multiplexer frame by frame, piece by piece, as wslay unmasks it, instead of being
 * reassembled into one allocation and copied again. Text and binary messages are parsed
 * the same way, as ws-multiplex does. Control frames are still reassembled (ws_msg_cb). */
static void ws_frame_start_cb(wslay_event_context_ptr ctx,
                              const struct wslay_event_on_frame_recv_start_arg *arg, void *user)
{
	struct ws_conn *c = user;
	/* RFC 6455 §5.2: opcodes with the high bit set are control frames, which may come
	 * between the frames of a data message. */
	c->heard = true;
	c->rx_data = (arg->opcode & 0x8) == 0;
	if (!c->rx_data)
		return;
	if (arg->opcode != WSLAY_CONTINUATION_FRAME) {
		c->rx_msg_len = 0;
		mux_input_begin(c->mux);
	}
	c->rx_fin = arg->fin;
	/* Without buffering wslay holds each frame to the limit, not the whole message. */
	if (arg->payload_length > c->wm->max_message - c->rx_msg_len) {
		c->rx_data = false;
		int rc = wslay_event_queue_close(ctx, WSLAY_CODE_MESSAGE_TOO_BIG, NULL, 0);
		if (rc != 0 && rc != WSLAY_ERR_NO_MORE_MSG)
			conn_fail_later(c);
		wslay_event_shutdown_read(ctx);
		return;
	}
	c->rx_msg_len += arg->payload_length;
}

static void ws_frame_chunk_cb(wslay_event_context_ptr ctx,
                              const struct wslay_event_on_frame_recv_chunk_arg *arg, void *user)
{
	(void)ctx;
	struct ws_conn *c = user;
	if (c->rx_data && c->phase == WS_OPEN)
		mux_input_part(c->mux, arg->data, arg->data_length);
}

static void ws_frame_end_cb(wslay_event_context_ptr ctx, void *user)
{
	(void)ctx;
	struct ws_conn *c = user;
	if (c->rx_data && c->rx_fin && c->phase == WS_OPEN)
		mux_input_end(c->mux);
}

static void ws_msg_cb(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg,
                      void *user)
{
	(void)ctx;
	struct ws_conn *c = user;
	/* Pings are answered by wslay; a close is handled after the read. */
	if (arg->opcode == WSLAY_PONG)
		c->last_heard = monotonic_ms();
}

static const struct wslay_event_callbacks ws_callbacks = {
        .recv_callback = ws_recv_cb,
        .send_callback = ws_send_cb,
        .on_frame_recv_start_callback = ws_frame_start_cb,
        .on_frame_recv_chunk_callback = ws_frame_chunk_cb,
        .on_frame_recv_end_callback = ws_frame_end_cb,
        .on_msg_recv_callback = ws_msg_cb,
};

/* bufferevent callbacks */

static void conn_receive(struct ws_conn *c)
{
	c->in_recv = true;
	int rc = wslay_event_recv(c->ws);
	c->in_recv = false;
	if (rc != 0) {
		conn_drop(c);
		return;
	}
	if (c->phase == WS_OPEN && !wslay_event_get_read_enabled(c->ws)) {
		/* wslay stopped reading and queued a close frame: the peer's close is being
		 * answered, or a message was too big (1009) or broke the protocol (1002). */
		ws_log(c->wm, EXPOSR_LOG_DEBUG, "tunnel %s from %s: websocket closing (%u)",
		       c->tunnel_id, c->peer,
		       wslay_event_get_close_received(c->ws)
		               ? wslay_event_get_status_code_received(c->ws)
		               : 0);
		mux_close_all(c->mux);
		conn_enter_closing(c);
	}
	conn_flush(c);
	if (c->read_paused && c->phase == WS_OPEN && c->replies >= WS_UNREAD_REPLIES_MAX) {
		ws_log(c->wm, EXPOSR_LOG_WARN,
		       "tunnel %s from %s: the client does not read its replies (%zu bytes "
		       "queued), closing",
		       c->tunnel_id, c->peer, evbuffer_get_length(bufferevent_get_output(c->bev)));
		ws_conn_close(c, WS_CLOSE_POLICY, "Not reading");
	}
}

/* New input, or what wslay left while the output was full. */
static void conn_readable(struct ws_conn *c)
{
	struct evbuffer *input = bufferevent_get_input(c->bev);
	if (c->phase == WS_LINGER ||
	    (c->phase == WS_CLOSING && !wslay_event_get_read_enabled(c->ws))) {
		evbuffer_drain(input, evbuffer_get_length(input));
		return;
	}
	conn_receive(c);
}

/* The output is down to the low mark (to empty while closing). */
static void conn_writable(struct bufferevent *bev, void *arg)
{
	struct ws_conn *c = arg;
	c->replies = 0;
	c->heard = c->heard || c->read_paused;
	if (c->phase == WS_OPEN) {
		/* Drained: the output is written by conn_deferred again (conn_output_added). */
		if (evbuffer_get_length(bufferevent_get_output(bev)) == 0 &&
		    bufferevent_disable(bev, EV_WRITE) != 0) {
			conn_drop(c);
			return;
		}
		mux_pump(c->mux);
	} else if (c->phase == WS_CLOSING)
		conn_flush(c);
	if (!c->read_paused || c->bev == NULL || output_full(c))
		return;
	c->read_paused = false;
	if (event_add(c->read, NULL) != 0) {
		conn_drop(c);
		return;
	}
	/* What wslay left in the input waits for no new bytes. */
	if (evbuffer_get_length(bufferevent_get_input(bev)) > 0)
		conn_readable(c);
}

static void conn_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	struct ws_conn *c = arg;
	if (c->phase == WS_OPEN)
		ws_log(c->wm, EXPOSR_LOG_DEBUG, "tunnel %s from %s: connection lost (%s)",
		       c->tunnel_id, c->peer, (what & BEV_EVENT_EOF) ? "eof" : "error");
	conn_drop(c);
}

/* c->read: the connection reads its socket itself, since libevent asks the kernel how
 * much is waiting (ioctl FIONREAD) before every read, a syscall per message. It takes
 * 4 KiB per callback as libevent 2.1 does, except while a large frame is arriving: then
 * what else the socket holds, up to WS_READ_BATCH, so that a bulk transfer passes through
 * wslay, the multiplexer and the splice once per WS_READ_BATCH bytes rather than once per
 * 4 KiB (with an epoll_wait and a read each). Small messages keep the 4 KiB pace: reading
 * them in larger batches made 1 KiB requests 15-20% slower in tests/bench (the loop
 * answers in bursts). */
static void conn_read(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct ws_conn *c = arg;
	struct bufferevent *bev = c->bev;
	size_t have = evbuffer_get_length(bufferevent_get_input(bev));
	size_t max = WS_READ_SIZE;
	if (c->rx_track.payload_left > have && c->rx_track.payload_left - have >= WS_BULK_FRAME &&
	    have + max < WS_READ_BATCH)
		max = WS_READ_BATCH - have;
	ssize_t n = sock_read(bev, max);
	if (n > 0) {
		conn_readable(c);
		return;
	}
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	conn_event(bev, BEV_EVENT_READING | (n == 0 ? BEV_EVENT_EOF : BEV_EVENT_ERROR), c);
}

/* See conn_output_added. */
static void conn_write(struct ws_conn *c)
{
	if (c->bev == NULL || (bufferevent_get_enabled(c->bev) & EV_WRITE))
		return;
	struct evbuffer *out = bufferevent_get_output(c->bev);
	if (evbuffer_get_length(out) == 0)
		return;
	/* A socket bufferevent keeps the start of its output frozen outside its own writes. */
	evbuffer_unfreeze(out, 1);
	evbuffer_write_atmost(out, bufferevent_getfd(c->bev), WS_WRITE_BATCH);
	evbuffer_freeze(out, 1);
	/* Left over (the socket is full) or failed: the bufferevent writes on, or reports the
	 * error to conn_event. */
	if (evbuffer_get_length(out) > 0) {
		if (bufferevent_enable(c->bev, EV_WRITE) != 0)
			conn_drop(c);
		return;
	}
	conn_writable(c->bev, c);
}

/* timers */

static void conn_keepalive(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct ws_conn *c = arg;
	if (c->phase != WS_OPEN)
		return;
	if (c->heard) {
		c->heard = false;
		c->last_heard = monotonic_ms();
	}
	uint64_t silent = monotonic_ms() - c->last_heard;
	if (silent >= WS_PONG_TIMEOUT_MS) {
		/* D5: the connection is dead; close the socket, not just the multiplexer. */
		ws_log(c->wm, EXPOSR_LOG_INFO,
		       "tunnel %s from %s: nothing heard for %llu ms, dropping", c->tunnel_id,
		       c->peer, (unsigned long long)silent);
		conn_drop(c);
		return;
	}
	if (++c->ticks % WS_PING_EVERY_TICKS != 0)
		return;
	struct wslay_event_msg ping = {.opcode = WSLAY_PING, .msg = NULL, .msg_length = 0};
	if (wslay_event_queue_msg(c->ws, &ping) != 0) {
		conn_drop(c);
		return;
	}
	conn_flush(c);
}

static void conn_close_timeout(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	conn_drop(arg);
}

/* Deferred work: unregistering, the multiplexer's callbacks and timers, freeing. */
static void conn_deferred(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct ws_conn *c = arg;
	if (c->broken)
		conn_drop(c);
	/* First, so that failed opens reach their callers with the multiplexer's status. */
	mux_run(c->mux);
	conn_write(c);
	/* A diverged multiplexer opens nothing more: new streams go to the tunnel's other
	 * connections until it is closed. */
	if (c->reg != NULL && (c->phase != WS_OPEN || mux_diverged(c->mux))) {
		struct exposr_tunnel_conn *reg = c->reg;
		c->reg = NULL;
		c->wm->host->tunnels->connection_remove(reg);
		ws_log(c->wm, EXPOSR_LOG_INFO, "tunnel %s: transport connection from %s closed",
		       c->tunnel_id, c->peer);
	}
	if (c->phase == WS_GONE && mux_idle(c->mux)) {
		struct ws_module *wm = c->wm;
		conn_free(c);
		ws_module_check_drained(wm);
		return;
	}
	uint64_t deadline = mux_next_deadline(c->mux);
	if (deadline == 0) {
		event_del(c->timer);
		return;
	}
	uint64_t now = monotonic_ms();
	struct timeval tv = timeval_from_ms(deadline > now ? deadline - now : 0);
	if (event_add(c->timer, &tv) != 0)
		ws_log(c->wm, EXPOSR_LOG_ERROR, "tunnel %s: cannot arm a timer", c->tunnel_id);
}

/* exposr_transport_conn_vtable */

static void *conn_open_channel(void *conn, exposr_channel_cb cb, void *arg)
{
	struct ws_conn *c = conn;
	if (c->phase != WS_OPEN) {
		cb(arg, EXPOSR_ERROR, NULL);
		return NULL;
	}
	return mux_open(c->mux, cb, arg);
}

static void conn_cancel_open(void *conn, void *token)
{
	struct ws_conn *c = conn;
	mux_cancel_open(c->mux, token);
}

static void conn_disconnect(void *conn, enum exposr_disconnect_reason reason)
{
	struct ws_conn *c = conn;
	switch (reason) {
	/* 1008 stops the exposr client's slot; after 1000 it reconnected within 0.1 s and a
	 * disconnect seemed to do nothing (docs/compatibility.md §13). */
	case EXPOSR_DISCONNECT_REQUESTED:
		ws_conn_close(c, WS_CLOSE_POLICY, "Tunnel disconnected");
		break;
	case EXPOSR_DISCONNECT_REVOKED:
		ws_conn_close(c, WS_CLOSE_POLICY, "Tunnel access revoked");
		break;
	case EXPOSR_DISCONNECT_SHUTDOWN:
	default:
		ws_conn_close(c, WS_CLOSE_GOING_AWAY, "Server shutting down");
		break;
	}
}

static const struct exposr_transport_conn_vtable conn_vt = {
        .size = sizeof(struct exposr_transport_conn_vtable),
        .open_channel = conn_open_channel,
        .cancel_open = conn_cancel_open,
        .disconnect = conn_disconnect,
};

static struct ws_conn *conn_new(struct ws_module *wm, struct bufferevent *bev,
                                const char *tunnel_id, const char *peer)
{
	struct event_base *base = wm->host->event_base();
	struct ws_conn *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->wm = wm;
	c->bev = bev;
	c->tunnel_id = strdup(tunnel_id);
	c->peer = strdup(peer);
	c->mux = mux_new(&conn_mux_ops, c);
	c->keepalive = event_new(base, -1, EV_PERSIST, conn_keepalive, c);
	c->timer = evtimer_new(base, conn_deferred, c);
	c->defer = event_new(base, -1, 0, conn_deferred, c);
	c->read = event_new(base, bufferevent_getfd(bev), EV_READ | EV_PERSIST, conn_read, c);
	c->close_timer = evtimer_new(base, conn_close_timeout, c);
	if (c->tunnel_id == NULL || c->peer == NULL || c->mux == NULL || c->keepalive == NULL ||
	    c->timer == NULL || c->defer == NULL || c->read == NULL || c->close_timer == NULL ||
	    wslay_event_context_server_init(&c->ws, &ws_callbacks, c) != 0)
		goto fail;
	wslay_event_config_set_no_buffering(c->ws, 1);
	wslay_event_config_set_max_recv_msg_length(c->ws, wm->max_message);
	struct timeval tick = timeval_from_ms(WS_KEEPALIVE_TICK_MS);
	if (event_add(c->keepalive, &tick) != 0)
		goto fail_ws;
	bufferevent_setcb(bev, NULL, conn_writable, conn_event, c);
	bufferevent_set_max_single_write(bev, WS_WRITE_BATCH);
	bufferevent_setwatermark(bev, EV_WRITE, WS_OUTPUT_LOW, 0);
	/* The socket is read by conn_read, and written by conn_deferred (see
	 * conn_output_added). */
	if (bufferevent_disable(bev, EV_READ | EV_WRITE) != 0 || event_add(c->read, NULL) != 0)
		goto fail_ws;
	LIST_INSERT_HEAD(&wm->conns, c, link);
	wm->host->metrics->add(wm->conns_open, 1);
	return c;
fail_ws:
	bufferevent_setcb(bev, NULL, NULL, NULL, NULL);
fail:
	/* The caller still owns the bufferevent. */
	conn_free_owned(c);
	return NULL;
}

void ws_conn_start(struct ws_module *wm, struct bufferevent *bev, const char *tunnel_id,
                   const char *peer, bool v1)
{
	struct ws_conn *c = conn_new(wm, bev, tunnel_id, peer);
	if (c == NULL) {
		ws_log(wm, EXPOSR_LOG_ERROR, "tunnel %s: cannot set up a websocket connection",
		       tunnel_id);
		bufferevent_free(bev);
		return;
	}
	c->last_heard = monotonic_ms();
	if (v1)
		mux_start_v1(c->mux);
	const struct exposr_host *host = wm->host;
	if (!wm->stopping && host->server_state() != EXPOSR_SERVER_STOPPING)
		c->reg = host->tunnels->connection_add(tunnel_id, peer, &conn_vt, c);
	if (c->reg == NULL) {
		ws_log(wm, EXPOSR_LOG_INFO, "tunnel %s: transport connection from %s refused",
		       tunnel_id, peer);
		ws_conn_close(c, WS_CLOSE_POLICY, "unable to establish tunnel");
		return;
	}
	ws_log(wm, EXPOSR_LOG_INFO, "tunnel %s: transport connection from %s", tunnel_id, peer);
	struct wslay_event_msg ping = {.opcode = WSLAY_PING, .msg = NULL, .msg_length = 0};
	if (wslay_event_queue_msg(c->ws, &ping) != 0) {
		conn_drop(c);
		return;
	}
	conn_flush(c);
	/* Frames the client sent right behind its request head. */
	if (c->phase == WS_OPEN && evbuffer_get_length(bufferevent_get_input(bev)) > 0)
		conn_receive(c);
}

void ws_conns_close_all(struct ws_module *wm, uint16_t code, const char *reason)
{
	struct ws_conn *c;
	LIST_FOREACH(c, &wm->conns, link)
	ws_conn_close(c, code, reason);
}

void ws_conns_free_all(struct ws_module *wm)
{
	while (!LIST_EMPTY(&wm->conns))
		conn_free(LIST_FIRST(&wm->conns));
}
