/* Larger reads into a bufferevent's input (see sock_fill.h). */
#include "sock_fill.h"

#include <errno.h>
#include <sys/uio.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

static ssize_t fill(struct evbuffer *in, evutil_socket_t fd, size_t limit);

ssize_t sock_read(struct bufferevent *bev, size_t max)
{
	struct evbuffer *in = bufferevent_get_input(bev);
	evutil_socket_t fd = bufferevent_getfd(bev);
	if (fd < 0) {
		errno = EBADF;
		return -1;
	}
	/* A socket bufferevent keeps the end of its input frozen outside its own reads. */
	evbuffer_unfreeze(in, 0);
	ssize_t got = fill(in, fd, evbuffer_get_length(in) + max);
	evbuffer_freeze(in, 0);
	return got;
}

void sock_fill(struct bufferevent *bev, size_t limit)
{
	size_t have = evbuffer_get_length(bufferevent_get_input(bev));
	if (have < limit)
		sock_read(bev, limit - have);
}

static ssize_t fill(struct evbuffer *in, evutil_socket_t fd, size_t limit)
{
	size_t have;
	ssize_t total = 0;
	while ((have = evbuffer_get_length(in)) < limit) {
		struct evbuffer_iovec v[2];
		int n = evbuffer_reserve_space(in, (ev_ssize_t)(limit - have), v, 2);
		if (n <= 0) {
			errno = ENOMEM;
			return total > 0 ? total : -1;
		}
		/* The space reserved may be larger than asked for. */
		size_t room = limit - have;
		for (int i = 0; i < n; i++) {
			if (v[i].iov_len > room)
				v[i].iov_len = room;
			room -= v[i].iov_len;
		}
		ssize_t r = readv(fd, (struct iovec *)v, n);
		if (r <= 0) {
			evbuffer_commit_space(in, v, 0);
			return total > 0 ? total : r;
		}
		total += r;
		size_t got = (size_t)r, reserved = 0;
		for (int i = 0; i < n; i++) {
			reserved += v[i].iov_len;
			if (v[i].iov_len > got)
				v[i].iov_len = got;
			got -= v[i].iov_len;
		}
		evbuffer_commit_space(in, v, n);
		if ((size_t)r < reserved)
			return total; /* the socket is empty */
	}
	return total;
}
