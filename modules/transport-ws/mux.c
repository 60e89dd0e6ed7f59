/* The multiplexer of one websocket: reads client messages (v1 or v2), numbers and opens
 * channels the way the client's allocator expects, and runs the open/close timers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "mux_internal.h"

void mux_log(struct mux *m, enum exposr_log_level level, const char *fmt, ...)
{
	if (m->ops->log == NULL)
		return;
	va_list ap;
	va_start(ap, fmt);
	m->ops->log(m->arg, level, fmt, ap);
	va_end(ap);
}

uint64_t mux_now(struct mux *m)
{
	return m->ops->now(m->arg);
}

struct mux *mux_new(const struct mux_ops *ops, void *arg)
{
	struct mux *m = calloc(1, sizeof(*m));
	if (m == NULL)
		return NULL;
	if (hmap_init(&m->channels) != 0) {
		free(m);
		return NULL;
	}
	m->ops = ops;
	m->arg = arg;
	m->version = MUX_UNKNOWN;
	m->next_v2 = 1;
	m->next_v1 = 1; /* v1 channel 0 is the answered probe */
	TAILQ_INIT(&m->all);
	TAILQ_INIT(&m->opening);
	TAILQ_INIT(&m->closing);
	TAILQ_INIT(&m->ready);
	TAILQ_INIT(&m->dirty);
	return m;
}

void mux_start_v1(struct mux *m)
{
	m->version = MUX_V1;
	m->next_v1 = 0;
}

void mux_free(struct mux *m)
{
	if (m == NULL)
		return;
	while (!TAILQ_EMPTY(&m->all))
		chan_destroy(TAILQ_FIRST(&m->all));
	if (m->rx_held != NULL)
		evbuffer_free(m->rx_held);
	hmap_destroy(&m->channels);
	free(m);
}

/* Channel numbers are handed out sequentially, so they are their own hash. */
struct mux_channel *mux_find(struct mux *m, uint32_t number)
{
	for (struct hmap_node *node = hmap_chain(&m->channels, number); node != NULL;
	     node = node->next) {
		struct mux_channel *ch = hmap_entry(node, struct mux_channel, hash_node);
		if (ch->local == number)
			return ch;
	}
	return NULL;
}

void mux_map_insert(struct mux *m, struct mux_channel *ch, uint32_t number)
{
	ch->local = number;
	hmap_insert(&m->channels, &ch->hash_node, number);
	ch->in_map = true;
}

void mux_map_remove(struct mux *m, struct mux_channel *ch)
{
	hmap_remove(&m->channels, &ch->hash_node);
	ch->in_map = false;
}

void mux_send_control(struct mux *m, uint16_t type, uint32_t dst, uint32_t src, const char *reason)
{
	if (m->detached)
		return;
	uint8_t head[MUX_MAX_HEADER_LEN + 64];
	size_t reason_len = reason != NULL ? strlen(reason) : 0;
	if (reason_len > 64)
		reason_len = 64;
	size_t len;
	if (m->version == MUX_V1) {
		len = mux_encode_v1(head, type, dst, 0);
		reason_len = 0; /* v1 messages other than DATA carry nothing */
	} else {
		len = mux_encode_v2(head, type, dst, src, (uint32_t)reason_len);
	}
	if (reason_len > 0)
		memcpy(head + len, reason, reason_len);
	if (m->ops->send(m->arg, head, len + reason_len, NULL, 0) != EXPOSR_OK)
		mux_log(m, EXPOSR_LOG_DEBUG, "could not send %s on a closing websocket",
		        mux_type_name((uint16_t)m->version, type));
}

/* Ends the whole connection (a protocol the server cannot follow). */
static void mux_terminate(struct mux *m, uint16_t ws_code, const char *reason)
{
	if (m->failed)
		return;
	m->failed = true;
	mux_log(m, EXPOSR_LOG_WARN, "closing the websocket (%u): %s", ws_code, reason);
	mux_close_all(m);
	m->ops->fail(m->arg, ws_code, reason);
}

/* The next free number after the last one handed out, as the client's allocator does:
 * v2 counts 1..0xFFFFFFFF then wraps to 1; v1 counts 0..65535 and wraps to 0. */
