/* The multiplexer of one websocket connection: channel state machine, numbering,
 * version detection (v1/v2) and flow control, independent of the event loop. */
#ifndef EXPOSR_WS_MUX_H
#define EXPOSR_WS_MUX_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <exposr/transport.h>

#include "mux_frame.h"

struct evbuffer;
struct mux;

/* Timings of docs/transport.md §4.7 (milliseconds). */
#define MUX_OPEN_TIMEOUT_MS      5000
#define MUX_CLOSE_ACK_TIMEOUT_MS 1000
/* After a numbering divergence, channels still open get this long before the websocket
 * is closed under them. */
#define MUX_DIVERGED_GRACE_MS 5000
/* At most this many channels per websocket (ws-multiplex's limit; v1 has 65536 numbers). */
#define MUX_MAX_CHANNELS_V2 65535u
#define MUX_MAX_CHANNELS_V1 65536u
/* Largest DATA payload sent in one message, so that channels take turns. */
#define MUX_DATA_CHUNK (64 * 1024)
/* Received bytes a channel keeps while its reader is paused before it gives up: the
 * client pauses at 16 KiB, so only a client that ignores PAUSE gets here. */
#define MUX_CHANNEL_INPUT_MAX (8 * 1024 * 1024)

/* Websocket close codes the multiplexer asks for. */
#define MUX_WS_PROTOCOL_ERROR 1002
#define MUX_WS_INTERNAL_ERROR 1011

enum mux_state_version {
	MUX_UNKNOWN = 0, /* nothing heard from the client yet (docs/transport.md §4.9) */
	MUX_V1 = MUX_VERSION_1,
	MUX_V2 = MUX_VERSION_2,
};

/* What the multiplexer needs from the websocket below it. */
struct mux_ops {
	/* Sends one message as one binary websocket message: the header, then `len` bytes
	 * moved out of `payload` (NULL when len is 0). EXPOSR_ERROR once the websocket
	 * takes no more messages. */
	int (*send)(void *arg, const uint8_t *header, size_t header_len, struct evbuffer *payload,
	            size_t len);
	/* Whether DATA may be sent now (the websocket's output is under its high mark). */
	bool (*writable)(void *arg);
	/* Asks for mux_run() soon from the event loop: deferred callbacks or a new deadline. */
	void (*wake)(void *arg);
	/* The connection cannot go on: close the websocket with this code. */
	void (*fail)(void *arg, uint16_t ws_code, const char *reason);
	/* Monotonic milliseconds. */
	uint64_t (*now)(void *arg);
	/* Optional. */
	void (*log)(void *arg, enum exposr_log_level level, const char *fmt, va_list ap);
	/* Optional: a channel was created (+1) or freed (-1). */
	void (*channels_changed)(void *arg, int delta);
};

/* NULL without memory. The ops table must outlive the multiplexer. */
struct mux *mux_new(const struct mux_ops *ops, void *arg);
/* Frees the multiplexer and every channel, also streams a user still holds: only for
 * the end of the process, when nobody will touch them again. */
void mux_free(struct mux *m);

/* The client speaks v1 from its first byte (the pre-0.5 clients' endpoint, docs/legacy-clients.md
 * §14.5 C6): no probe, channels numbered from 0. Only before the first open. */
void mux_start_v1(struct mux *m);

/* One complete websocket data message from the client. */
void mux_input(struct mux *m, const uint8_t *msg, size_t len);
/* The same message in pieces split anywhere, as the websocket frames arrive: the payload
 * of a DATA message goes to its channel without waiting for the end of the message;
 * other messages (small) are held until mux_input_end(). */
void mux_input_begin(struct mux *m);
void mux_input_part(struct mux *m, const uint8_t *bytes, size_t len);
void mux_input_end(struct mux *m);

/* Opens a channel (exposr_transport_conn_vtable.open_channel): returns a cancel token,
 * or NULL when `cb` already ran (EXPOSR_AGAIN out of channels, EXPOSR_ERROR). */
void *mux_open(struct mux *m, exposr_channel_cb cb, void *arg);
void mux_cancel_open(struct mux *m, void *token);

/* Runs deferred callbacks and expired timers. */
void mux_run(struct mux *m);
/* The earliest deadline (mux_ops.now clock), 0 when none. */
uint64_t mux_next_deadline(const struct mux *m);
/* The websocket has room again: sends buffered DATA, channels taking turns. */
void mux_pump(struct mux *m);

/* Ends every channel (CLOSE/FIN for the open ones while the websocket still takes
 * messages); users get on_closed(error) and open callbacks EXPOSR_ERROR. No channel can
 * be opened afterwards. Idempotent. */
void mux_close_all(struct mux *m);
/* The websocket is gone: nothing is sent any more. Implies mux_close_all(). */
void mux_detach(struct mux *m);
/* True once no channel is left and no callback is pending: the multiplexer can go. */
bool mux_idle(const struct mux *m);

enum mux_state_version mux_version(const struct mux *m);
/* Channels with a number (opening, open, closing). */
size_t mux_channel_count(const struct mux *m);
/* True after a numbering divergence (docs/transport.md §4.7 rule 2). */
bool mux_diverged(const struct mux *m);

/* For tests: the next number to hand out (of the connection's version). */
void mux_set_next_channel(struct mux *m, uint32_t next);

#endif
