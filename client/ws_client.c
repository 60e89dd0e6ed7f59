/* The tunnel client's websocket connection (see ws_client.h). */
#include "ws_client.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <wslay/wslay.h>

#include "monotonic.h"
#include "sock_fill.h"

#define HANDSHAKE_TIMEOUT_S 10
#define CLOSE_TIMEOUT_S     2
#define MAX_RESPONSE_HEAD   8192
#define READ_LIMIT          (256 * 1024)
#define WS_GUID             "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

enum ws_state {
	WS_HANDSHAKE,
	WS_OPEN,
	WS_CLOSING, /* close frame queued or received: flushing, then done */
	WS_DONE,
};

struct ws_client {
	struct bufferevent *bev;
	wslay_event_context_ptr ctx;
	const struct ws_client_handler *h;
	void *arg;
	enum ws_state state;
	char key[32];
	bool congested;
	bool direct;     /* a plain socket: written and read here, past libevent (not TLS) */
	bool frame_ctrl; /* the frame being received is a control frame */
	bool frame_fin;
	bool in_recv;
	bool dirty; /* in the flush list */
	struct ws_client *dirty_prev, *dirty_next;
	uint16_t close_code;
	uint64_t last_pong;
};

/* Output is written once per loop iteration for every connection that got some, straight
 * from here: the socket is polled for writing only while the kernel refuses bytes, which
 * spares two epoll_ctl() per write and batches the messages of many channels. */
static struct event *flush_event;
static struct ws_client *dirty_head;

static void dirty_remove(struct ws_client *ws)
{
	if (!ws->dirty)
		return;
	if (ws->dirty_prev != NULL)
		ws->dirty_prev->dirty_next = ws->dirty_next;
	else
		dirty_head = ws->dirty_next;
	if (ws->dirty_next != NULL)
		ws->dirty_next->dirty_prev = ws->dirty_prev;
	ws->dirty = false;
	ws->dirty_prev = ws->dirty_next = NULL;
}

static void mark_dirty(struct ws_client *ws)
{
	if (ws->dirty || ws->state != WS_OPEN || !ws->direct)
		return; /* while closing, or over TLS, libevent writes */
	ws->dirty = true;
	ws->dirty_prev = NULL;
	ws->dirty_next = dirty_head;
	if (dirty_head != NULL)
		dirty_head->dirty_prev = ws;
	dirty_head = ws;
	event_active(flush_event, EV_TIMEOUT, 0);
}

/* Masks only keep caches from mistaking client frames for HTTP (RFC 6455 §10.3); a fast
 * generator seeded per process is enough for that. */
static uint64_t rng_state;

static uint64_t rng_next(void)
{
	if (rng_state == 0) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		rng_state = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^
		            (uint64_t)getpid() ^ 0x9E3779B97F4A7C15ull;
	}
	uint64_t x = rng_state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng_state = x;
	return x * 0x2545F4914F6CDD1Dull;
}

static void rng_fill(uint8_t *buf, size_t len)
{
	while (len > 0) {
		uint64_t r = rng_next();
		size_t n = len < sizeof(r) ? len : sizeof(r);
		memcpy(buf, &r, n);
		buf += n;
		len -= n;
	}
}

/* Multiplex messages are framed here rather than by wslay_frame_send(), which masks one
 * byte at a time through a 4 KiB bounce buffer: that was a quarter of this client's CPU
 * in a bulk download. Here the payload is masked eight bytes at a time straight into the
 * output buffer. Control frames (ping, pong, close) stay with wslay. */
static void mask_copy(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t key[4],
                      size_t offset)
{
	uint8_t k[8];
	for (int i = 0; i < 8; i++)
		k[i] = key[(offset + (size_t)i) & 3];
	uint64_t k64;
	memcpy(&k64, k, sizeof(k64));
	size_t i = 0;
	for (; i + 8 <= len; i += 8) {
		uint64_t w;
		memcpy(&w, src + i, sizeof(w));
		w ^= k64;
		memcpy(dst + i, &w, sizeof(w));
	}
	for (; i < len; i++)
		dst[i] = src[i] ^ key[(offset + i) & 3];
}