static uint32_t allocate_number(struct mux *m)
{
	if (m->version == MUX_V1) {
		uint32_t n = m->next_v1;
		while (mux_find(m, n) != NULL)
			n = (n + 1) & 0xFFFFu;
		m->next_v1 = (n + 1) & 0xFFFFu;
		return n;
	}
	uint32_t n = m->next_v2;
	while (mux_find(m, n) != NULL)
		n = n == UINT32_MAX ? 1 : n + 1;
	m->next_v2 = n == UINT32_MAX ? 1 : n + 1;
	return n;
}

void mux_set_next_channel(struct mux *m, uint32_t next)
{
	if (m->version == MUX_V1)
		m->next_v1 = next & 0xFFFFu;
	else
		m->next_v2 = next == 0 ? 1 : next;
}

/* Numbers the channel and sends OPEN (v2, also the probe) or CON (v1). */
static void send_open(struct mux *m, struct mux_channel *ch)
{
	if (ch->state == CH_QUEUED && m->nqueued > 0)
		m->nqueued--;
	mux_map_insert(m, ch, allocate_number(m));
	ch->state = CH_OPENING;
	if (m->version == MUX_UNKNOWN)
		m->probe = ch;
	if (m->version == MUX_V1)
		mux_send_control(m, MUX_V1_CON, ch->local, 0, NULL);
	else
		mux_send_control(m, MUX_OPEN, 0, ch->local, NULL);
}

/* Opens queued channels once the version is known, or the next probe. */
static void flush_queued(struct mux *m)
{
	if (m->nqueued == 0 || m->closed)
		return;
	struct mux_channel *ch = TAILQ_FIRST(&m->opening);
	while (ch != NULL && m->nqueued > 0) {
		struct mux_channel *next = TAILQ_NEXT(ch, timer_link);
		if (ch->state == CH_QUEUED) {
			if (m->version == MUX_UNKNOWN && m->probe != NULL)
				return;
			send_open(m, ch);
		}
		ch = next;
	}
}

static size_t channel_limit(const struct mux *m)
{
	return m->version == MUX_V1 ? MUX_MAX_CHANNELS_V1 : MUX_MAX_CHANNELS_V2;
}

void *mux_open(struct mux *m, exposr_channel_cb cb, void *arg)
{
	if (m->closed || m->diverged) {
		cb(arg, EXPOSR_ERROR, NULL);
		return NULL;
	}
	if (m->channels.count + m->nqueued >= channel_limit(m)) {
		cb(arg, EXPOSR_AGAIN, NULL);
		return NULL;
	}
	struct mux_channel *ch = chan_new(m);
	if (ch == NULL) {
		cb(arg, EXPOSR_ERROR, NULL);
		return NULL;
	}
	ch->cs.user = CHAN_USER_WAITING;
	ch->cs.open_cb = cb;
	ch->cs.open_arg = arg;
	bool queued = m->version == MUX_UNKNOWN && m->probe != NULL;
	if (queued) {
		ch->state = CH_QUEUED;
		m->nqueued++;
	}
	/* Queued channels wait on the same clock: nobody waits longer than an open. */
	chan_timer_set(ch, &m->opening, mux_now(m) + MUX_OPEN_TIMEOUT_MS);
	if (!queued)
		send_open(m, ch);
	return ch;
}

void mux_cancel_open(struct mux *m, void *token)
{
	struct mux_channel *ch = token;
	if (ch == NULL || ch->mux != m || ch->cs.user != CHAN_USER_WAITING)
		return;
	ch->cs.open_cb = NULL;
	ch->cs.user = CHAN_USER_NONE;
	if (ch->on_dirty) {
		TAILQ_REMOVE(&m->dirty, ch, dirty_link);
		ch->on_dirty = false;
	}
	switch (ch->state) {
	case CH_QUEUED:
		chan_release_number(ch);
		return;
	case CH_OPEN:
		/* Answered but not delivered yet: the client has it open. */
		chan_send_close(ch, NULL);
		return;
	case CH_OPENING: /* closed when the answer comes, or forgotten at the timeout */
	case CH_CLOSING:
	case CH_DONE:
		chan_maybe_free(ch);
		return;
	}
}

/* Rule 2 of docs/transport.md §4.7: once the client's numbers no longer follow ours, every
 * later channel would fail, so stop opening and let the client reconnect. */
