/* Forwarded connections (include/exposr/http.h forward()): the requests of a public
 * connection carried through a stream with the heads its handler writes, bodies and
 * responses passed on untouched, back-pressure both ways, keep-alive and pipelining,
 * timers and limits, answers when a request cannot be carried or the stream fails, and
 * the hand-over of an upgrade. */
#include "http_forward.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "http_conn.h"
#include "http_reader.h"
#include "http_response.h"
#include "log.h"
#include "streams.h"
#include "timeval_ms.h"

/* The splice's marks (include/exposr/stream.h): over HIGH_WATER bytes waiting in one
 * direction, the side that fills it is not read until they are down to LOW_WATER. */
#define HIGH_WATER EXPOSR_HIGH_WATER
#define LOW_WATER  EXPOSR_LOW_WATER
/* Pipelined requests sent ahead of their responses; more wait in the socket. */
#define MAX_IN_FLIGHT 32
/* Response head bytes held back, so that a stream that ends before the head is
 * complete can still be answered 502; a longer head is passed on as it comes. */
#define HOLD_MAX (64 * 1024)

enum request_phase {
	REQ_IDLE, /* waiting for the next request */
	REQ_HEAD, /* part of a head has arrived */
	REQ_BODY, /* passing a body on */
	REQ_DONE, /* nothing more is read: the last request went, or an answer waits */
};

enum timer_mode { TIMER_NONE, TIMER_IDLE, TIMER_HEAD };

/* A request sent whose response has not ended. */
struct in_flight {
	bool head_method; /* HEAD: its response has no body */
	bool close_after; /* the client did not keep the connection alive */
};

struct exposr_http_forward {
	struct exposr_http_forward_hooks hooks;
	void *ctx;
	bool notify; /* done() is owed: the start went through */
	bool stopping;
	struct bufferevent *pub;
	struct exposr_stream *stream;
	struct event *timer;
	enum timer_mode timer_mode;
	enum request_phase phase;
	bool keep_alive;                    /* of the request being passed on */
	struct http_limits limits;          /* the listener's, or the handler's overrides */
	struct exposr_http_header *headers; /* limits.max_headers, for each later head */
	struct http_reader requests;
	struct http_response_tracker responses;
	struct in_flight ring[MAX_IN_FLIGHT]; /* oldest at ring_first */
	size_t ring_first;
	size_t ring_count;
	struct evbuffer *held;     /* response bytes while its head is incomplete */
	struct evbuffer *outgoing; /* request bytes on their way into the stream */
	bool response_sent;        /* bytes of the oldest final response went out */
	int error_status;          /* answered once the earlier responses are out */
	const char *error_code;
	bool pub_paused;    /* the stream's output is over the high mark */
	bool stream_paused; /* the public output is over the high mark */
	bool pub_eof;
	bool pub_failed;
	bool closing;
	unsigned depth; /* > 0 while one of our callbacks runs: teardown waits */
	char label[128];
	char stream_error_code[64];
	char peer_addr[64];
	int peer_port;
	int local_port;
};

/* --- life and death ------------------------------------------------------------------ */

static void release_public(struct bufferevent *bev, bool failed)
{
	/* The socket stream flushes what is queued and lingers before the close. */
	if (!failed) {
		struct exposr_stream *stream = stream_socket_new(bev);
		if (stream != NULL) {
			stream->vt->close(stream);
			return;
		}
	}
	bufferevent_free(bev);
}

static void conn_teardown(struct exposr_http_forward *c)
{
	if (c->timer != NULL)
		event_free(c->timer);
	/* A tunnel channel ends with a CLOSE to its client. */
	if (c->stream != NULL)
		c->stream->vt->close(c->stream);
	if (c->pub != NULL)
		release_public(c->pub, c->pub_failed);
	if (c->held != NULL)
		evbuffer_free(c->held);
	if (c->outgoing != NULL)
		evbuffer_free(c->outgoing);
	free(c->headers);
	http_reader_free(&c->requests);
	void (*done)(void *ctx) = c->notify ? c->hooks.done : NULL;
	void *ctx = c->ctx;
	free(c);
	if (done != NULL)
		done(ctx);
}

static void enter(struct exposr_http_forward *c)
{
	c->depth++;
}

static void leave(struct exposr_http_forward *c)
{
	if (--c->depth == 0 && c->closing)
		conn_teardown(c);
}