static int send_frame(struct evbuffer *out, uint8_t fin, uint8_t opcode, const uint8_t *data,
                      size_t len)
{
	uint8_t head[14];
	size_t n = 0;
	head[n++] = (uint8_t)((fin ? 0x80 : 0) | (opcode & 0x0f));
	if (len < 126) {
		head[n++] = (uint8_t)(0x80 | len);
	} else if (len <= 0xFFFF) {
		head[n++] = 0x80 | 126;
		head[n++] = (uint8_t)(len >> 8);
		head[n++] = (uint8_t)len;
	} else {
		head[n++] = 0x80 | 127;
		for (int shift = 56; shift >= 0; shift -= 8)
			head[n++] = (uint8_t)((uint64_t)len >> shift);
	}
	uint8_t key[4];
	rng_fill(key, sizeof(key));
	memcpy(head + n, key, sizeof(key));
	n += sizeof(key);
	if (evbuffer_add(out, head, n) != 0)
		return -1;
	if (len == 0)
		return 0;
	struct evbuffer_iovec v[2];
	int nv = evbuffer_reserve_space(out, (ev_ssize_t)len, v, 2);
	if (nv <= 0)
		return -1;
	size_t done = 0;
	int used = 0;
	while (used < nv && done < len) {
		size_t part = len - done < v[used].iov_len ? len - done : v[used].iov_len;
		mask_copy(v[used].iov_base, data + done, part, key, done);
		v[used].iov_len = part;
		done += part;
		used++;
	}
	return evbuffer_commit_space(out, v, used) == 0 ? 0 : -1;
}

/* Ends the connection: the owner hears of it last thing in a bufferevent callback. */
static void finish(struct ws_client *ws, int http_status, uint16_t code)
{
	dirty_remove(ws);
	ws->state = WS_DONE;
	bufferevent_disable(ws->bev, EV_READ | EV_WRITE);
	ws->h->closed(ws->arg, http_status, code);
}

/* wslay callbacks */

static ssize_t ws_recv_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags,
                          void *user)
{
	(void)flags;
	struct ws_client *ws = user;
	int n = evbuffer_remove(bufferevent_get_input(ws->bev), buf, len);
	if (n <= 0) {
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	return n;
}

static ssize_t ws_send_cb(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags,
                          void *user)
{
	(void)flags;
	struct ws_client *ws = user;
	if (evbuffer_add(bufferevent_get_output(ws->bev), data, len) != 0) {
		wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
		return -1;
	}
	return (ssize_t)len;
}

static int ws_genmask_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, void *user)
{
	(void)ctx;
	(void)user;
	rng_fill(buf, len);
	return 0;
}

static void ws_frame_start_cb(wslay_event_context_ptr ctx,
                              const struct wslay_event_on_frame_recv_start_arg *arg, void *user)
{
	(void)ctx;
	struct ws_client *ws = user;
	ws->frame_ctrl = (arg->opcode & 0x8) != 0;
	if (ws->frame_ctrl)
		return;
	ws->frame_fin = arg->fin;
	if (arg->opcode != WSLAY_CONTINUATION_FRAME && ws->state == WS_OPEN)
		ws->h->message_begin(ws->arg);
}

static void ws_frame_chunk_cb(wslay_event_context_ptr ctx,
                              const struct wslay_event_on_frame_recv_chunk_arg *arg, void *user)
{
	(void)ctx;
	struct ws_client *ws = user;
	if (!ws->frame_ctrl && arg->data_length > 0 && ws->state == WS_OPEN)
		ws->h->message_data(ws->arg, arg->data, arg->data_length);
}

static void ws_frame_end_cb(wslay_event_context_ptr ctx, void *user)
{
	(void)ctx;
	struct ws_client *ws = user;
	if (!ws->frame_ctrl && ws->frame_fin && ws->state == WS_OPEN)
		ws->h->message_end(ws->arg);
}

