/* Unit tests of lib/mux's socket reads into a bufferevent's input (sock_read, sock_fill),
 * which the websocket connection makes itself instead of libevent. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "sock_fill.h"

static struct event_base *base;
static struct bufferevent *bev;
static int peer;

static void setup(void)
{
	int fds[2];
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
	cr_assert_eq(evutil_make_socket_nonblocking(fds[0]), 0);
	base = event_base_new();
	cr_assert_not_null(base);
	bev = bufferevent_socket_new(base, fds[0], BEV_OPT_CLOSE_ON_FREE);
	cr_assert_not_null(bev);
	peer = fds[1];
}

static void teardown(void)
{
	bufferevent_free(bev);
	event_base_free(base);
	if (peer >= 0)
		close(peer);
}

static void send_bytes(size_t n)
{
	char buf[256];
	memset(buf, 'x', sizeof(buf));
	cr_assert_leq(n, sizeof(buf));
	cr_assert_eq(write(peer, buf, n), (ssize_t)n);
}

static size_t input_length(void)
{
	return evbuffer_get_length(bufferevent_get_input(bev));
}

TestSuite(sock_read, .init = setup, .fini = teardown);

Test(sock_read, reads_what_is_there_up_to_max)
{
	send_bytes(100);
	cr_assert_eq(sock_read(bev, 30), 30);
	cr_assert_eq(input_length(), 30);
	cr_assert_eq(sock_read(bev, 4096), 70);
	cr_assert_eq(input_length(), 100);
}

Test(sock_read, nothing_to_read_is_eagain)
{
	errno = 0;
	cr_assert_eq(sock_read(bev, 4096), -1);
	cr_assert(errno == EAGAIN || errno == EWOULDBLOCK);
}

Test(sock_read, the_end_is_reported_after_the_bytes)
{
	send_bytes(10);
	close(peer);
	peer = -1;
	cr_assert_eq(sock_read(bev, 4096), 10);
	cr_assert_eq(sock_read(bev, 4096), 0);
	cr_assert_eq(input_length(), 10);
}

Test(sock_read, fill_counts_the_input_held)
{
	send_bytes(100);
	cr_assert_eq(sock_read(bev, 40), 40);
	sock_fill(bev, 64);
	cr_assert_eq(input_length(), 64);
	sock_fill(bev, 64);
	cr_assert_eq(input_length(), 64);
}
