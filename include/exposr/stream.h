/* A duplex byte stream with back-pressure: a socket, a multiplex channel, an SSH
 * channel or a link to another cluster node. */
#ifndef EXPOSR_STREAM_H
#define EXPOSR_STREAM_H

#include "common.h"

/* exposrd's output marks: a connection with more than HIGH_WATER bytes waiting to be
 * written is not read until they are down to LOW_WATER, so no peer that stops reading
 * can make a queue grow without bound. */
#define EXPOSR_HIGH_WATER (256 * 1024)
#define EXPOSR_LOW_WATER  (64 * 1024)

struct evbuffer;
struct exposr_stream;

struct exposr_stream_callbacks {
	/* Bytes arrived; the callee drains what it takes from `data`. */
	void (*on_data)(void *arg, struct exposr_stream *stream, struct evbuffer *data);
	/* The output buffer fell to or below the low water mark. */
	void (*on_drained)(void *arg, struct exposr_stream *stream);
	/* The peer ended the stream (error == false) or it failed. No more callbacks
	 * follow; the stream must still be released with close(). */
	void (*on_closed)(void *arg, struct exposr_stream *stream, bool error);
};

struct exposr_stream_vtable {
	size_t size;
	void (*set_callbacks)(struct exposr_stream *stream,
	                      const struct exposr_stream_callbacks *cbs, void *arg);
	/* Moves all of `data` to the output. */
	int (*write)(struct exposr_stream *stream, struct evbuffer *data);
	/* Bytes written but not yet accepted by the other end. */
	size_t (*output_length)(struct exposr_stream *stream);
	void (*set_low_water)(struct exposr_stream *stream, size_t bytes);
	void (*pause_read)(struct exposr_stream *stream);
	void (*resume_read)(struct exposr_stream *stream);
	/* Flushes what is buffered, then ends the stream; frees it. */
	void (*close)(struct exposr_stream *stream);
};

struct exposr_stream {
	const struct exposr_stream_vtable *vt;
};

struct bufferevent;

/* Core stream services (host->streams). */
struct exposr_stream_api {
	size_t size;
	/* Wraps a connected socket; the stream owns and frees the bufferevent. */
	struct exposr_stream *(*from_bufferevent)(struct bufferevent *bev);
	/* Joins two streams in both directions with back-pressure: when one side's
	 * output exceeds high_water, the other side stops reading until it drains to
	 * low_water. When either side closes, the other is flushed and closed, and the
	 * splice frees itself; `done` (optional) runs then. 0: default marks. */
	int (*splice)(struct exposr_stream *a, struct exposr_stream *b, size_t high_water,
	              size_t low_water, void (*done)(void *arg), void *arg);
};

#endif