/* Ends the connection: what is queued for the client still goes out. */
static void conn_close(struct exposr_http_forward *c)
{
	if (c->closing)
		return;
	c->closing = true;
	if (c->depth == 0)
		conn_teardown(c);
}

/* --- reading the public side ------------------------------------------------------- */

static bool wants_requests(const struct exposr_http_forward *c)
{
	return !c->closing && !c->pub_paused && !c->pub_eof && c->phase != REQ_DONE &&
	       c->ring_count < MAX_IN_FLIGHT;
}

static void update_reading(struct exposr_http_forward *c)
{
	if (c->closing || c->pub == NULL)
		return;
	if (wants_requests(c)) {
		if (bufferevent_enable(c->pub, EV_READ) != 0)
			conn_close(c);
	} else {
		bufferevent_disable(c->pub, EV_READ);
	}
}

/* Reading may go on: bytes already buffered are taken from the loop, since no new read
 * will announce them. */
static void resume_public(struct exposr_http_forward *c)
{
	update_reading(c);
	if (!c->closing && wants_requests(c) &&
	    evbuffer_get_length(bufferevent_get_input(c->pub)) > 0)
		bufferevent_trigger(c->pub, EV_READ,
		                    BEV_TRIG_IGNORE_WATERMARKS | BEV_TRIG_DEFER_CALLBACKS);
}

/* --- timers -------------------------------------------------------------------------- */

/* A head that started must be complete in time; a connection with nothing in flight is
 * idle. Nothing else is timed: an active transfer or a slow target is never cut. */
static void update_timer(struct exposr_http_forward *c)
{
	enum timer_mode want = TIMER_NONE;
	if (c->closing || c->error_status != 0)
		want = TIMER_NONE;
	else if (c->phase == REQ_HEAD)
		want = TIMER_HEAD;
	else if (c->phase == REQ_IDLE && c->ring_count == 0)
		want = TIMER_IDLE;
	if (want == c->timer_mode)
		return;
	evtimer_del(c->timer);
	c->timer_mode = want;
	if (want == TIMER_NONE)
		return;
	unsigned ms = want == TIMER_HEAD ? c->limits.head_timeout_ms : c->limits.idle_timeout_ms;
	struct timeval tv = timeval_from_ms(ms);
	if (evtimer_add(c->timer, &tv) != 0)
		conn_close(c);
}

/* --- answers of our own -------------------------------------------------------------- */

/* `code` NULL: the listener's own for the status, as it answers the first request. */
static void answer(struct exposr_http_forward *c, int status, const char *code, bool head_only)
{
	log_msg("http", EXPOSR_LOG_DEBUG, "%s %s:%d: %d %s", c->label, c->peer_addr, c->peer_port,
	        status, code != NULL ? code : http_reason(status));
	if (http_format_error(bufferevent_get_output(c->pub), status, code, head_only) != EXPOSR_OK)
		c->pub_failed = true; /* the connection ends without an answer */
	conn_close(c);
}

/* A later request cannot be passed on: it is answered after the responses to the
 * requests before it, and the connection ends. */
static void refuse_request(struct exposr_http_forward *c, int status, const char *code)
{
	struct evbuffer *input = bufferevent_get_input(c->pub);
	c->error_status = status;
	c->error_code = code;
	c->phase = REQ_DONE;
	evbuffer_drain(input, evbuffer_get_length(input));
	update_reading(c);
	update_timer(c);
	if (c->ring_count == 0)
		answer(c, status, code, false);
}

/* --- requests ------------------------------------------------------------------------ */

static void stream_gone(struct exposr_http_forward *c);

static int stream_write(struct exposr_http_forward *c)
{
	if (c->stream->vt->write(c->stream, c->outgoing) != EXPOSR_OK) {
		/* The far end closed the stream before this was written (a tunnel client
		 * whose target refused the connection at once, say). */
		evbuffer_drain(c->outgoing, evbuffer_get_length(c->outgoing));
		stream_gone(c);
		return EXPOSR_ERROR;
	}
	if (!c->pub_paused && c->stream->vt->output_length(c->stream) > HIGH_WATER) {
		c->pub_paused = true;
		update_reading(c);
	}
	return EXPOSR_OK;
}

