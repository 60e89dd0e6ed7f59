/* One multiplex channel: its lifetime, its output and input buffers, and the
 * exposr_stream the core splices. */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "mux_internal.h"

static const struct exposr_stream_vtable chan_stream_vt;

static struct mux_channel *chan_of(struct exposr_stream *stream)
{
	return (struct mux_channel *)stream;
}

struct mux_channel *chan_new(struct mux *m)
{
	struct mux_channel *ch = calloc(1, sizeof(*ch));
	if (ch == NULL)
		return NULL;
	ch->in = evbuffer_new();
	ch->out = evbuffer_new();
	if (ch->in == NULL || ch->out == NULL) {
		if (ch->in != NULL)
			evbuffer_free(ch->in);
		if (ch->out != NULL)
			evbuffer_free(ch->out);
		free(ch);
		return NULL;
	}
	ch->stream.vt = &chan_stream_vt;
	ch->mux = m;
	ch->state = CH_OPENING; /* callers set where it really starts */
	ch->user = USER_NONE;
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
	evbuffer_free(ch->in);
	evbuffer_free(ch->out);
	free(ch);
	if (m->ops->channels_changed != NULL)
		m->ops->channels_changed(m->arg, -1);
}

void chan_maybe_free(struct mux_channel *ch)
{
	if (ch->state != CH_DONE || ch->user != USER_NONE || ch->busy > 0)
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
	return ch->user == USER_WAITING && !ch->open_done;
}

void chan_fail_open(struct mux_channel *ch, int status)
{
	if (!chan_wanted(ch))
		return;
	ch->open_done = true;
	ch->open_status = status;
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
	ch->open_done = true;
	ch->open_status = EXPOSR_OK;
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
	if (ch->ended)
		return;
	ch->ended = true;
	ch->end_error = error;
	evbuffer_drain(ch->out, evbuffer_get_length(ch->out));
	ch->close_after_flush = false;
	if (ch->user != USER_NONE)
		chan_mark_dirty(ch);
}

void chan_receive(struct mux_channel *ch, const uint8_t *data, size_t len)
{
	if (ch->user == USER_NONE || ch->ended)
		return; /* closed by the user: nobody reads it any more */
	if (evbuffer_get_length(ch->in) + len > MUX_CHANNEL_INPUT_MAX ||
	    evbuffer_add(ch->in, data, len) != 0) {
		mux_log(ch->mux, EXPOSR_LOG_WARN,
		        "channel %u: client kept sending while paused; closing it", ch->local);
		chan_send_close(ch, "ERR_WSM_CHANNEL_OVERFLOW");
		/* The stream is broken: its user hears so now, not after the backlog. */
		evbuffer_drain(ch->in, evbuffer_get_length(ch->in));
		chan_end(ch, true);
		return;
	}
	if (len > 0 && !ch->read_paused)
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
	       evbuffer_get_length(ch->out) > 0;
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
	size_t len = evbuffer_get_length(ch->out);
	if (len > MUX_DATA_CHUNK)
		len = MUX_DATA_CHUNK;
	uint8_t head[MUX_MAX_HEADER_LEN];
	size_t head_len =
	        m->version == MUX_V1
	                ? mux_encode_v1(head, MUX_V1_DATA, ch->local, (uint32_t)len)
	                : mux_encode_v2(head, MUX_DATA, ch->remote, ch->local, (uint32_t)len);
	if (m->ops->send(m->arg, head, head_len, ch->out, len) != EXPOSR_OK) {
		/* The websocket is going away; the teardown ends the channel. */
		evbuffer_drain(ch->out, len);
	}
	size_t left = evbuffer_get_length(ch->out);
	if (ch->above_low && left <= ch->low_water) {
		ch->above_low = false;
		if (ch->user == USER_OWNED) {
			ch->drained_due = true;
			chan_mark_dirty(ch);
		}
	}
	if (left == 0 && ch->close_after_flush) {
		ch->close_after_flush = false;
		chan_send_close(ch, NULL);
	}
}

/* Runs one user callback with the channel pinned; false if the user let go of it. */
static bool chan_user_still_there(struct mux_channel *ch)
{
	return ch->user == USER_OWNED && ch->has_cbs;
}