static void diverge(struct mux *m, const char *why)
{
	if (m->diverged)
		return;
	m->diverged = true;
	m->diverged_deadline = mux_now(m) + MUX_DIVERGED_GRACE_MS;
	mux_log(m, EXPOSR_LOG_WARN, "channel numbering diverged from the client's (%s)", why);
	struct mux_channel *ch = TAILQ_FIRST(&m->opening);
	while (ch != NULL) {
		struct mux_channel *next = TAILQ_NEXT(ch, timer_link);
		chan_fail_open(ch, EXPOSR_ERROR);
		if (ch->state == CH_QUEUED)
			chan_release_number(ch);
		ch = next;
	}
	m->ops->wake(m->arg);
}

static size_t open_channel_count(const struct mux *m)
{
	size_t n = 0;
	const struct mux_channel *ch;
	TAILQ_FOREACH(ch, &m->all, all_link)
	if (ch->state == CH_OPEN)
		n++;
	return n;
}

static void reply_not_open(struct mux *m, uint32_t src)
{
	if (src != 0)
		mux_send_control(m, MUX_CLOSE, src, 0, MUX_ERR_CHANNEL_NOT_OPEN);
}

static bool payload_is(const uint8_t *payload, size_t len, const char *text)
{
	return len == strlen(text) && memcmp(payload, text, len) == 0;
}

static void handle_v2_ack(struct mux *m, struct mux_channel *ch, const struct mux_header *h)
{
	switch (ch->state) {
	case CH_OPENING:
		if (h->src != ch->local) {
			/* The client would refuse our first DATA (ERR_WSM_CHANNEL_MISMATCH). */
			mux_send_control(m, MUX_CLOSE, h->src, ch->local, MUX_ERR_CHANNEL_MISMATCH);
			chan_timer_clear(ch);
			if (m->probe == ch)
				m->probe = NULL;
			ch->remote = h->src;
			ch->state = CH_CLOSING;
			chan_timer_set(ch, &m->closing, mux_now(m) + MUX_CLOSE_ACK_TIMEOUT_MS);
			chan_fail_open(ch, EXPOSR_ERROR);
			diverge(m, "ACK with another channel number");
			return;
		}
		chan_opened(ch, h->src);
		return;
	case CH_CLOSING:
		chan_release_number(ch);
		return;
	default:
		return;
	}
}

static void handle_v2_close(struct mux *m, struct mux_channel *ch, const struct mux_header *h,
                            const uint8_t *payload, size_t len)
{
	if (h->src != 0)
		mux_send_control(m, MUX_ACK, h->src, h->dst, NULL);
	if (ch == NULL)
		return;
	switch (ch->state) {
	case CH_OPENING:
		chan_fail_open(ch, payload_is(payload, len, MUX_ERR_NO_CHANNELS) ? EXPOSR_AGAIN
		                                                                 : EXPOSR_ERROR);
		chan_release_number(ch);
		/* A rejection means the client did not allocate a number for it. */
		if (h->src == 0)
			diverge(m, "OPEN rejected");
		return;
	case CH_OPEN:
		chan_end(ch, len > 0);
		chan_release_number(ch);
		return;
	case CH_CLOSING:
		chan_release_number(ch);
		return;
	default:
		return;
	}
}

static void handle_v2(struct mux *m, const struct mux_header *h, const uint8_t *payload, size_t len)
{
	struct mux_channel *ch = h->dst != 0 ? mux_find(m, h->dst) : NULL;
	switch (h->type) {
	case MUX_DATA:
		if (ch == NULL)
			reply_not_open(m, h->src);
		else if (ch->state == CH_OPEN)
			chan_receive(ch, payload, len);
		return; /* while opening or closing: discarded */
	case MUX_OPEN:
		/* Only the server opens channels. */
		if (h->src != 0)
			mux_send_control(m, MUX_CLOSE, h->src, 0, MUX_ERR_OPEN_CHANNEL_REJECTED);
		return;
	case MUX_ACK:
		if (ch == NULL)
			reply_not_open(m, h->src);
		else
			handle_v2_ack(m, ch, h);
		return;
	case MUX_CLOSE:
		handle_v2_close(m, ch, h, payload, len);
		return;
	case MUX_PAUSE:
	case MUX_RESUME:
		if (ch == NULL)
			reply_not_open(m, h->src);
		else if (ch->state == CH_OPEN)
			chan_set_peer_paused(ch, h->type == MUX_PAUSE);
		return;
	default:
		return; /* unknown types are ignored */
	}
}

