/* Unit tests of a websocket connection on a real socket pair and event loop: when its
 * output reaches the socket. */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/bufferevent.h>
#include <event2/event.h>

#include "ws_conn.h"

static struct event_base *base;
static int peer = -1; /* the client's end */
static struct ws_module wm;
static int registrations;

static bool stub_log_enabled(enum exposr_log_level level)
{
	(void)level;
	return false;
}

static void stub_log(struct exposr_module_handle *mod, enum exposr_log_level level, const char *fmt,
                     ...)
{
	(void)mod;
	(void)level;
	(void)fmt;
}

static struct event_base *stub_event_base(void)
{
	return base;
}

static enum exposr_server_state stub_server_state(void)
{
	return EXPOSR_SERVER_RUNNING;
}

static void stub_metric_add(struct exposr_metric *metric, int64_t delta)
{
	(void)metric;
	(void)delta;
}

static struct exposr_tunnel_conn *stub_connection_add(const char *tunnel_id, const char *peer_addr,
                                                      const struct exposr_transport_conn_vtable *vt,
                                                      void *conn)
{
	(void)tunnel_id;
	(void)peer_addr;
	(void)vt;
	(void)conn;
	registrations++;
	return (struct exposr_tunnel_conn *)&registrations;
}

static void stub_connection_remove(struct exposr_tunnel_conn *c)
{
	(void)c;
	registrations--;
}

static const struct exposr_metrics_api metrics = {.add = stub_metric_add};
static const struct exposr_tunnel_api tunnels = {.connection_add = stub_connection_add,
                                                 .connection_remove = stub_connection_remove};
static const struct exposr_host host = {
        .log_enabled = stub_log_enabled,
        .log = stub_log,
        .event_base = stub_event_base,
        .server_state = stub_server_state,
        .tunnels = &tunnels,
        .metrics = &metrics,
};

void ws_module_check_drained(struct ws_module *m)
{
	(void)m;
}

/* Reads what the connection has written so far, without waiting. */
static size_t peer_read(uint8_t *buf, size_t size)
{
	ssize_t n = recv(peer, buf, size, MSG_DONTWAIT);
	return n > 0 ? (size_t)n : 0;
}

static void setup(void)
{
	int sv[2];
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	cr_assert_eq(evutil_make_socket_nonblocking(sv[0]), 0);
	base = event_base_new();
	cr_assert_not_null(base);
	peer = sv[1];
	wm = (struct ws_module){.host = &host, .max_message = 1024 * 1024};
	LIST_INIT(&wm.conns);
	struct bufferevent *bev = bufferevent_socket_new(base, sv[0], BEV_OPT_CLOSE_ON_FREE);
	cr_assert_not_null(bev);
	ws_conn_start(&wm, bev, "tunnel", "peer", false);
	cr_assert_eq(registrations, 1);
	/* The first turn writes the server's first ping. */
	cr_assert_eq(event_base_loop(base, EVLOOP_NONBLOCK), 0);
	uint8_t buf[16];
	cr_assert_eq(peer_read(buf, sizeof(buf)), 2);
	cr_assert_eq(buf[0], 0x89);
}

static void teardown(void)
{
	ws_conns_free_all(&wm);
	close(peer);
	event_base_free(base);
}

TestSuite(ws_conn, .init = setup, .fini = teardown);

/* A reply is written in the loop turn that read what caused it: no EPOLLOUT armed for a
 * later turn, which cost every proxied request two epoll_ctl calls and a turn. */
Test(ws_conn, reply_written_in_the_turn_that_read_its_cause)
{
	/* A masked ping with no payload. */
	static const uint8_t ping[] = {0x89, 0x80, 1, 2, 3, 4};
	cr_assert_eq(send(peer, ping, sizeof(ping), 0), (ssize_t)sizeof(ping));
	cr_assert_eq(event_base_loop(base, EVLOOP_ONCE), 0);
	uint8_t buf[16];
	cr_assert_eq(peer_read(buf, sizeof(buf)), 2, "the pong waits for another turn");
	cr_assert_eq(buf[0], 0x8A);
	cr_assert_eq(buf[1], 0x00);
}
