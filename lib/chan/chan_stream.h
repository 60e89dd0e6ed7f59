/* The user side of a channel a transport hands the core as an exposr_stream: the answer
 * to the open, the user's callbacks, input and output buffers, the low-water mark, and
 * the order of delivery (data, drained, then the end after every byte). The transport
 * moves the bytes and decides when the channel is freed. */
#ifndef EXPOSR_CHAN_STREAM_H
#define EXPOSR_CHAN_STREAM_H

#include <stdbool.h>

#include <exposr/stream.h>
#include <exposr/transport.h>

enum chan_user {
	CHAN_USER_WAITING, /* the open callback has not run yet (the user holds the token) */
	CHAN_USER_OWNED,   /* the stream was handed out and not closed yet */
	CHAN_USER_NONE,
};

struct chan_stream;

struct chan_stream_ops {
	/* Call chan_stream_deliver (and whatever the transport adds) from the loop soon. */
	void (*wake)(struct chan_stream *cs);
	/* Whether the channel takes output now (open, its transport up). */
	bool (*writable)(const struct chan_stream *cs);
	/* Bytes were added to `out`. */
	void (*output_added)(struct chan_stream *cs);
	/* The user paused (true) or resumed reading; optional. */
	void (*read_paused)(struct chan_stream *cs, bool paused);
	/* The user closed the stream (its input is dropped already): end the channel once
	 * `out` is sent, or now. The stream may be freed then. */
	void (*closed)(struct chan_stream *cs);
};

struct chan_stream {
	struct exposr_stream stream; /* first: what the user holds */
	const struct chan_stream_ops *ops;
	enum chan_user user;

	exposr_channel_cb open_cb;
	void *open_arg;
	bool open_done; /* open_status waits to be delivered */
	int open_status;

	struct exposr_stream_callbacks cbs;
	void *cbs_arg;
	bool has_cbs;
	struct evbuffer *in;  /* received, not yet taken by the user */
	struct evbuffer *out; /* written by the user, not yet sent */
	size_t low_water;
	bool above_low;         /* out grew over low_water since the last on_drained */
	bool drained_due;       /* on_drained waits to be delivered */
	bool read_paused;       /* by the user */
	bool close_after_flush; /* the user closed with data still in out */
	bool ended;             /* no more data will come: on_closed once `in` is delivered */
	bool end_error;
	bool end_reported;
	unsigned busy; /* inside a user callback: freeing waits */
};

/* 0, or -1 when out of memory (nothing to release then). */
int chan_stream_init(struct chan_stream *cs, const struct chan_stream_ops *ops);
void chan_stream_release(struct chan_stream *cs);

/* Hands the user the answer to its open once it is due. `wrap` (optional) may put a
 * layer over the stream and hand that out instead (NULL: it failed and closed the
 * stream; the user gets EXPOSR_ERROR). The caller pins the channel (busy) around it. */
void chan_stream_deliver_open(struct chan_stream *cs,
                              struct exposr_stream *(*wrap)(struct chan_stream *cs));
/* Whether the user still holds the stream with its callbacks set. */
bool chan_stream_user_there(const struct chan_stream *cs);
/* Runs the callbacks that are due after the open answer: on_data unless paused,
 * on_drained, and on_closed once the input is delivered. The caller pins the channel
 * (busy) around it. */
void chan_stream_deliver(struct chan_stream *cs);
/* After the transport sent some of `out`: on_drained is due when it fell to the
 * low-water mark. True when it is empty and the user had closed: end the channel now. */
bool chan_stream_output_sent(struct chan_stream *cs);
/* No more data either way: the output is dropped, on_closed comes after the input.
 * False when it had ended already. */
bool chan_stream_end(struct chan_stream *cs, bool error);

#endif
