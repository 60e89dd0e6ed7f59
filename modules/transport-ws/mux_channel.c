/* One multiplex channel: its lifetime and its protocol side (numbers, PAUSE, DATA,
 * CLOSE). Its user side, the exposr_stream the core splices, is lib/chan's. */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "mux_internal.h"

static const struct chan_stream_ops chan_ops;

static struct mux_channel *chan_of(struct chan_stream *cs)
{
	return (struct mux_channel *)cs;
}

struct mux_channel *chan_new(struct mux *m)
{
	struct mux_channel *ch = calloc(1, sizeof(*ch));
	if (ch == NULL)
		return NULL;
	if (chan_stream_init(&ch->cs, &chan_ops) != 0) {
		free(ch);
		return NULL;
	}
	ch->mux = m;
	ch->state = CH_OPENING; /* callers set where it really starts */
	TAILQ_INSERT_TAIL(&m->all, ch, all_link);
	if (m->ops->channels_changed != NULL)
		m->ops->channels_changed(m->arg, 1);
	return ch;
}

void chan_destroy(struct mux_channel *ch)
{
	struct mux *m = ch->mux;
	if (ch->in_map)
		mux_map_remove(m, ch);
	chan_timer_clear(ch);
	if (ch->state == CH_QUEUED && m->nqueued > 0)
		m->nqueued--;
	if (m->probe == ch)
		m->probe = NULL;
	if (ch->on_ready)
		TAILQ_REMOVE(&m->ready, ch, ready_link);
	if (ch->on_dirty)
		TAILQ_REMOVE(&m->dirty, ch, dirty_link);
	TAILQ_REMOVE(&m->all, ch, all_link);
	chan_stream_release(&ch->cs);
	free(ch);
	if (m->ops->channels_changed != NULL)
		m->ops->channels_changed(m->arg, -1);
}

void chan_maybe_free(struct mux_channel *ch)
{
	if (ch->state != CH_DONE || ch->cs.user != CHAN_USER_NONE || ch->cs.busy > 0)
		return;
	struct mux *m = ch->mux;
	chan_destroy(ch);
	/* The connection may be waiting for its last channel to go. */
	if (m->closed)
		m->ops->wake(m->arg);
}

void chan_mark_dirty(struct mux_channel *ch)
{
	struct mux *m = ch->mux;
	if (!ch->on_dirty) {
		TAILQ_INSERT_TAIL(&m->dirty, ch, dirty_link);
		ch->on_dirty = true;
	}
	m->ops->wake(m->arg);
}

/* Lists stay sorted by deadline because every deadline of a list has the same delay. */
void chan_timer_set(struct mux_channel *ch, struct chan_list *list, uint64_t deadline)
{
	chan_timer_clear(ch);
	ch->deadline = deadline;
	ch->on_timer = true;
	TAILQ_INSERT_TAIL(list, ch, timer_link);
	ch->mux->ops->wake(ch->mux->arg);
}

void chan_timer_clear(struct mux_channel *ch)
{
	if (!ch->on_timer)
		return;
	struct mux *m = ch->mux;
	/* Queued and opening channels are on `opening`, closing ones on `closing`. */
	if (ch->state == CH_CLOSING)
		TAILQ_REMOVE(&m->closing, ch, timer_link);
	else
		TAILQ_REMOVE(&m->opening, ch, timer_link);
	ch->on_timer = false;
}

void chan_release_number(struct mux_channel *ch)
{
	struct mux *m = ch->mux;
	chan_timer_clear(ch);
	if (ch->state == CH_QUEUED && m->nqueued > 0)
		m->nqueued--;
	if (ch->in_map)
		mux_map_remove(m, ch);
	if (m->probe == ch)
		m->probe = NULL;
	if (ch->on_ready) {
		TAILQ_REMOVE(&m->ready, ch, ready_link);
		ch->on_ready = false;
	}
	ch->state = CH_DONE;
	chan_maybe_free(ch);
}

static bool chan_wanted(const struct mux_channel *ch)
{
	return ch->cs.user == CHAN_USER_WAITING && !ch->cs.open_done;
}

void chan_fail_open(struct mux_channel *ch, int status)
{
	if (!chan_wanted(ch))
		return;
	ch->cs.open_done = true;
	ch->cs.open_status = status;
	chan_mark_dirty(ch);
}

void chan_opened(struct mux_channel *ch, uint32_t remote)
{
	struct mux *m = ch->mux;
	chan_timer_clear(ch);
	if (m->probe == ch)
		m->probe = NULL;
	ch->state = CH_OPEN;
	ch->remote = remote;
	if (!chan_wanted(ch)) {
		/* Cancelled or failed meanwhile: the client has it open, so close it. */
		chan_send_close(ch, NULL);
		return;
	}
	ch->cs.open_done = true;
	ch->cs.open_status = EXPOSR_OK;
	chan_mark_dirty(ch);
}

void chan_send_close(struct mux_channel *ch, const char *reason)
{
	struct mux *m = ch->mux;
	if (ch->on_ready) {
		TAILQ_REMOVE(&m->ready, ch, ready_link);
		ch->on_ready = false;
	}
	chan_timer_clear(ch);
	if (m->version == MUX_V1) {
		mux_send_control(m, MUX_V1_FIN, ch->local, 0, NULL);
		/* The old client keeps the number until its target closes and it sends FIN. */
		ch->state = CH_CLOSING;
		return;
	}
	mux_send_control(m, MUX_CLOSE, ch->remote, ch->local, reason);
	ch->state = CH_CLOSING;
	chan_timer_set(ch, &m->closing, mux_now(m) + MUX_CLOSE_ACK_TIMEOUT_MS);
}