static void ws_msg_cb(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg,
                      void *user)
{
	(void)ctx;
	struct ws_client *ws = user;
	if (arg->opcode == WSLAY_PONG)
		ws->last_pong = monotonic_ms();
	else if (arg->opcode == WSLAY_CONNECTION_CLOSE)
		ws->close_code = arg->status_code ? arg->status_code : 1005;
}

static const struct wslay_event_callbacks ws_callbacks = {
        .recv_callback = ws_recv_cb,
        .send_callback = ws_send_cb,
        .genmask_callback = ws_genmask_cb,
        .on_frame_recv_start_callback = ws_frame_start_cb,
        .on_frame_recv_chunk_callback = ws_frame_chunk_cb,
        .on_frame_recv_end_callback = ws_frame_end_cb,
        .on_msg_recv_callback = ws_msg_cb,
};

/* After a close frame went into the output: done once it is written. */
static void start_closing(struct ws_client *ws)
{
	struct timeval tv = {CLOSE_TIMEOUT_S, 0};
	dirty_remove(ws);
	ws->state = WS_CLOSING;
	bufferevent_setwatermark(ws->bev, EV_WRITE, 0, 0);
	bufferevent_set_timeouts(ws->bev, &tv, &tv);
	bufferevent_enable(ws->bev, EV_WRITE);
}

static void check_drained(struct ws_client *ws, size_t left)
{
	if (ws->state == WS_OPEN && ws->congested && left <= WS_CLIENT_OUTPUT_LOW) {
		ws->congested = false;
		ws->h->drained(ws->arg);
	}
}

static void flush_all(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	while (dirty_head != NULL) {
		struct ws_client *ws = dirty_head;
		dirty_remove(ws);
		struct evbuffer *out = bufferevent_get_output(ws->bev);
		evbuffer_write(out, bufferevent_getfd(ws->bev));
		size_t left = evbuffer_get_length(out);
		/* The rest (or an error) is libevent's to write (or report). */
		if (left > 0)
			bufferevent_enable(ws->bev, EV_WRITE);
		check_drained(ws, left);
	}
}

/* bufferevent callbacks */

static void accept_key(const char *key, char out[64])
{
	char buf[64];
	unsigned char digest[SHA_DIGEST_LENGTH];
	int n = snprintf(buf, sizeof(buf), "%s%s", key, WS_GUID);
	SHA1((const unsigned char *)buf, (size_t)n, digest);
	EVP_EncodeBlock((unsigned char *)out, digest, SHA_DIGEST_LENGTH);
}

/* 1: open; 0: need more; -1: refused or broken (status in *status). */
static int read_handshake(struct ws_client *ws, int *status)
{
	struct evbuffer *in = bufferevent_get_input(ws->bev);
	struct evbuffer_ptr end = evbuffer_search(in, "\r\n\r\n", 4, NULL);
	*status = 0;
	if (end.pos < 0)
		return evbuffer_get_length(in) > MAX_RESPONSE_HEAD ? -1 : 0;
	size_t len = (size_t)end.pos + 4;
	if (len > MAX_RESPONSE_HEAD)
		return -1;
	char head[MAX_RESPONSE_HEAD + 1];
	evbuffer_remove(in, head, len);
	head[len] = '\0';
	if (strncmp(head, "HTTP/1.1 ", 9) != 0)
		return -1;
	*status = atoi(head + 9);
	if (*status != 101)
		return -1;
	char expect[64];
	accept_key(ws->key, expect);
	const char *h = strcasestr(head, "\r\nsec-websocket-accept:");
	if (h == NULL)
		return -1;
	h += strlen("\r\nsec-websocket-accept:");
	while (*h == ' ')
		h++;
	if (strncmp(h, expect, strlen(expect)) != 0)
		return -1;
	return 1;
}