static int forward_head(struct exposr_http_forward *c, const struct exposr_http_request *req)
{
	if (c->hooks.write_head(c->ctx, req, c->outgoing) != EXPOSR_OK) {
		conn_close(c);
		return EXPOSR_ERROR;
	}
	if (!req->upgrade) {
		size_t at = (c->ring_first + c->ring_count) % MAX_IN_FLIGHT;
		c->ring[at] = (struct in_flight){
		        .head_method = strcmp(req->method, "HEAD") == 0,
		        .close_after = !req->keep_alive,
		};
		c->ring_count++;
	}
	return stream_write(c);
}

static void request_ended(struct exposr_http_forward *c)
{
	/* After a request that did not keep the connection alive nothing more is read. */
	c->phase = c->keep_alive ? REQ_IDLE : REQ_DONE;
	update_reading(c);
}

static void after_head(struct exposr_http_forward *c, bool keep_alive)
{
	c->keep_alive = keep_alive;
	c->phase = REQ_BODY;
	if (http_reader_after_head(&c->requests))
		request_ended(c);
}

/* An upgrade: from here on bytes go raw both ways, as the handler carries them; input
 * that followed the head is still in the public socket's buffer and goes first. */
static void conn_upgrade(struct exposr_http_forward *c)
{
	if (evbuffer_get_length(c->held) > 0 && bufferevent_write_buffer(c->pub, c->held) != 0) {
		conn_close(c);
		return;
	}
	if (c->stream_paused) {
		c->stream_paused = false;
		c->stream->vt->resume_read(c->stream);
	}
	struct exposr_stream *pub = stream_socket_new(c->pub);
	if (pub == NULL) {
		conn_close(c);
		return;
	}
	struct exposr_stream *stream = c->stream;
	c->pub = NULL;
	c->stream = NULL;
	if (c->hooks.upgraded != NULL) {
		c->hooks.upgraded(c->ctx, pub, stream);
	} else {
		stream->vt->close(stream);
		pub->vt->close(pub);
	}
	conn_close(c);
}

/* The handler may refuse a later request (one for another tunnel, say). */
static bool later_request_allowed(struct exposr_http_forward *c,
                                  const struct exposr_http_request *req)
{
	if (c->hooks.check == NULL)
		return true;
	const char *code = NULL;
	int status = c->hooks.check(c->ctx, req, &code);
	if (status == 0)
		return true;
	refuse_request(c, status, code);
	return false;
}

/* Parses the next head from the input; false when nothing more can be done now. */
static bool take_head(struct exposr_http_forward *c, struct evbuffer *input)
{
	size_t max_head = c->limits.max_head_bytes;
	size_t available = evbuffer_get_length(input);
	size_t want = available > max_head ? max_head + 1 : available;
	char *data = (char *)evbuffer_pullup(input, (ev_ssize_t)want);
	if (data == NULL) {
		conn_close(c);
		return false;
	}
	struct exposr_http_request view;
	size_t head_len = 0;
	int status = 400;
	switch (http_reader_head(&c->requests, data, want, max_head, &view, c->headers, &head_len,
	                         &status)) {
	case HTTP_READ_MORE:
		c->phase = REQ_HEAD;
		return false;
	case HTTP_READ_ERROR:
		refuse_request(c, status, NULL);
		return false;
	case HTTP_READ_HEAD:
		break;
	}
	/* A body already here that would not parse is refused before its head goes. */
	if (!http_reader_body_ahead_ok(&c->requests, input, head_len)) {
		refuse_request(c, 400, NULL);
		return false;
	}
	view.remote_addr = c->peer_addr;
	view.remote_port = c->peer_port;
	view.local_port = c->local_port;
	c->phase = REQ_BODY;
	if (!later_request_allowed(c, &view) || forward_head(c, &view) != EXPOSR_OK)
		return false;
	bool upgrade = view.upgrade;
	bool keep_alive = view.keep_alive;
	/* The view points into these bytes: they go only now. */
	if (evbuffer_drain(input, head_len) != 0) {
		conn_close(c);
		return false;
	}
	if (upgrade) {
		conn_upgrade(c);
		return false;
	}
	after_head(c, keep_alive);
	return true;
}

