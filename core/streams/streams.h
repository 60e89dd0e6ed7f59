/* Core stream services: a socket as a struct exposr_stream, and the one splice. */
#ifndef EXPOSR_CORE_STREAMS_H
#define EXPOSR_CORE_STREAMS_H

#include <exposr/stream.h>

/* The splice's marks when its caller passes 0 (include/exposr/stream.h). */
#define STREAM_DEFAULT_HIGH_WATER EXPOSR_HIGH_WATER
#define STREAM_DEFAULT_LOW_WATER  EXPOSR_LOW_WATER

/* host->streams. */
extern const struct exposr_stream_api stream_api;

/* A stream over a connected socket's bufferevent; it owns and frees the bufferevent.
 * NULL without memory (the bufferevent is then still the caller's). */
struct exposr_stream *stream_socket_new(struct bufferevent *bev);

/* Frees the closed streams still flushing or lingering: at exit, before the loop goes. */
void stream_sockets_free_closing(void);

/* The splice of include/exposr/stream.h. */
int stream_splice(struct exposr_stream *a, struct exposr_stream *b, size_t high_water,
                  size_t low_water, void (*done)(void *arg), void *arg);

#endif