static void handle_v1(struct mux *m, const struct mux_header *h, const uint8_t *payload, size_t len)
{
	struct mux_channel *ch = mux_find(m, h->dst);
	switch (h->type) {
	case MUX_V1_DATA:
		if (ch == NULL)
			mux_send_control(m, MUX_V1_FIN, h->dst, 0, NULL);
		else if (ch->state == CH_OPEN)
			chan_receive(ch, payload, len);
		return;
	case MUX_V1_CON:
		/* Only the server opens channels. */
		if (ch == NULL)
			mux_send_control(m, MUX_V1_FIN, h->dst, 0, NULL);
		return;
	case MUX_V1_CONACK:
		if (ch != NULL && ch->state == CH_OPENING)
			chan_opened(ch, h->dst);
		return;
	case MUX_V1_FIN:
		if (ch == NULL)
			return;
		if (ch->state == CH_OPENING) {
			/* Refused: the client is at its channel limit. */
			chan_fail_open(ch, EXPOSR_AGAIN);
		} else if (ch->state == CH_OPEN) {
			chan_end(ch, false);
			mux_send_control(m, MUX_V1_FIN, ch->local, 0, NULL);
		}
		chan_release_number(ch);
		return;
	case MUX_V1_PAUSE:
	case MUX_V1_RESUME:
		if (ch != NULL && ch->state == CH_OPEN)
			chan_set_peer_paused(ch, h->type == MUX_V1_PAUSE);
		return;
	default:
		return;
	}
}

/* An old client answered the probe (a v2 OPEN reads as CON 0 to it): the probe is v1
 * channel 0. A client that answers with no probe out has channel 0 open for nothing. */
static void switch_to_v1(struct mux *m)
{
	m->version = MUX_V1;
	mux_log(m, EXPOSR_LOG_DEBUG, "client speaks multiplex protocol v1");
	struct mux_channel *probe = m->probe;
	if (probe != NULL) {
		mux_map_remove(m, probe);
		mux_map_insert(m, probe, 0);
		return;
	}
	if (mux_find(m, 0) != NULL)
		return;
	struct mux_channel *stray = chan_new(m);
	if (stray == NULL)
		return;
	mux_map_insert(m, stray, 0);
	chan_send_close(stray, NULL);
}

static void handle_message(struct mux *m, const uint8_t *msg, size_t len)
{
	struct mux_header h;
	const uint8_t *payload;
	size_t payload_len;
	if (m->version == MUX_UNKNOWN) {
		uint16_t version = mux_peek_version(msg, len);
		if (len < MUX_V1_HEADER_LEN)
			return;
		if (version == MUX_VERSION_1)
			switch_to_v1(m);
		else if (len < MUX_V2_HEADER_LEN)
			return;
		else if (version == MUX_VERSION_2)
			m->version = MUX_V2;
	}
	if (m->version == MUX_V1) {
		if (mux_decode_v1(msg, len, &h, &payload, &payload_len) == MUX_DECODE_OK)
			handle_v1(m, &h, payload, payload_len);
	} else {
		switch (mux_decode_v2(msg, len, &h, &payload, &payload_len)) {
		case MUX_DECODE_SHORT:
			return; /* ignored, as ws-multiplex does */
		case MUX_DECODE_BAD_VERSION:
			mux_terminate(m, MUX_WS_PROTOCOL_ERROR,
			              "unsupported multiplex protocol version");
			return;
		case MUX_DECODE_OK:
			handle_v2(m, &h, payload, payload_len);
			break;
		}
	}
}

void mux_input(struct mux *m, const uint8_t *msg, size_t len)
{
	mux_input_begin(m);
	mux_input_part(m, msg, len);
	mux_input_end(m);
}

void mux_input_begin(struct mux *m)
{
	m->rx_mode = RX_HEAD;
	m->rx_head_len = 0;
	if (m->rx_held != NULL)
		evbuffer_drain(m->rx_held, evbuffer_get_length(m->rx_held));
}