/* Passes on the body bytes of the current request that are buffered. */
static bool pass_body(struct exposr_http_forward *c, struct evbuffer *input)
{
	struct evbuffer_iovec chunk;
	if (evbuffer_peek(input, -1, NULL, &chunk, 1) < 1)
		return false;
	bool done = false;
	ssize_t used = http_reader_body(&c->requests, chunk.iov_base, chunk.iov_len, &done);
	if (used < 0) {
		/* Its head went to the target already: nothing sensible can follow. */
		log_msg("http", EXPOSR_LOG_DEBUG, "%s %s:%d: malformed request body", c->label,
		        c->peer_addr, c->peer_port);
		conn_close(c);
		return false;
	}
	if (used > 0 && (evbuffer_remove_buffer(input, c->outgoing, (size_t)used) != used ||
	                 stream_write(c) != EXPOSR_OK)) {
		conn_close(c);
		return false;
	}
	if (done)
		request_ended(c);
	return true;
}

static void process_input(struct exposr_http_forward *c)
{
	struct evbuffer *input = bufferevent_get_input(c->pub);
	while (wants_requests(c) && evbuffer_get_length(input) > 0) {
		bool progress = c->phase == REQ_BODY ? pass_body(c, input) : take_head(c, input);
		if (!progress)
			break;
	}
	if (!c->closing && c->phase == REQ_DONE && c->error_status == 0)
		evbuffer_drain(input, evbuffer_get_length(input));
	if (!c->closing) {
		update_reading(c);
		update_timer(c);
	}
}

/* --- responses ----------------------------------------------------------------------- */

/* Sends what was held of a response head: it is complete, or too long to hold. */
static void release_held(struct exposr_http_forward *c)
{
	if (evbuffer_get_length(c->held) == 0)
		return;
	if (bufferevent_write_buffer(c->pub, c->held) != 0)
		conn_close(c);
}

static bool response_head(void *arg, int status)
{
	struct exposr_http_forward *c = arg;
	release_held(c);
	/* A final answer may still follow an interim one. */
	c->response_sent = status >= 200;
	return c->ring_count > 0 && c->ring[c->ring_first].head_method;
}

static const struct http_response_events response_events = {
        .head = response_head,
};

static void response_ended(struct exposr_http_forward *c)
{
	if (http_response_interim(&c->responses))
		return;
	c->response_sent = false;
	if (c->ring_count == 0)
		return; /* one nobody asked for: passed on all the same */
	struct in_flight done = c->ring[c->ring_first];
	c->ring_first = (c->ring_first + 1) % MAX_IN_FLIGHT;
	c->ring_count--;
	if (done.close_after) {
		conn_close(c);
		return;
	}
	if (c->ring_count == 0) {
		if (c->error_status != 0) {
			answer(c, c->error_status, c->error_code, false);
			return;
		}
		if (c->pub_eof || (c->stopping && c->phase != REQ_BODY)) {
			conn_close(c);
			return;
		}
	}
	resume_public(c);
	update_timer(c);
}

static void stream_data(void *arg, struct exposr_stream *stream, struct evbuffer *data)
{
	(void)stream;
	struct exposr_http_forward *c = arg;
	enter(c);
	struct evbuffer *out = bufferevent_get_output(c->pub);
	/* Over the high mark the rest stays with the stream, which holds it while paused
	 * and hands it over again on resume. */
	while (!c->closing && evbuffer_get_length(data) > 0 &&
	       evbuffer_get_length(out) <= HIGH_WATER) {
		struct evbuffer_iovec chunk;
		if (evbuffer_peek(data, -1, NULL, &chunk, 1) < 1)
			break;
		size_t used = chunk.iov_len;
		enum http_response_feed r =
		        http_response_feed(&c->responses, chunk.iov_base, chunk.iov_len, &used);
		if (c->closing)
			break;
		struct evbuffer *dest = c->responses.in_head ? c->held : out;
		if (evbuffer_remove_buffer(data, dest, used) != (int)used) {
			conn_close(c);
			break;
		}
		if (dest == c->held && evbuffer_get_length(c->held) > HOLD_MAX) {
			release_held(c);
			c->response_sent = true;
		}
		if (r == HTTP_RESPONSE_END) {
			response_ended(c);
		} else if (r == HTTP_RESPONSE_BROKEN) {
			/* Not HTTP: what came is passed on, then the connection ends. */
			log_msg("http", EXPOSR_LOG_DEBUG, "%s %s:%d: the stream answered no HTTP",
			        c->label, c->peer_addr, c->peer_port);
			release_held(c);
			if (!c->closing && evbuffer_add_buffer(out, data) != 0)
				c->pub_failed = true;
			conn_close(c);
		}
	}
	/* Whatever arrives once the connection is ending goes nowhere. */
	if (c->closing)
		evbuffer_drain(data, evbuffer_get_length(data));
	else if (!c->stream_paused && evbuffer_get_length(out) > HIGH_WATER) {
		c->stream_paused = true;
		c->stream->vt->pause_read(c->stream);
	}
	leave(c);
}

