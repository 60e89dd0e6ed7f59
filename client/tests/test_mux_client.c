/* The multiplexer against a scripted server on loopback: the upgrade, ACK on OPEN with
 * the client's numbering, DATA both ways to a real target socket, PAUSE when the target
 * does not read and RESUME when it does, CLOSE/ACK, answers to unknown channels, and the
 * close codes the owner sees. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "monotonic.h"
#include "mux_client.h"
#include "mux_frame.h"
#include "net.h"
#include "ws_client.h"

#define DEADLINE_MS 5000

static struct event_base *base;
static int server_listen, target_listen;
static int server_fd = -1, target_fd = -1; /* the accepted sockets */
static struct net_target server, target;
static struct mux_client *mux;
static int opened, closed_status, closed_code = -1;

static int listen_any(struct net_target *t)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sin);
	cr_assert(fd >= 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	cr_assert_eq(listen(fd, 4), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	memcpy(&t->addr, &sin, sizeof(sin));
	t->addr_len = sizeof(sin);
	return fd;
}

static void on_opened(void *arg)
{
	(void)arg;
	opened = 1;
}

static void on_closed(void *arg, int status, uint16_t code)
{
	(void)arg;
	closed_status = status;
	closed_code = code;
}

static const struct mux_client_handler handler = {.opened = on_opened, .closed = on_closed};

/* Runs the client's loop until `fd` has something to read (or the deadline). */
static void loop_until_readable(int fd, const char *what)
{
	uint64_t end = monotonic_ms() + DEADLINE_MS;
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, 0) == 1)
			return;
		cr_assert(monotonic_ms() < end, "timed out waiting for %s", what);
		struct timeval tv = {0, 10000};
		event_base_loopexit(base, &tv);
		event_base_dispatch(base);
	}
}

static void loop_while(int *flag, int value, const char *what)
{
	uint64_t end = monotonic_ms() + DEADLINE_MS;
	while (*flag == value) {
		cr_assert(monotonic_ms() < end, "timed out waiting for %s", what);
		struct timeval tv = {0, 10000};
		event_base_loopexit(base, &tv);
		event_base_dispatch(base);
	}
}

static void read_exact(int fd, void *buf, size_t len, const char *what)
{
	size_t got = 0;
	while (got < len) {
		loop_until_readable(fd, what);
		ssize_t n = recv(fd, (char *)buf + got, len - got, 0);
		cr_assert(n > 0, "%s: connection ended", what);
		got += (size_t)n;
	}
}

/* Reads one whole client message (masked frames, reassembled): its type and payload. */
static size_t read_message(uint8_t *out, size_t cap, const char *what)
{
	size_t len = 0;
	for (;;) {
		uint8_t h[2], ext[8], key[4];
		read_exact(server_fd, h, 2, what);
		cr_assert(h[1] & 0x80, "client frames are masked");
		uint64_t n = h[1] & 0x7f;
		if (n == 126) {
			read_exact(server_fd, ext, 2, what);
			n = (uint64_t)ext[0] << 8 | ext[1];
		} else if (n == 127) {
			read_exact(server_fd, ext, 8, what);
			n = 0;
			for (int i = 0; i < 8; i++)
				n = n << 8 | ext[i];
		}
		read_exact(server_fd, key, 4, what);
		uint8_t *p = out + len;
		int opcode = h[0] & 0x0f;
		cr_assert(opcode >= 8 || len + n <= cap, "%s: message too long", what);
		if (opcode >= 8) { /* a ping: skip it */
			uint8_t skip[125];
			read_exact(server_fd, skip, n, what);
			continue;
		}
		read_exact(server_fd, p, n, what);
		for (uint64_t i = 0; i < n; i++)
			p[i] ^= key[i & 3];
		len += n;
		if (h[0] & 0x80)
			return len;
	}
}

static void send_frame(const uint8_t *data, size_t len)
{
	uint8_t h[4] = {0x82};
	size_t hl = 2;
	if (len < 126) {
		h[1] = (uint8_t)len;
	} else {
		h[1] = 126;
		h[2] = (uint8_t)(len >> 8);
		h[3] = (uint8_t)len;
		hl = 4;
	}
	cr_assert_eq(send(server_fd, h, hl, 0), (ssize_t)hl);
	cr_assert_eq(send(server_fd, data, len, 0), (ssize_t)len);
}