/* The channel a DATA payload is for, as handle_v1/handle_v2 find it. */
static struct mux_channel *rx_channel(struct mux *m)
{
	return m->rx_dst != 0 || m->version == MUX_V1 ? mux_find(m, m->rx_dst) : NULL;
}

/* The header is complete: DATA of a known version streams, the rest is held. */
static void rx_header_done(struct mux *m)
{
	struct mux_header h;
	const uint8_t *payload;
	size_t payload_len;
	bool data = false;
	if (m->version == MUX_V1)
		data = mux_decode_v1(m->rx_head, m->rx_head_len, &h, &payload, &payload_len) ==
		               MUX_DECODE_OK &&
		       h.type == MUX_V1_DATA;
	else if (m->version == MUX_V2)
		data = mux_decode_v2(m->rx_head, m->rx_head_len, &h, &payload, &payload_len) ==
		               MUX_DECODE_OK &&
		       h.type == MUX_DATA;
	if (!data) {
		m->rx_mode = RX_HOLD;
		return;
	}
	m->rx_mode = RX_DATA;
	m->rx_dst = h.dst;
	/* Each piece looks the channel up again, as its user may close it meanwhile; a number
	 * with no channel now gets none that is open before this message ends (its ACK would
	 * come in a later message), so the answer is given once, here. */
	if (rx_channel(m) != NULL)
		return;
	if (m->version == MUX_V1)
		mux_send_control(m, MUX_V1_FIN, h.dst, 0, NULL);
	else
		reply_not_open(m, h.src);
}

static void rx_out_of_memory(struct mux *m)
{
	mux_terminate(m, MUX_WS_INTERNAL_ERROR, "out of memory for a message");
}

void mux_input_part(struct mux *m, const uint8_t *bytes, size_t len)
{
	if (m->closed || len == 0)
		return;
	if (m->rx_mode == RX_HEAD) {
		size_t need = m->version == MUX_V1 ? MUX_V1_HEADER_LEN : MUX_V2_HEADER_LEN;
		size_t take = need - m->rx_head_len < len ? need - m->rx_head_len : len;
		memcpy(m->rx_head + m->rx_head_len, bytes, take);
		m->rx_head_len += take;
		bytes += take;
		len -= take;
		if (m->rx_head_len < need)
			return;
		rx_header_done(m);
		if (len == 0 || m->closed)
			return;
	}
	if (m->rx_mode == RX_DATA) {
		struct mux_channel *ch = rx_channel(m);
		if (ch != NULL && ch->state == CH_OPEN)
			chan_receive(ch, bytes, len);
		return;
	}
	if ((m->rx_held == NULL && (m->rx_held = evbuffer_new()) == NULL) ||
	    evbuffer_add(m->rx_held, bytes, len) != 0)
		rx_out_of_memory(m);
}

void mux_input_end(struct mux *m)
{
	if (m->closed)
		return;
	size_t held = m->rx_held != NULL ? evbuffer_get_length(m->rx_held) : 0;
	if (m->rx_mode == RX_HOLD && held > 0) {
		held += m->rx_head_len;
		uint8_t *msg = NULL;
		if (evbuffer_prepend(m->rx_held, m->rx_head, m->rx_head_len) != 0 ||
		    (msg = evbuffer_pullup(m->rx_held, (ev_ssize_t)held)) == NULL) {
			rx_out_of_memory(m);
			return;
		}
		handle_message(m, msg, held);
		evbuffer_drain(m->rx_held, held);
	} else if (m->rx_mode != RX_DATA) {
		handle_message(m, m->rx_head, m->rx_head_len);
	}
	flush_queued(m);
}

void mux_pump(struct mux *m)
{
	while (!TAILQ_EMPTY(&m->ready) && !m->closed && m->ops->writable(m->arg)) {
		struct mux_channel *ch = TAILQ_FIRST(&m->ready);
		TAILQ_REMOVE(&m->ready, ch, ready_link);
		ch->on_ready = false;
		chan_send_chunk(ch);
		chan_schedule(ch);
	}
}

