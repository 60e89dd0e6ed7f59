/* The one splice: two streams joined both ways with back-pressure (the shape of
 * libevent's le-proxy sample), and the core stream table handed to modules. */
#include "streams.h"

#include <stdlib.h>

#include <event2/buffer.h>

struct splice {
	struct exposr_stream *side[2];
	/* side[i] stopped reading because the other side's output went over the mark. */
	bool paused[2];
	size_t high_water;
	void (*done)(void *arg);
	void *done_arg;
	unsigned depth; /* > 0 while one of our callbacks runs */
	bool ending;    /* a side closed or failed: both go once the callbacks return */
};

static int side_index(const struct splice *sp, const struct exposr_stream *stream)
{
	return stream == sp->side[0] ? 0 : 1;
}

/* Closing flushes what each side still has to send, then frees it. */
static void splice_end(struct splice *sp)
{
	void (*done)(void *arg) = sp->done;
	void *done_arg = sp->done_arg;
	sp->side[0]->vt->close(sp->side[0]);
	sp->side[1]->vt->close(sp->side[1]);
	free(sp);
	if (done != NULL)
		done(done_arg);
}

static void enter(struct splice *sp)
{
	sp->depth++;
}

/* The splice is freed by the outermost callback, never under a nested one. */
static void leave(struct splice *sp)
{
	if (--sp->depth == 0 && sp->ending)
		splice_end(sp);
}

static void splice_data(void *arg, struct exposr_stream *stream, struct evbuffer *data)
{
	struct splice *sp = arg;
	int from = side_index(sp, stream);
	struct exposr_stream *to = sp->side[1 - from];
	if (sp->ending) {
		evbuffer_drain(data, evbuffer_get_length(data));
		return;
	}
	enter(sp);
	if (to->vt->write(to, data) != EXPOSR_OK) {
		sp->ending = true;
	} else if (!sp->paused[from] && to->vt->output_length(to) > sp->high_water) {
		sp->paused[from] = true;
		stream->vt->pause_read(stream);
	}
	leave(sp);
}

/* `stream`'s output fell to its low mark: the side that fills it may read again. */
static void splice_drained(void *arg, struct exposr_stream *stream)
{
	struct splice *sp = arg;
	int filler = 1 - side_index(sp, stream);
	if (sp->ending || !sp->paused[filler])
		return;
	enter(sp);
	sp->paused[filler] = false;
	sp->side[filler]->vt->resume_read(sp->side[filler]);
	leave(sp);
}

static void splice_closed(void *arg, struct exposr_stream *stream, bool error)
{
	(void)stream;
	(void)error;
	struct splice *sp = arg;
	enter(sp);
	sp->ending = true;
	leave(sp);
}

static const struct exposr_stream_callbacks splice_callbacks = {
        .on_data = splice_data,
        .on_drained = splice_drained,
        .on_closed = splice_closed,
};

int stream_splice(struct exposr_stream *a, struct exposr_stream *b, size_t high_water,
                  size_t low_water, void (*done)(void *arg), void *arg)
{
	if (a == NULL || b == NULL || a == b)
		return EXPOSR_ERROR;
	if (high_water == 0)
		high_water = STREAM_DEFAULT_HIGH_WATER;
	if (low_water == 0)
		low_water = STREAM_DEFAULT_LOW_WATER;
	if (low_water > high_water)
		low_water = high_water;
	struct splice *sp = calloc(1, sizeof(*sp));
	if (sp == NULL)
		return EXPOSR_ERROR; /* the streams are still the caller's */
	sp->side[0] = a;
	sp->side[1] = b;
	sp->high_water = high_water;
	sp->done = done;
	sp->done_arg = arg;
	/* A stream may hand over data it already holds as soon as it has callbacks. */
	enter(sp);
	a->vt->set_low_water(a, low_water);
	b->vt->set_low_water(b, low_water);
	a->vt->set_callbacks(a, &splice_callbacks, sp);
	b->vt->set_callbacks(b, &splice_callbacks, sp);
	leave(sp);
	return EXPOSR_OK;
}

const struct exposr_stream_api stream_api = {
        .size = sizeof(struct exposr_stream_api),
        .from_bufferevent = stream_socket_new,
        .splice = stream_splice,
};
