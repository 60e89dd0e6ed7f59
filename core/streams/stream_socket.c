/* A struct exposr_stream over a connected socket's bufferevent. */
#include "streams.h"

#include <stdlib.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "timeval_ms.h"

/* After close() a peer that takes nothing of what is still buffered for this long is
 * dropped: a closed stream must not hold memory for ever. */
#define FLUSH_TIMEOUT_S 30
/* Then the peer gets this long to end its side: closing a socket with unread input
 * makes the kernel send a reset, which can destroy the last bytes before they are read. */
#define LINGER_TIMEOUT_MS 2000
/* Input the owner has not taken stops the socket being read at this size. */
#define READ_HIGH_WATER (256 * 1024)

struct socket_stream {
	struct exposr_stream base; /* first: the owner only sees this */
	struct bufferevent *bev;
	struct exposr_stream_callbacks cbs;
	void *arg;
	unsigned depth; /* > 0 while a callback into the owner runs */
	bool paused;
	bool eof;       /* the peer ended its side; reported once the owner took the input */
	bool reported;  /* on_closed ran: no more callbacks */
	bool failed;    /* a socket error: nothing more can be sent */
	bool closing;   /* close() was called: flushing, lingering, then freed */
	bool lingering; /* flushed and shut down: waiting for the peer's end */
	/* Closing streams belong to no owner any more: listed so that exit can free them. */
	LIST_ENTRY(socket_stream) closing_link;
};

static LIST_HEAD(, socket_stream) closing_streams = LIST_HEAD_INITIALIZER(closing_streams);

static const struct exposr_stream_vtable socket_vtable;

static struct socket_stream *socket_of(struct exposr_stream *stream)
{
	return (struct socket_stream *)stream;
}

static void socket_free(struct socket_stream *s)
{
	if (s->closing)
		LIST_REMOVE(s, closing_link);
	bufferevent_free(s->bev);
	free(s);
}

static void close_read(struct bufferevent *bev, void *arg)
{
	(void)arg;
	struct evbuffer *input = bufferevent_get_input(bev);
	evbuffer_drain(input, evbuffer_get_length(input));
}

static void start_linger(struct socket_stream *s)
{
	evutil_socket_t fd = bufferevent_getfd(s->bev);
	struct timeval linger = timeval_from_ms(LINGER_TIMEOUT_MS);
	/* A peer that already ended its side has nothing left to send: no reset to fear. */
	if (s->eof || fd < 0 || shutdown(fd, SHUT_WR) != 0 ||
	    bufferevent_set_timeouts(s->bev, &linger, NULL) != 0) {
		socket_free(s);
		return;
	}
	s->lingering = true;
}

static void close_written(struct bufferevent *bev, void *arg)
{
	(void)bev;
	struct socket_stream *s = arg;
	if (!s->lingering)
		start_linger(s);
}

static void close_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	struct socket_stream *s = arg;
	/* A peer that stopped sending may still be reading what is left. */
	if ((what & BEV_EVENT_EOF) && !(what & (BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) &&
	    !s->lingering) {
		s->eof = true;
		return;
	}
	socket_free(s);
}

/* close() was called and no callback into the owner runs any more. */
static void begin_close(struct socket_stream *s)
{
	struct bufferevent *bev = s->bev;
	struct timeval flush = {.tv_sec = FLUSH_TIMEOUT_S, .tv_usec = 0};
	if (s->failed) {
		socket_free(s);
		return;
	}
	bufferevent_setcb(bev, close_read, close_written, close_event, s);
	close_read(bev, s);
	bufferevent_setwatermark(bev, EV_READ, 0, 0);
	bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
	/* Reading goes on, discarding, so that the peer's end or reset is noticed. */
	if (bufferevent_set_timeouts(bev, NULL, &flush) != 0 ||
	    bufferevent_enable(bev, s->eof ? EV_WRITE : EV_READ | EV_WRITE) != 0) {
		socket_free(s);
		return;
	}
	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		start_linger(s);
}

/* Ends a callback into the owner; false when the owner closed the stream meanwhile
 * (it may be gone). */
static bool leave(struct socket_stream *s)
{
	if (--s->depth > 0 || !s->closing)
		return true;
	begin_close(s);
	return false;
}

static bool report_closed(struct socket_stream *s, bool error)
{
	if (s->reported)
		return true;
	s->reported = true;
	bufferevent_disable(s->bev, EV_READ);
	if (s->cbs.on_closed == NULL)
		return true;
	s->depth++;
	s->cbs.on_closed(s->arg, &s->base, error);
	return leave(s);
}

/* Offers the input to the owner; the peer's end is reported once it took all of it. */
static void deliver(struct socket_stream *s)
{
	struct evbuffer *input = bufferevent_get_input(s->bev);
	if (s->paused || s->reported || s->closing)
		return;
	if (evbuffer_get_length(input) > 0 && s->cbs.on_data != NULL) {
		s->depth++;
		s->cbs.on_data(s->arg, &s->base, input);
		if (!leave(s))
			return;
	}
	if (s->eof && !s->paused && evbuffer_get_length(input) == 0)
		report_closed(s, false);
}