void chan_deliver(struct mux_channel *ch)
{
	ch->busy++;
	if (ch->user == USER_WAITING && ch->open_done) {
		exposr_channel_cb cb = ch->open_cb;
		int status = ch->open_status;
		ch->open_cb = NULL;
		ch->user = status == EXPOSR_OK ? USER_OWNED : USER_NONE;
		cb(ch->open_arg, status, status == EXPOSR_OK ? &ch->stream : NULL);
	}
	if (chan_user_still_there(ch) && !ch->read_paused && !ch->end_reported &&
	    evbuffer_get_length(ch->in) > 0)
		ch->cbs.on_data(ch->cbs_arg, &ch->stream, ch->in);
	if (chan_user_still_there(ch) && ch->drained_due && !ch->end_reported) {
		ch->drained_due = false;
		if (ch->cbs.on_drained != NULL)
			ch->cbs.on_drained(ch->cbs_arg, &ch->stream);
	}
	/* The end comes after every byte received before it. */
	if (chan_user_still_there(ch) && ch->ended && !ch->end_reported &&
	    evbuffer_get_length(ch->in) == 0) {
		ch->end_reported = true;
		ch->cbs.on_closed(ch->cbs_arg, &ch->stream, ch->end_error);
	}
	ch->busy--;
	chan_maybe_free(ch);
}

/* The stream vtable. */

static void stream_set_callbacks(struct exposr_stream *stream,
                                 const struct exposr_stream_callbacks *cbs, void *arg)
{
	struct mux_channel *ch = chan_of(stream);
	if (cbs == NULL) {
		ch->has_cbs = false;
		return;
	}
	ch->cbs = *cbs;
	ch->cbs_arg = arg;
	ch->has_cbs = cbs->on_data != NULL && cbs->on_closed != NULL;
	if (evbuffer_get_length(ch->in) > 0 || ch->ended || ch->drained_due)
		chan_mark_dirty(ch);
}

static int stream_write(struct exposr_stream *stream, struct evbuffer *data)
{
	struct mux_channel *ch = chan_of(stream);
	if (ch->ended || ch->close_after_flush || ch->state != CH_OPEN) {
		evbuffer_drain(data, evbuffer_get_length(data));
		return EXPOSR_ERROR;
	}
	if (evbuffer_add_buffer(ch->out, data) != 0)
		return EXPOSR_ERROR;
	if (evbuffer_get_length(ch->out) > ch->low_water)
		ch->above_low = true;
	chan_schedule(ch);
	mux_pump(ch->mux);
	return EXPOSR_OK;
}

static size_t stream_output_length(struct exposr_stream *stream)
{
	return evbuffer_get_length(chan_of(stream)->out);
}

static void stream_set_low_water(struct exposr_stream *stream, size_t bytes)
{
	chan_of(stream)->low_water = bytes;
}

static void stream_pause_read(struct exposr_stream *stream)
{
	struct mux_channel *ch = chan_of(stream);
	if (ch->read_paused)
		return;
	ch->read_paused = true;
	if (ch->state == CH_OPEN)
		mux_send_control(ch->mux, ch->mux->version == MUX_V1 ? MUX_V1_PAUSE : MUX_PAUSE,
		                 ch->mux->version == MUX_V1 ? ch->local : ch->remote, ch->local,
		                 NULL);
}

static void stream_resume_read(struct exposr_stream *stream)
{
	struct mux_channel *ch = chan_of(stream);
	if (!ch->read_paused)
		return;
	ch->read_paused = false;
	if (ch->state == CH_OPEN)
		mux_send_control(ch->mux, ch->mux->version == MUX_V1 ? MUX_V1_RESUME : MUX_RESUME,
		                 ch->mux->version == MUX_V1 ? ch->local : ch->remote, ch->local,
		                 NULL);
	/* Data that arrived meanwhile is delivered from the loop, not from inside the
	 * caller. */
	if (evbuffer_get_length(ch->in) > 0 || ch->ended)
		chan_mark_dirty(ch);
}

static void stream_close(struct exposr_stream *stream)
{
	struct mux_channel *ch = chan_of(stream);
	ch->user = USER_NONE;
	ch->has_cbs = false;
	evbuffer_drain(ch->in, evbuffer_get_length(ch->in));
	if (ch->state == CH_OPEN) {
		if (evbuffer_get_length(ch->out) > 0 && !ch->mux->closed) {
			ch->close_after_flush = true;
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

static const struct exposr_stream_vtable chan_stream_vt = {
        .size = sizeof(struct exposr_stream_vtable),
        .set_callbacks = stream_set_callbacks,
        .write = stream_write,
        .output_length = stream_output_length,
        .set_low_water = stream_set_low_water,
        .pause_read = stream_pause_read,
        .resume_read = stream_resume_read,
        .close = stream_close,
};
