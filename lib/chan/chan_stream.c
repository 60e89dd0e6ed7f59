/* The user side of a transport channel: what transport-ws's multiplex channels and
 * transport-ssh's forwarded channels share above the bytes they move. */
#include "chan_stream.h"

#include <event2/buffer.h>

static const struct exposr_stream_vtable chan_stream_vt;

static struct chan_stream *cs_of(struct exposr_stream *stream)
{
	return (struct chan_stream *)stream;
}

int chan_stream_init(struct chan_stream *cs, const struct chan_stream_ops *ops)
{
	*cs = (struct chan_stream){
	        .stream.vt = &chan_stream_vt, .ops = ops, .user = CHAN_USER_NONE};
	cs->in = evbuffer_new();
	cs->out = evbuffer_new();
	if (cs->in == NULL || cs->out == NULL) {
		chan_stream_release(cs);
		return -1;
	}
	return 0;
}

void chan_stream_release(struct chan_stream *cs)
{
	if (cs->in != NULL)
		evbuffer_free(cs->in);
	if (cs->out != NULL)
		evbuffer_free(cs->out);
	cs->in = cs->out = NULL;
}

void chan_stream_deliver_open(struct chan_stream *cs,
                              struct exposr_stream *(*wrap)(struct chan_stream *cs))
{
	if (cs->user != CHAN_USER_WAITING || !cs->open_done)
		return;
	exposr_channel_cb cb = cs->open_cb;
	int status = cs->open_status;
	cs->open_cb = NULL;
	cs->user = status == EXPOSR_OK ? CHAN_USER_OWNED : CHAN_USER_NONE;
	struct exposr_stream *stream = status == EXPOSR_OK ? &cs->stream : NULL;
	if (stream != NULL && wrap != NULL && (stream = wrap(cs)) == NULL)
		status = EXPOSR_ERROR;
	cb(cs->open_arg, status, stream);
}

bool chan_stream_user_there(const struct chan_stream *cs)
{
	return cs->user == CHAN_USER_OWNED && cs->has_cbs;
}

void chan_stream_deliver(struct chan_stream *cs)
{
	if (chan_stream_user_there(cs) && !cs->read_paused && !cs->end_reported &&
	    evbuffer_get_length(cs->in) > 0)
		cs->cbs.on_data(cs->cbs_arg, &cs->stream, cs->in);
	if (chan_stream_user_there(cs) && cs->drained_due && !cs->end_reported) {
		cs->drained_due = false;
		if (cs->cbs.on_drained != NULL)
			cs->cbs.on_drained(cs->cbs_arg, &cs->stream);
	}
	/* The end comes after every byte received before it. */
	if (chan_stream_user_there(cs) && cs->ended && !cs->end_reported &&
	    evbuffer_get_length(cs->in) == 0) {
		cs->end_reported = true;
		cs->cbs.on_closed(cs->cbs_arg, &cs->stream, cs->end_error);
	}
}

bool chan_stream_output_sent(struct chan_stream *cs)
{
	size_t left = evbuffer_get_length(cs->out);
	if (cs->above_low && left <= cs->low_water) {
		cs->above_low = false;
		if (cs->user == CHAN_USER_OWNED) {
			cs->drained_due = true;
			cs->ops->wake(cs);
		}
	}
	if (left > 0 || !cs->close_after_flush)
		return false;
	cs->close_after_flush = false;
	return true;
}

bool chan_stream_end(struct chan_stream *cs, bool error)
{
	if (cs->ended)
		return false;
	cs->ended = true;
	cs->end_error = error;
	evbuffer_drain(cs->out, evbuffer_get_length(cs->out));
	cs->close_after_flush = false;
	return true;
}

/* The stream vtable. */

static void stream_set_callbacks(struct exposr_stream *stream,
                                 const struct exposr_stream_callbacks *cbs, void *arg)
{
	struct chan_stream *cs = cs_of(stream);
	if (cbs == NULL) {
		cs->has_cbs = false;
		return;
	}
	cs->cbs = *cbs;
	cs->cbs_arg = arg;
	cs->has_cbs = cbs->on_data != NULL && cbs->on_closed != NULL;
	/* What arrived before is delivered from the loop. */
	cs->ops->wake(cs);
}

static int stream_write(struct exposr_stream *stream, struct evbuffer *data)
{
	struct chan_stream *cs = cs_of(stream);
	if (cs->ended || cs->close_after_flush || !cs->ops->writable(cs)) {
		evbuffer_drain(data, evbuffer_get_length(data));
		return EXPOSR_ERROR;
	}
	if (evbuffer_add_buffer(cs->out, data) != 0)
		return EXPOSR_ERROR;
	if (evbuffer_get_length(cs->out) > cs->low_water)
		cs->above_low = true;
	cs->ops->output_added(cs);
	return EXPOSR_OK;
}

static size_t stream_output_length(struct exposr_stream *stream)
{
	return evbuffer_get_length(cs_of(stream)->out);
}

static void stream_set_low_water(struct exposr_stream *stream, size_t bytes)
{
	cs_of(stream)->low_water = bytes;
}

static void stream_pause_read(struct exposr_stream *stream)
{
	struct chan_stream *cs = cs_of(stream);
	if (cs->read_paused)
		return;
	cs->read_paused = true;
	if (cs->ops->read_paused != NULL)
		cs->ops->read_paused(cs, true);
}

static void stream_resume_read(struct exposr_stream *stream)
{
	struct chan_stream *cs = cs_of(stream);
	if (!cs->read_paused)
		return;
	cs->read_paused = false;
	if (cs->ops->read_paused != NULL)
		cs->ops->read_paused(cs, false);
	/* What arrived meanwhile is delivered from the loop, not from inside the caller. */
	cs->ops->wake(cs);
}

static void stream_close(struct exposr_stream *stream)
{
	struct chan_stream *cs = cs_of(stream);
	cs->user = CHAN_USER_NONE;
	cs->has_cbs = false;
	evbuffer_drain(cs->in, evbuffer_get_length(cs->in));
	cs->ops->closed(cs);
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