static void send_mux(uint16_t type, uint32_t dst, uint32_t src, const void *payload, size_t len)
{
	uint8_t msg[MUX_V2_HEADER_LEN + 32768];
	cr_assert(len <= 32768);
	mux_encode_v2(msg, type, dst, src, (uint32_t)len);
	if (len > 0)
		memcpy(msg + MUX_V2_HEADER_LEN, payload, len);
	send_frame(msg, MUX_V2_HEADER_LEN + len);
}

static struct mux_header expect_mux(uint16_t type, uint32_t dst, uint32_t src, const char *what)
{
	uint8_t msg[256];
	size_t len = read_message(msg, sizeof(msg), what);
	struct mux_header h;
	const uint8_t *payload;
	size_t plen;
	cr_assert_eq(mux_decode_v2(msg, len, &h, &payload, &plen), MUX_DECODE_OK, "%s", what);
	cr_assert_eq(h.type, type, "%s: got %s", what, mux_type_name(2, h.type));
	cr_assert_eq(h.dst, dst, "%s: dst", what);
	cr_assert_eq(h.src, src, "%s: src", what);
	return h;
}

static void setup(void)
{
	base = event_base_new();
	server_listen = listen_any(&server);
	target_listen = listen_any(&target);
	struct bufferevent *bev = net_connect(base, &server);
	cr_assert_not_null(bev);
	mux = mux_client_connect(base, bev, "test:1", "/v1/tunnel/t/ws-endpoint?t=x", &target,
	                         &handler, NULL);
	cr_assert_not_null(mux);
	loop_until_readable(server_listen, "the websocket connection");
	server_fd = accept(server_listen, NULL, NULL);
	/* The upgrade: answer 101 with the accept value of its key. */
	char req[2048] = "";
	size_t len = 0;
	while (strstr(req, "\r\n\r\n") == NULL) {
		read_exact(server_fd, req + len, 1, "the upgrade request");
		req[++len] = '\0';
	}
	cr_assert(strstr(req, "GET /v1/tunnel/t/ws-endpoint?t=x HTTP/1.1\r\n") == req);
	cr_assert_not_null(strstr(req, "Host: test:1\r\n"));
	char *key = strstr(req, "Sec-WebSocket-Key: ") + strlen("Sec-WebSocket-Key: ");
	*strstr(key, "\r\n") = '\0';
	char buf[128], accept[64];
	unsigned char digest[SHA_DIGEST_LENGTH];
	int kl = snprintf(buf, sizeof(buf), "%s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", key);
	SHA1((const unsigned char *)buf, (size_t)kl, digest);
	EVP_EncodeBlock((unsigned char *)accept, digest, SHA_DIGEST_LENGTH);
	char resp[256];
	int n = snprintf(resp, sizeof(resp),
	                 "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
	                 "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
	                 accept);
	cr_assert_eq(send(server_fd, resp, (size_t)n, 0), n);
	loop_while(&opened, 0, "the open callback");
}

static void teardown(void)
{
	mux_client_free(mux);
	mux_client_cleanup();
	ws_client_shutdown();
	close(server_fd);
	if (target_fd >= 0)
		close(target_fd);
	close(server_listen);
	close(target_listen);
	event_base_free(base);
}

TestSuite(mux_client, .init = setup, .fini = teardown);

/* OPEN -> ACK with the client's own sequential number and a target connection. */
static void open_channel(uint32_t server_channel)
{
	send_mux(MUX_OPEN, 0, server_channel, NULL, 0);
	expect_mux(MUX_ACK, server_channel, server_channel, "the ACK of OPEN");
	loop_until_readable(target_listen, "the target connection");
	target_fd = accept(target_listen, NULL, NULL);
	cr_assert(target_fd >= 0);
}

Test(mux_client, data_both_ways_and_close)
{
	open_channel(1);
	send_mux(MUX_DATA, 1, 1, "hello", 5);
	char got[5];
	read_exact(target_fd, got, 5, "DATA at the target");
	cr_assert_arr_eq(got, "hello", 5);
	cr_assert_eq(send(target_fd, "ok", 2, 0), 2);
	uint8_t msg[64];
	size_t len = read_message(msg, sizeof(msg), "DATA from the target");
	cr_assert_eq(len, MUX_V2_HEADER_LEN + 2);
	cr_assert_arr_eq(msg + MUX_V2_HEADER_LEN, "ok", 2);
	/* The server closes: ACK, and the target socket ends. */
	send_mux(MUX_CLOSE, 1, 1, NULL, 0);
	expect_mux(MUX_ACK, 1, 1, "the ACK of CLOSE");
	loop_until_readable(target_fd, "the target's end");
	cr_assert_eq(recv(target_fd, msg, 1, 0), 0);
}