static void stream_drained(void *arg, struct exposr_stream *stream)
{
	(void)stream;
	struct exposr_http_forward *c = arg;
	if (!c->pub_paused)
		return;
	enter(c);
	c->pub_paused = false;
	resume_public(c);
	leave(c);
}

/* The stream ended before the answers did. */
static void stream_gone(struct exposr_http_forward *c)
{
	if (c->ring_count > 0 && !c->response_sent) {
		/* Nothing of the answer went out: the client gets a proper one (§5.8). */
		evbuffer_drain(c->held, evbuffer_get_length(c->held));
		answer(c, 502, c->stream_error_code[0] != '\0' ? c->stream_error_code : NULL,
		       c->ring[c->ring_first].head_method);
	} else {
		/* Mid-response: the client sees the connection end, nothing appended. */
		release_held(c);
		conn_close(c);
	}
}

static void stream_closed(void *arg, struct exposr_stream *stream, bool error)
{
	(void)stream;
	struct exposr_http_forward *c = arg;
	enter(c);
	log_msg("http", EXPOSR_LOG_DEBUG, "%s %s:%d: stream ended%s", c->label, c->peer_addr,
	        c->peer_port, error ? " with an error" : "");
	/* A response that runs until the end of the connection is complete now. */
	if (!c->closing && http_response_finish(&c->responses))
		response_ended(c);
	if (!c->closing)
		stream_gone(c);
	leave(c);
}

static const struct exposr_stream_callbacks stream_callbacks = {
        .on_data = stream_data,
        .on_drained = stream_drained,
        .on_closed = stream_closed,
};

/* --- public socket events ---------------------------------------------------------- */

static void pub_read(struct bufferevent *bev, void *arg)
{
	(void)bev;
	struct exposr_http_forward *c = arg;
	enter(c);
	process_input(c);
	leave(c);
}

static void pub_written(struct bufferevent *bev, void *arg)
{
	struct exposr_http_forward *c = arg;
	if (!c->stream_paused || evbuffer_get_length(bufferevent_get_output(bev)) > LOW_WATER)
		return;
	enter(c);
	c->stream_paused = false;
	c->stream->vt->resume_read(c->stream);
	leave(c);
}

static void pub_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	struct exposr_http_forward *c = arg;
	enter(c);
	if (what & (BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) {
		/* Gone, or took nothing for the idle timeout while answers waited. */
		c->pub_failed = true;
		conn_close(c);
	} else if (what & BEV_EVENT_EOF) {
		/* The client sends no more. Answers to complete requests still go out (a
		 * client may half-close); a request cut short cannot be answered. */
		c->pub_eof = true;
		if (c->phase == REQ_BODY || c->ring_count == 0) {
			conn_close(c);
		} else {
			c->phase = REQ_DONE;
			update_reading(c);
			update_timer(c);
		}
	}
	leave(c);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct exposr_http_forward *c = arg;
	enum timer_mode fired = c->timer_mode;
	enter(c);
	c->timer_mode = TIMER_NONE;
	if (fired == TIMER_HEAD)
		refuse_request(c, 408, NULL);
	else if (evbuffer_get_length(bufferevent_get_output(c->pub)) > 0)
		update_timer(c); /* the client is still reading; its write timeout watches it */
	else
		conn_close(c);
	leave(c);
}

/* --- start and end ---------------------------------------------------------------- */

/* The listener's limits hold on the connection after the hand-over too, where the
 * handler does not override them. */
static void conn_limits(struct exposr_http_forward *c, const struct http_limits *listener,
                        const struct exposr_http_forward_options *o)
{
	c->limits = *listener;
	if (o == NULL)
		return;
	if (o->idle_timeout_ms != 0)
		c->limits.idle_timeout_ms = o->idle_timeout_ms;
	if (o->head_timeout_ms != 0)
		c->limits.head_timeout_ms = o->head_timeout_ms;
	if (o->max_head_bytes != 0)
		c->limits.max_head_bytes = o->max_head_bytes;
}

