/* libevent 2.1 reads at most 4096 bytes per read callback (EVBUFFER_MAX_READ): for bulk
 * transfers that is a syscall and a loop iteration per 4 KiB. sock_fill() takes what else
 * the socket holds straight into the bufferevent's input, up to a limit; sock_read() is
 * the read itself, for a connection that does its own. */
#ifndef EXPOSR_SOCK_FILL_H
#define EXPOSR_SOCK_FILL_H

#include <stddef.h>
#include <sys/types.h>

struct bufferevent;

/* Reads until the input holds `limit` bytes or the socket has nothing more; an end of
 * stream or an error is left for libevent's next read to report. */
void sock_fill(struct bufferevent *bev, size_t limit);

/* For a connection that reads its socket itself, with the bufferevent's reading disabled:
 * reads up to `max` (> 0) more bytes the same way, with no ioctl(FIONREAD) before (which
 * libevent makes for every read). Returns the bytes read; 0 when the first read found the
 * end of the stream, -1 when it failed (errno says why; EAGAIN: nothing to read). An end
 * or an error after some bytes is found by the next call. */
ssize_t sock_read(struct bufferevent *bev, size_t max);

#endif