Test(mux_client, target_end_closes_the_channel)
{
	open_channel(1);
	close(target_fd);
	target_fd = -1;
	expect_mux(MUX_CLOSE, 1, 1, "CLOSE after the target ended");
	send_mux(MUX_ACK, 1, 1, NULL, 0);
	/* The next OPEN gets the next number. */
	open_channel(2);
}

Test(mux_client, unknown_channels_are_answered)
{
	send_mux(MUX_DATA, 7, 7, "A", 1);
	uint8_t msg[64];
	size_t len = read_message(msg, sizeof(msg), "CLOSE for channel 7");
	struct mux_header h;
	const uint8_t *p;
	size_t plen;
	cr_assert_eq(mux_decode_v2(msg, len, &h, &p, &plen), MUX_DECODE_OK);
	cr_assert_eq(h.type, MUX_CLOSE);
	cr_assert_eq(h.dst, 7);
	cr_assert_eq(h.src, 0);
	cr_assert_eq(plen, strlen(MUX_ERR_CHANNEL_NOT_OPEN));
	cr_assert_arr_eq(p, MUX_ERR_CHANNEL_NOT_OPEN, plen);
	send_mux(MUX_PAUSE, 9, 9, NULL, 0);
	expect_mux(MUX_CLOSE, 9, 0, "CLOSE for a PAUSE of channel 9");
}

Test(mux_client, pause_when_the_target_lags_resume_when_it_drains)
{
	open_channel(1);
	static uint8_t block[32768];
	memset(block, 'x', sizeof(block));
	uint64_t sent = 0, before = mux_client_stats.pauses_sent;
	/* The target does not read: once more than 16 KiB wait for it, PAUSE comes. */
	struct mux_header h = {0};
	while (h.type != MUX_PAUSE) {
		cr_assert(sent < 64u * 1024 * 1024, "no PAUSE after %llu bytes",
		          (unsigned long long)sent);
		send_mux(MUX_DATA, 1, 1, block, sizeof(block));
		sent += sizeof(block);
		struct pollfd p = {.fd = server_fd, .events = POLLIN};
		struct timeval tv = {0, 20000};
		event_base_loopexit(base, &tv);
		event_base_dispatch(base);
		if (poll(&p, 1, 0) == 1)
			h = expect_mux(MUX_PAUSE, 1, 1, "PAUSE");
	}
	cr_assert_eq(mux_client_stats.pauses_sent, before + 1);
	/* The target reads everything: RESUME. */
	uint64_t got = 0;
	static uint8_t sink[65536];
	uint64_t end = monotonic_ms() + DEADLINE_MS;
	while (got < sent) {
		cr_assert(monotonic_ms() < end, "timed out: %llu of %llu bytes at the target",
		          (unsigned long long)got, (unsigned long long)sent);
		event_base_loop(base, EVLOOP_NONBLOCK);
		ssize_t n = recv(target_fd, sink, sizeof(sink), MSG_DONTWAIT);
		if (n > 0)
			got += (uint64_t)n;
		else
			poll(&(struct pollfd){.fd = target_fd, .events = POLLIN}, 1, 1);
	}
	cr_assert_eq(got, sent);
	expect_mux(MUX_RESUME, 1, 1, "RESUME");
}

Test(mux_client, pings_as_soon_as_it_opens)
{
	/* ws-multiplex's keep-alive: an empty ping when the multiplexer starts (§4.5). */
	uint8_t h[2], key[4];
	read_exact(server_fd, h, 2, "the first frame");
	cr_assert_eq(h[0], 0x89, "a final ping frame, got 0x%02x", h[0]);
	cr_assert_eq(h[1], 0x80, "masked, empty");
	read_exact(server_fd, key, 4, "the mask");
}

Test(mux_client, server_close_codes_reach_the_owner)
{
	uint8_t close_frame[] = {0x88, 0x02, 0x03, 0xf0}; /* 1008 */
	cr_assert_eq(send(server_fd, close_frame, sizeof(close_frame), 0), 4);
	loop_while(&closed_code, -1, "the closed callback");
	cr_assert_eq(closed_code, 1008);
	cr_assert_eq(closed_status, 0);
}
