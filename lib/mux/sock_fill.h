/* libevent 2.1 reads at most 4096 bytes per read callback (EVBUFFER_MAX_READ): for bulk
 * transfers that is a syscall and a loop iteration per 4 KiB. sock_fill() takes what else
 * the socket holds straight into the bufferevent's input, up to a limit. */
#ifndef EXPOSR_SOCK_FILL_H
#define EXPOSR_SOCK_FILL_H

#include <stddef.h>

struct bufferevent;

/* Reads until the input holds `limit` bytes or the socket has nothing more; an end of
 * stream or an error is left for libevent's next read to report. */
void sock_fill(struct bufferevent *bev, size_t limit);

#endif
