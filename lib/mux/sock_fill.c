/* Larger reads into a bufferevent's input (see sock_fill.h). */
#include "sock_fill.h"

#include <sys/uio.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

static void fill(struct evbuffer *in, evutil_socket_t fd, size_t limit);

void sock_fill(struct bufferevent *bev, size_t limit)
{
	struct evbuffer *in = bufferevent_get_input(bev);
	evutil_socket_t fd = bufferevent_getfd(bev);
	if (fd < 0)
		return;
	/* A socket bufferevent keeps the end of its input frozen outside its own reads. */
	evbuffer_unfreeze(in, 0);
	fill(in, fd, limit);
	evbuffer_freeze(in, 0);
}

static void fill(struct evbuffer *in, evutil_socket_t fd, size_t limit)
{
	size_t have;
	while ((have = evbuffer_get_length(in)) < limit) {
		struct evbuffer_iovec v[2];
		int n = evbuffer_reserve_space(in, (ev_ssize_t)(limit - have), v, 2);
		if (n <= 0)
			return;
		ssize_t r = readv(fd, (struct iovec *)v, n);
		if (r <= 0) {
			evbuffer_commit_space(in, v, 0);
			return;
		}
		size_t got = (size_t)r, reserved = 0;
		for (int i = 0; i < n; i++) {
			reserved += v[i].iov_len;
			if (v[i].iov_len > got)
				v[i].iov_len = got;
			got -= v[i].iov_len;
		}
		evbuffer_commit_space(in, v, n);
		if ((size_t)r < reserved)
			return; /* the socket is empty */
	}
}