static void receive(struct ws_client *ws)
{
	ws->in_recv = true;
	int r = wslay_event_recv(ws->ctx);
	ws->in_recv = false;
	if (r != 0 || wslay_event_send(ws->ctx) != 0) {
		finish(ws, 0, 1006);
		return;
	}
	mark_dirty(ws);
	/* A close frame arrived (wslay queued and sent the answer) or the server broke the
	 * protocol (wslay queued 1002): done once the output is out. */
	if (ws->state == WS_OPEN && !wslay_event_get_read_enabled(ws->ctx))
		start_closing(ws);
	if (ws->state == WS_CLOSING && !wslay_event_get_read_enabled(ws->ctx) &&
	    evbuffer_get_length(bufferevent_get_output(ws->bev)) == 0)
		finish(ws, 0, ws->close_code ? ws->close_code : 1006);
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct ws_client *ws = arg;
	if (ws->state == WS_HANDSHAKE) {
		int status;
		int r = read_handshake(ws, &status);
		if (r == 0)
			return;
		if (r < 0) {
			finish(ws, status, 0);
			return;
		}
		ws->state = WS_OPEN;
		ws->last_pong = monotonic_ms();
		bufferevent_set_timeouts(bev, NULL, NULL);
		/* From now on the flush writes; see flush_event. */
		if (ws->direct)
			bufferevent_disable(bev, EV_WRITE);
		ws->h->opened(ws->arg);
		if (ws->state != WS_OPEN && ws->state != WS_CLOSING)
			return;
		if (evbuffer_get_length(bufferevent_get_input(bev)) == 0)
			return;
	}
	if (ws->state == WS_DONE)
		return;
	if (ws->state == WS_CLOSING && !wslay_event_get_read_enabled(ws->ctx)) {
		struct evbuffer *in = bufferevent_get_input(bev);
		evbuffer_drain(in, evbuffer_get_length(in));
		return;
	}
	if (ws->direct)
		sock_fill(bev, READ_LIMIT);
	receive(ws);
}

static void on_write(struct bufferevent *bev, void *arg)
{
	struct ws_client *ws = arg;
	size_t left = evbuffer_get_length(bufferevent_get_output(bev));
	if (ws->state == WS_CLOSING) {
		if (left == 0 && !wslay_event_get_read_enabled(ws->ctx))
			finish(ws, 0, ws->close_code ? ws->close_code : 1006);
		return;
	}
	if (ws->state == WS_OPEN && left == 0 && ws->direct)
		bufferevent_disable(bev, EV_WRITE);
	check_drained(ws, left);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	struct ws_client *ws = arg;
	if (what & BEV_EVENT_CONNECTED)
		return;
	finish(ws, 0, ws->close_code ? ws->close_code : 1006);
}

struct ws_client *ws_client_connect(struct event_base *base, struct bufferevent *bev,
                                    const char *host_header, const char *path,
                                    const struct ws_client_handler *handler, void *arg)
{
	struct ws_client *ws = calloc(1, sizeof(*ws));
	if (ws == NULL) {
		bufferevent_free(bev);
		return NULL;
	}
	ws->bev = bev;
	ws->direct = bufferevent_openssl_get_ssl(bev) == NULL;
	ws->h = handler;
	ws->arg = arg;
	if (flush_event == NULL) {
		flush_event = event_new(base, -1, 0, flush_all, NULL);
		if (flush_event == NULL)
			goto fail;
	}
	uint8_t raw[16];
	rng_fill(raw, sizeof(raw));
	EVP_EncodeBlock((unsigned char *)ws->key, raw, sizeof(raw));
	if (wslay_event_context_client_init(&ws->ctx, &ws_callbacks, ws) != 0)
		goto fail;
	/* Data frames are streamed to the owner; only control frames are buffered. */
	wslay_event_config_set_no_buffering(ws->ctx, 1);
	bufferevent_setcb(ws->bev, on_read, on_write, on_event, ws);
	bufferevent_setwatermark(ws->bev, EV_WRITE, WS_CLIENT_OUTPUT_LOW, 0);
	struct timeval tv = {HANDSHAKE_TIMEOUT_S, 0};
	bufferevent_set_timeouts(ws->bev, &tv, &tv);
	/* What the exposr client sends (docs/transport.md §4.1), deflate offer included. */
	if (evbuffer_add_printf(bufferevent_get_output(ws->bev),
	                        "GET %s HTTP/1.1\r\n"
	                        "Sec-WebSocket-Version: 13\r\n"
	                        "Sec-WebSocket-Key: %s\r\n"
	                        "Connection: Upgrade\r\n"
	                        "Upgrade: websocket\r\n"
	                        "Sec-WebSocket-Extensions: permessage-deflate; "
	                        "client_max_window_bits\r\n"
	                        "Host: %s\r\n\r\n",
	                        path, ws->key, host_header) < 0 ||
	    bufferevent_enable(ws->bev, EV_READ | EV_WRITE) != 0)
		goto fail;
	return ws;
fail:
	ws_client_free(ws);
	return NULL;
}