static void expire_opening(struct mux *m, struct mux_channel *ch)
{
	chan_timer_clear(ch);
	if (ch->state == CH_QUEUED) {
		chan_fail_open(ch, EXPOSR_ERROR);
		chan_release_number(ch);
		return;
	}
	mux_log(m, EXPOSR_LOG_DEBUG, "channel %u: no answer to the open", ch->local);
	chan_fail_open(ch, EXPOSR_ERROR);
	if (m->version == MUX_V1) {
		/* A late CONACK would leave it open at the client: keep the number until its FIN.
		 */
		chan_send_close(ch, NULL);
		return;
	}
	/* v2 forgets it; a late ACK is answered ERR_WSM_CHANNEL_NOT_OPEN. */
	chan_release_number(ch);
}

static void expire_timers(struct mux *m, uint64_t now)
{
	struct mux_channel *ch;
	while ((ch = TAILQ_FIRST(&m->opening)) != NULL && ch->deadline <= now)
		expire_opening(m, ch);
	while ((ch = TAILQ_FIRST(&m->closing)) != NULL && ch->deadline <= now)
		chan_release_number(ch);
	if (m->diverged && !m->failed &&
	    (now >= m->diverged_deadline || open_channel_count(m) == 0))
		mux_terminate(m, MUX_WS_INTERNAL_ERROR, "multiplex channel numbering diverged");
}

void mux_run(struct mux *m)
{
	if (!m->closed)
		expire_timers(m, mux_now(m));
	flush_queued(m);
	/* Bounded: callbacks may queue more work, which waits for the next run. */
	size_t count = 0;
	struct mux_channel *ch;
	TAILQ_FOREACH(ch, &m->dirty, dirty_link)
	count++;
	while (count-- > 0 && (ch = TAILQ_FIRST(&m->dirty)) != NULL) {
		TAILQ_REMOVE(&m->dirty, ch, dirty_link);
		ch->on_dirty = false;
		chan_deliver(ch);
	}
}

uint64_t mux_next_deadline(const struct mux *m)
{
	uint64_t next = 0;
	const struct mux_channel *ch;
	if ((ch = TAILQ_FIRST(&m->opening)) != NULL)
		next = ch->deadline;
	if ((ch = TAILQ_FIRST(&m->closing)) != NULL && (next == 0 || ch->deadline < next))
		next = ch->deadline;
	if (m->diverged && !m->failed && (next == 0 || m->diverged_deadline < next))
		next = m->diverged_deadline;
	return next;
}

void mux_close_all(struct mux *m)
{
	if (m->closed)
		return;
	/* Channels still open get their CLOSE before the websocket goes. */
	struct mux_channel *ch = TAILQ_FIRST(&m->all);
	while (ch != NULL) {
		struct mux_channel *next = TAILQ_NEXT(ch, all_link);
		if (ch->cs.user == CHAN_USER_WAITING && !ch->cs.open_done) {
			chan_fail_open(ch, EXPOSR_ERROR);
		} else if (ch->cs.user == CHAN_USER_WAITING && ch->cs.open_status == EXPOSR_OK) {
			/* Answered but not handed out: hand out a failure instead. */
			ch->cs.open_status = EXPOSR_ERROR;
		}
		if (ch->state == CH_OPEN) {
			chan_end(ch, true);
			if (m->version == MUX_V1)
				mux_send_control(m, MUX_V1_FIN, ch->local, 0, NULL);
			else
				mux_send_control(m, MUX_CLOSE, ch->remote, ch->local, NULL);
		}
		ch = next;
	}
	m->closed = true;
	ch = TAILQ_FIRST(&m->all);
	while (ch != NULL) {
		struct mux_channel *next = TAILQ_NEXT(ch, all_link);
		if (ch->state != CH_DONE)
			chan_release_number(ch);
		ch = next;
	}
	m->ops->wake(m->arg);
}

void mux_detach(struct mux *m)
{
	m->detached = true;
	mux_close_all(m);
}

bool mux_idle(const struct mux *m)
{
	return TAILQ_EMPTY(&m->all);
}

enum mux_state_version mux_version(const struct mux *m)
{
	return m->version;
}

size_t mux_channel_count(const struct mux *m)
{
	return m->channels.count;
}

bool mux_diverged(const struct mux *m)
{
	return m->diverged;
}