static void socket_read(struct bufferevent *bev, void *arg)
{
	(void)bev;
	deliver(arg);
}

static void socket_written(struct bufferevent *bev, void *arg)
{
	(void)bev;
	struct socket_stream *s = arg;
	if (s->reported || s->closing || s->cbs.on_drained == NULL)
		return;
	s->depth++;
	s->cbs.on_drained(s->arg, &s->base);
	leave(s);
}

static void socket_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	struct socket_stream *s = arg;
	if (what & (BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) {
		s->failed = true;
		report_closed(s, true);
		return;
	}
	if (what & BEV_EVENT_EOF) {
		s->eof = true;
		deliver(s);
	}
}

/* Input may be waiting that no new read will announce: hand it over from the loop, not
 * from inside the owner's call. */
static void schedule_delivery(struct socket_stream *s)
{
	if (evbuffer_get_length(bufferevent_get_input(s->bev)) > 0 || s->eof)
		bufferevent_trigger(s->bev, EV_READ,
		                    BEV_TRIG_IGNORE_WATERMARKS | BEV_TRIG_DEFER_CALLBACKS);
}

/* A stream that cannot read any more fails as if the socket had: from the loop. */
static void fail_later(struct socket_stream *s)
{
	bufferevent_trigger_event(s->bev, BEV_EVENT_ERROR, BEV_TRIG_DEFER_CALLBACKS);
}

static void socket_set_callbacks(struct exposr_stream *stream,
                                 const struct exposr_stream_callbacks *cbs, void *arg)
{
	struct socket_stream *s = socket_of(stream);
	if (s->closing)
		return;
	s->cbs = cbs != NULL ? *cbs : (struct exposr_stream_callbacks){0};
	s->arg = arg;
	if (s->paused || s->reported)
		return;
	if (!s->eof && bufferevent_enable(s->bev, EV_READ) != 0) {
		fail_later(s);
		return;
	}
	schedule_delivery(s);
}

static int socket_write(struct exposr_stream *stream, struct evbuffer *data)
{
	struct socket_stream *s = socket_of(stream);
	if (s->failed || s->closing) {
		evbuffer_drain(data, evbuffer_get_length(data));
		return EXPOSR_ERROR;
	}
	return bufferevent_write_buffer(s->bev, data) == 0 ? EXPOSR_OK : EXPOSR_ERROR;
}

static size_t socket_output_length(struct exposr_stream *stream)
{
	return evbuffer_get_length(bufferevent_get_output(socket_of(stream)->bev));
}

static void socket_set_low_water(struct exposr_stream *stream, size_t bytes)
{
	bufferevent_setwatermark(socket_of(stream)->bev, EV_WRITE, bytes, 0);
}

static void socket_pause_read(struct exposr_stream *stream)
{
	struct socket_stream *s = socket_of(stream);
	s->paused = true;
	bufferevent_disable(s->bev, EV_READ);
}

static void socket_resume_read(struct exposr_stream *stream)
{
	struct socket_stream *s = socket_of(stream);
	if (!s->paused || s->closing)
		return;
	s->paused = false;
	if (s->reported)
		return;
	if (!s->eof && bufferevent_enable(s->bev, EV_READ) != 0) {
		fail_later(s);
		return;
	}
	schedule_delivery(s);
}

static void socket_close(struct exposr_stream *stream)
{
	struct socket_stream *s = socket_of(stream);
	if (s->closing)
		return;
	s->closing = true;
	LIST_INSERT_HEAD(&closing_streams, s, closing_link);
	s->cbs = (struct exposr_stream_callbacks){0};
	if (s->depth == 0)
		begin_close(s);
}

static const struct exposr_stream_vtable socket_vtable = {
        .size = sizeof(struct exposr_stream_vtable),
        .set_callbacks = socket_set_callbacks,
        .write = socket_write,
        .output_length = socket_output_length,
        .set_low_water = socket_set_low_water,
        .pause_read = socket_pause_read,
        .resume_read = socket_resume_read,
        .close = socket_close,
};

struct exposr_stream *stream_socket_new(struct bufferevent *bev)
{
	if (bev == NULL)
		return NULL;
	struct socket_stream *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->base.vt = &socket_vtable;
	s->bev = bev;
	/* Nothing is read until the owner says where the bytes go (set_callbacks). */
	if (bufferevent_disable(bev, EV_READ) != 0 || bufferevent_enable(bev, EV_WRITE) != 0 ||
	    bufferevent_set_timeouts(bev, NULL, NULL) != 0) {
		free(s);
		return NULL;
	}
	bufferevent_setwatermark(bev, EV_READ, 0, READ_HIGH_WATER);
	bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
	bufferevent_setcb(bev, socket_read, socket_written, socket_event, s);
	return &s->base;
}

void stream_sockets_free_closing(void)
{
	while (!LIST_EMPTY(&closing_streams))
		socket_free(LIST_FIRST(&closing_streams));
}