int ws_client_send_mem(struct ws_client *ws, const uint8_t *head, size_t head_len,
                       const uint8_t *payload, size_t len)
{
	if (ws->state != WS_OPEN)
		return -1;
	struct evbuffer *out = bufferevent_get_output(ws->bev);
	/* As ws-multiplex: a message that carries data is a header frame and one
	 * continuation frame per buffer; one without data is a single frame. */
	if (send_frame(out, len == 0, WSLAY_BINARY_FRAME, head, head_len) != 0 ||
	    (len > 0 && send_frame(out, 1, WSLAY_CONTINUATION_FRAME, payload, len) != 0))
		return -1;
	if (evbuffer_get_length(out) > WS_CLIENT_OUTPUT_HIGH)
		ws->congested = true;
	mark_dirty(ws);
	return 0;
}

int ws_client_send(struct ws_client *ws, const uint8_t *head, size_t head_len,
                   struct evbuffer *payload, size_t len)
{
	const uint8_t *data = NULL;
	if (len > 0) {
		data = evbuffer_pullup(payload, (ev_ssize_t)len);
		if (data == NULL)
			return -1;
	}
	int r = ws_client_send_mem(ws, head, head_len, data, len);
	if (r == 0 && len > 0)
		evbuffer_drain(payload, len);
	return r;
}

int ws_client_congested(const struct ws_client *ws)
{
	return ws->congested;
}

uint64_t ws_client_ping(struct ws_client *ws, uint64_t now_ms)
{
	if (ws->state != WS_OPEN)
		return 0;
	struct wslay_event_msg ping = {.opcode = WSLAY_PING, .msg = NULL, .msg_length = 0};
	if (wslay_event_queue_msg(ws->ctx, &ping) == 0 && wslay_event_send(ws->ctx) == 0)
		mark_dirty(ws);
	return now_ms - ws->last_pong;
}

void ws_client_close(struct ws_client *ws, uint16_t code)
{
	if (ws->state == WS_HANDSHAKE) {
		struct timeval tv = {0, 1};
		ws->state = WS_CLOSING;
		bufferevent_set_timeouts(ws->bev, &tv, &tv); /* ends from the loop */
		return;
	}
	if (ws->state != WS_OPEN)
		return;
	if (wslay_event_queue_close(ws->ctx, code, NULL, 0) == 0 && !ws->in_recv)
		wslay_event_send(ws->ctx);
	ws->close_code = code;
	start_closing(ws);
}

void ws_client_free(struct ws_client *ws)
{
	if (ws == NULL)
		return;
	dirty_remove(ws);
	if (ws->ctx != NULL)
		wslay_event_context_free(ws->ctx);
	if (ws->bev != NULL)
		bufferevent_free(ws->bev);
	free(ws);
}

void ws_client_shutdown(void)
{
	dirty_head = NULL;
	if (flush_event != NULL)
		event_free(flush_event);
	flush_event = NULL;
}