void chan_end(struct mux_channel *ch, bool error)
{
	if (chan_stream_end(&ch->cs, error) && ch->cs.user != CHAN_USER_NONE)
		chan_mark_dirty(ch);
}

void chan_receive(struct mux_channel *ch, const uint8_t *data, size_t len)
{
	if (ch->cs.user == CHAN_USER_NONE || ch->cs.ended)
		return; /* closed by the user: nobody reads it any more */
	if (evbuffer_get_length(ch->cs.in) + len > MUX_CHANNEL_INPUT_MAX ||
	    evbuffer_add(ch->cs.in, data, len) != 0) {
		mux_log(ch->mux, EXPOSR_LOG_WARN,
		        "channel %u: client kept sending while paused; closing it", ch->local);
		chan_send_close(ch, "ERR_WSM_CHANNEL_OVERFLOW");
		/* The stream is broken: its user hears so now, not after the backlog. */
		evbuffer_drain(ch->cs.in, evbuffer_get_length(ch->cs.in));
		chan_end(ch, true);
		return;
	}
	if (len > 0 && !ch->cs.read_paused)
		chan_mark_dirty(ch);
}

void chan_set_peer_paused(struct mux_channel *ch, bool paused)
{
	ch->peer_paused = paused;
	if (!paused) {
		chan_schedule(ch);
		mux_pump(ch->mux);
	}
}

static bool chan_sendable(const struct mux_channel *ch)
{
	const struct mux *m = ch->mux;
	return ch->state == CH_OPEN && !ch->peer_paused && !m->closed &&
	       evbuffer_get_length(ch->cs.out) > 0;
}

void chan_schedule(struct mux_channel *ch)
{
	struct mux *m = ch->mux;
	if (!ch->on_ready && chan_sendable(ch)) {
		TAILQ_INSERT_TAIL(&m->ready, ch, ready_link);
		ch->on_ready = true;
	}
}

void chan_send_chunk(struct mux_channel *ch)
{
	struct mux *m = ch->mux;
	size_t len = evbuffer_get_length(ch->cs.out);
	if (len > MUX_DATA_CHUNK)
		len = MUX_DATA_CHUNK;
	uint8_t head[MUX_MAX_HEADER_LEN];
	size_t head_len =
	        m->version == MUX_V1
	                ? mux_encode_v1(head, MUX_V1_DATA, ch->local, (uint32_t)len)
	                : mux_encode_v2(head, MUX_DATA, ch->remote, ch->local, (uint32_t)len);
	if (m->ops->send(m->arg, head, head_len, ch->cs.out, len) != EXPOSR_OK) {
		/* The websocket is going away; the teardown ends the channel. */
		evbuffer_drain(ch->cs.out, len);
	}
	if (chan_stream_output_sent(&ch->cs))
		chan_send_close(ch, NULL);
}

void chan_deliver(struct mux_channel *ch)
{
	ch->cs.busy++;
	chan_stream_deliver_open(&ch->cs, NULL);
	chan_stream_deliver(&ch->cs);
	ch->cs.busy--;
	chan_maybe_free(ch);
}

/* The user side's hooks (lib/chan). */

static void ops_wake(struct chan_stream *cs)
{
	if (evbuffer_get_length(cs->in) > 0 || cs->ended || cs->drained_due)
		chan_mark_dirty(chan_of(cs));
}

static bool ops_writable(const struct chan_stream *cs)
{
	return ((const struct mux_channel *)cs)->state == CH_OPEN;
}

static void ops_output_added(struct chan_stream *cs)
{
	struct mux_channel *ch = chan_of(cs);
	chan_schedule(ch);
	mux_pump(ch->mux);
}

static void ops_read_paused(struct chan_stream *cs, bool paused)
{
	struct mux_channel *ch = chan_of(cs);
	struct mux *m = ch->mux;
	if (ch->state != CH_OPEN)
		return;
	uint16_t type = m->version == MUX_V1 ? (paused ? MUX_V1_PAUSE : MUX_V1_RESUME)
	                                     : (paused ? MUX_PAUSE : MUX_RESUME);
	mux_send_control(m, type, m->version == MUX_V1 ? ch->local : ch->remote, ch->local, NULL);
}

static void ops_closed(struct chan_stream *cs)
{
	struct mux_channel *ch = chan_of(cs);
	if (ch->state == CH_OPEN) {
		if (evbuffer_get_length(ch->cs.out) > 0 && !ch->mux->closed) {
			ch->cs.close_after_flush = true;
			chan_schedule(ch);
			mux_pump(ch->mux);
		} else {
			chan_send_close(ch, NULL);
		}
	}
	if (ch->on_dirty) {
		TAILQ_REMOVE(&ch->mux->dirty, ch, dirty_link);
		ch->on_dirty = false;
	}
	chan_maybe_free(ch);
}

static const struct chan_stream_ops chan_ops = {
        .wake = ops_wake,
        .writable = ops_writable,
        .output_added = ops_output_added,
        .read_paused = ops_read_paused,
        .closed = ops_closed,
};