/* Everything but the first request: false when the connection cannot be carried. */
static bool conn_init(struct exposr_http_forward *c, struct bufferevent *bev,
                      struct exposr_stream *stream)
{
	c->held = evbuffer_new();
	c->outgoing = evbuffer_new();
	c->timer = evtimer_new(bufferevent_get_base(bev), on_timer, c);
	c->headers = calloc(c->limits.max_headers, sizeof(*c->headers));
	http_reader_init(&c->requests, c->limits.max_headers);
	/* A client that takes nothing of its answers for the idle time is dropped. */
	struct timeval write_timeout = timeval_from_ms(c->limits.idle_timeout_ms);
	size_t read_high =
	        c->limits.max_head_bytes + 1 > LOW_WATER ? c->limits.max_head_bytes + 1 : LOW_WATER;
	if (c->held == NULL || c->outgoing == NULL || c->timer == NULL || c->headers == NULL ||
	    bufferevent_set_timeouts(bev, NULL, &write_timeout) != 0)
		return false;
	bufferevent_setwatermark(bev, EV_WRITE, LOW_WATER, 0);
	bufferevent_setwatermark(bev, EV_READ, 0, read_high);
	bufferevent_setcb(bev, pub_read, pub_written, pub_event, c);
	http_response_init(&c->responses, &response_events, c);
	stream->vt->set_low_water(stream, LOW_WATER);
	stream->vt->set_callbacks(stream, &stream_callbacks, c);
	return true;
}

struct exposr_http_forward *http_forward_start(struct exposr_http_request *pub,
                                               struct exposr_stream *stream,
                                               const struct exposr_http_forward_options *options,
                                               const struct exposr_http_forward_hooks *hooks,
                                               void *ctx)
{
	struct http_request *req = (struct http_request *)pub;
	const struct http_limits *listener = req->conn != NULL ? req->conn->limits : NULL;
	bool hooks_ok = hooks != NULL && hooks->write_head != NULL && hooks->done != NULL;
	if (!hooks_ok)
		log_msg("http", EXPOSR_LOG_ERROR,
		        "forward: the hooks write_head and done are mandatory");
	struct exposr_http_forward *c = hooks_ok ? calloc(1, sizeof(*c)) : NULL;
	if (c == NULL) {
		/* The request is still the handler's: the listener answers it. */
		stream->vt->close(stream);
		http_request_fail(pub, 500);
		return NULL;
	}
	struct bufferevent *bev = http_takeover(pub);
	if (bev == NULL) {
		/* The client left while the handler prepared the stream. */
		free(c);
		stream->vt->close(stream);
		if (req->taken_over)
			http_release(pub);
		return NULL;
	}
	c->hooks = *hooks;
	c->ctx = ctx;
	c->pub = bev;
	c->stream = stream;
	snprintf(c->label, sizeof(c->label), "%s",
	         options != NULL && options->label != NULL ? options->label : "forward");
	if (options != NULL && options->stream_error_code != NULL)
		snprintf(c->stream_error_code, sizeof(c->stream_error_code), "%s",
		         options->stream_error_code);
	snprintf(c->peer_addr, sizeof(c->peer_addr), "%s", pub->remote_addr);
	c->peer_port = pub->remote_port;
	c->local_port = pub->local_port;
	conn_limits(c, listener, options);
	enter(c);
	if (!conn_init(c, bev, stream)) {
		conn_close(c);
	} else {
		/* The listener parsed the first head; its parser goes on to find the body's
		 * end. */
		http_reader_continue(&c->requests, &req->parser);
		if (forward_head(c, pub) == EXPOSR_OK) {
			if (pub->upgrade) {
				conn_upgrade(c);
			} else {
				after_head(c, pub->keep_alive);
				process_input(c);
			}
		}
	}
	http_release(pub);
	if (c->closing) {
		leave(c); /* gone, without done(): the handler learns it from the NULL */
		return NULL;
	}
	c->notify = true;
	leave(c);
	return c;
}

void http_forward_stop(struct exposr_http_forward *c)
{
	c->stopping = true;
	/* Between requests: nothing is lost by ending now. The others end after their
	 * current answer (response_ended). */
	if (c->ring_count == 0 && (c->phase == REQ_IDLE || c->phase == REQ_HEAD))
		conn_close(c);
}

void http_forward_close(struct exposr_http_forward *c)
{
	c->notify = false;
	c->closing = true;
	c->depth = 0;
	conn_teardown(c);
}
