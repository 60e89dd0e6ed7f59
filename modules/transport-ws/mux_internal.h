/* Internal to the multiplexer: the channel and multiplexer structures shared by mux.c
 * (connection level) and mux_channel.c (one channel and its stream). */
#ifndef EXPOSR_WS_MUX_INTERNAL_H
#define EXPOSR_WS_MUX_INTERNAL_H

#include <sys/queue.h>

#include <exposr/stream.h>

#include "chan_stream.h"
#include "hmap.h"
#include "mux.h"

/* The protocol side of a channel. */
enum chan_state {
	CH_QUEUED,  /* waiting behind the version probe: no number yet */
	CH_OPENING, /* OPEN (v2) or CON (v1) sent */
	CH_OPEN,
	CH_CLOSING, /* CLOSE sent, waiting for the ACK (v2, 1 s) or the client's FIN (v1) */
	CH_DONE,    /* number released; only the user's reference keeps the channel */
};

struct mux_channel {
	struct chan_stream cs; /* first: the user side and the stream the user holds */
	struct mux *mux;
	enum chan_state state;
	uint32_t local;  /* our number (v1: the shared number) */
	uint32_t remote; /* the client's number (v2) */
	bool in_map;
	struct hmap_node hash_node; /* keyed by `local` */

	bool peer_paused; /* the client sent PAUSE */

	uint64_t deadline;
	bool on_timer;
	bool on_ready;
	bool on_dirty;
	TAILQ_ENTRY(mux_channel) timer_link; /* m->opening or m->closing */
	TAILQ_ENTRY(mux_channel) ready_link; /* m->ready: has DATA to send */
	TAILQ_ENTRY(mux_channel) dirty_link; /* m->dirty: callbacks to deliver */
	TAILQ_ENTRY(mux_channel) all_link;
};

TAILQ_HEAD(chan_list, mux_channel);

/* Where the bytes of the message being received go (mux_input_begin .. mux_input_end). */
enum mux_rx_mode {
	RX_HEAD, /* gathering the header */
	RX_DATA, /* a DATA payload: straight to its channel */
	RX_HOLD, /* any other message: held whole until its end */
};

struct mux {
	const struct mux_ops *ops;
	void *arg;
	enum mux_state_version version;
	uint32_t next_v2;
	uint32_t next_v1;

	/* number -> channel, chained; the size is a power of two. */
	struct hmap channels; /* by local number */

	struct chan_list all;
	struct chan_list opening; /* queued and opening channels, by deadline */
	struct chan_list closing; /* v2 closing channels, by deadline */
	struct chan_list ready;
	struct chan_list dirty;
	size_t nqueued;
	struct mux_channel *probe; /* the one OPEN allowed while the version is unknown */

	enum mux_rx_mode rx_mode;
	uint8_t rx_head[MUX_MAX_HEADER_LEN];
	size_t rx_head_len;
	uint32_t rx_dst;          /* RX_DATA: the channel number the payload is for */
	struct evbuffer *rx_held; /* RX_HOLD: what came after the header; made when needed */

	bool diverged;
	uint64_t diverged_deadline;
	bool failed;
	bool closed;
	bool detached;
};

/* mux.c */
void mux_log(struct mux *m, enum exposr_log_level level, const char *fmt, ...) EXPOSR_PRINTF(3, 4);
uint64_t mux_now(struct mux *m);
struct mux_channel *mux_find(struct mux *m, uint32_t number);
void mux_map_insert(struct mux *m, struct mux_channel *ch, uint32_t number);
void mux_map_remove(struct mux *m, struct mux_channel *ch);
/* Sends one control message (v2 header, or v1 header when the connection is v1) with
 * an optional short ASCII payload. */
void mux_send_control(struct mux *m, uint16_t type, uint32_t dst, uint32_t src, const char *reason);

/* mux_channel.c */
struct mux_channel *chan_new(struct mux *m);
/* Frees the channel if nobody needs it any more. */
void chan_maybe_free(struct mux_channel *ch);
/* Frees unconditionally (mux_free). */
void chan_destroy(struct mux_channel *ch);
void chan_mark_dirty(struct mux_channel *ch);
void chan_timer_set(struct mux_channel *ch, struct chan_list *list, uint64_t deadline);
void chan_timer_clear(struct mux_channel *ch);
/* Forgets the number; the channel lives on only for its user. */
void chan_release_number(struct mux_channel *ch);
/* The open callback gets `status` (from mux_run). */
void chan_fail_open(struct mux_channel *ch, int status);
/* The open succeeded: the stream goes to the user, or is closed if nobody wants it. */
void chan_opened(struct mux_channel *ch, uint32_t remote);
/* Sends CLOSE (v2) or FIN (v1) and waits for the answer. */
void chan_send_close(struct mux_channel *ch, const char *reason);
/* The stream ended (from the client or a teardown): the user gets on_closed. */
void chan_end(struct mux_channel *ch, bool error);
/* DATA from the client. */
void chan_receive(struct mux_channel *ch, const uint8_t *data, size_t len);
void chan_set_peer_paused(struct mux_channel *ch, bool paused);
/* Delivers what waits for the user: open result, data, drained, closed. */
void chan_deliver(struct mux_channel *ch);
/* Queues the channel for sending if it has DATA it may send. */
void chan_schedule(struct mux_channel *ch);
/* Sends one chunk of the channel's output (the channel is off the ready list). */
void chan_send_chunk(struct mux_channel *ch);

#endif
