/* forwarded-tcpip channels as core streams (docs/ssh.md §7.4). libssh's callbacks only
 * move bytes and set flags; the stream's user hears from a deferred event of its own.
 * Back-pressure both ways rides on the SSH window: input the user is not ready for
 * stays unread in libssh, which then stops widening the client's window; output is
 * written only as far as the client's window and the socket allow. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <libssh/callbacks.h>

#include "ssh_conn.h"
#include "tls_target.h"

/* Open channels per connection; the ingress asks again later (429) beyond it. */
#define FWD_MAX_CHANNELS 1024
/* Input taken from libssh before the user read it. */
#define FWD_INPUT_MAX (256 * 1024)
/* Output written per channel per round, so that one busy channel cannot starve the
 * others or fill libssh's socket buffer in one go. */
#define FWD_WRITE_ROUND (128 * 1024)
#define FWD_PACKET      32768

enum fwd_state { FWD_OPENING, FWD_OPEN, FWD_DONE };
enum fwd_user { USER_WAITING, USER_OWNED, USER_NONE };

struct fwd_chan {
	struct exposr_stream stream; /* first: what the user holds */
	struct ssh_module *sm;
	struct ssh_conn *conn;     /* NULL once the connection let go of it */
	LIST_ENTRY(fwd_chan) link; /* in conn->chans while conn is set */
	ssh_channel ch;
	struct ssh_channel_callbacks_struct cbs;
	enum fwd_state state;
	enum fwd_user user;
	struct event *defer;

	exposr_channel_cb open_cb;
	void *open_arg;
	bool open_done;
	int open_status;

	struct exposr_stream_callbacks ucbs;
	void *ucbs_arg;
	bool has_cbs;
	struct evbuffer *in;
	struct evbuffer *out;
	size_t low_water;
	bool above_low;
	bool drained_due;
	bool read_paused;
	bool held;       /* libssh holds input we did not take yet */
	bool remote_eof; /* the client sent EOF or CLOSE */
	bool close_after_flush;
	bool ended; /* on_closed is due once the input is delivered */
	bool end_error;
	bool end_reported;
	unsigned busy;
	char tls_host[SSH_BIND_ADDR_SIZE]; /* wrap in TLS for this target host */
	char origin_ip[SSH_ORIGIN_IP_SIZE];
	int origin_port;
};

static const struct exposr_stream_vtable fwd_stream_vt;

static void schedule(struct fwd_chan *f)
{
	event_active(f->defer, 0, 0);
}

static void unlink_chan(struct fwd_chan *f)
{
	struct ssh_conn *c = f->conn;
	if (c == NULL)
		return;
	LIST_REMOVE(f, link);
	c->nchans--;
	f->conn = NULL;
}

static void maybe_free(struct fwd_chan *f)
{
	if (f->state != FWD_DONE || f->user != USER_NONE || f->busy > 0)
		return;
	unlink_chan(f);
	struct ssh_module *sm = f->sm;
	event_free(f->defer);
	evbuffer_free(f->in);
	evbuffer_free(f->out);
	free(f);
	sm->host->metrics->add(sm->channels_open, -1);
}

/* Lets go of the libssh channel: libssh answers the client's CLOSE, or sends ours and
 * frees the channel when the client's arrives. */
static void release_channel(struct fwd_chan *f)
{
	if (f->ch != NULL) {
		ssh_remove_channel_callbacks(f->ch, &f->cbs);
		ssh_channel_free(f->ch);
		f->ch = NULL;
		if (f->conn != NULL)
			ssh_conn_kick(f->conn);
	}
	f->state = FWD_DONE;
	unlink_chan(f);
}

static void end_stream(struct fwd_chan *f, bool error)
{
	if (f->ended)
		return;
	f->ended = true;
	f->end_error = error;
	evbuffer_drain(f->out, evbuffer_get_length(f->out));
	f->close_after_flush = false;
	schedule(f);
}

/* libssh callbacks */

static int on_ssh_data(ssh_session session, ssh_channel channel, void *data, uint32_t len,
                       int is_stderr, void *userdata)
{
	(void)session;
	(void)channel;
	(void)is_stderr;
	struct fwd_chan *f = userdata;
	if (f->user == USER_NONE || f->ended)
		return (int)len; /* nobody reads it any more */
	size_t have = evbuffer_get_length(f->in);
	if (f->read_paused || have >= FWD_INPUT_MAX) {
		f->held = true;
		return 0;
	}
	size_t take = len < FWD_INPUT_MAX - have ? len : FWD_INPUT_MAX - have;
	if (evbuffer_add(f->in, data, take) != 0) {
		f->held = true;
		return 0;
	}
	f->held = take < len;
	schedule(f);
	return (int)take;
}

static void on_ssh_eof(ssh_session session, ssh_channel channel, void *userdata)
{
	(void)session;
	(void)channel;
	struct fwd_chan *f = userdata;
	f->remote_eof = true;
	schedule(f);
}

static void on_ssh_close(ssh_session session, ssh_channel channel, void *userdata)
{
	on_ssh_eof(session, channel, userdata);
}

static int on_ssh_window(ssh_session session, ssh_channel channel, uint32_t bytes, void *userdata)
{
	(void)session;
	(void)channel;
	(void)bytes;
	struct fwd_chan *f = userdata;
	if (f->conn != NULL && evbuffer_get_length(f->out) > 0)
		ssh_conn_kick(f->conn);
	return 0;
}

/* Takes input libssh held back while the user was not ready. */
static void pull_held(struct fwd_chan *f)
{
	while (f->held && f->ch != NULL && !f->read_paused) {
		size_t have = evbuffer_get_length(f->in);
		if (have >= FWD_INPUT_MAX)
			return;
		char buf[16384];
		size_t want =
		        FWD_INPUT_MAX - have < sizeof(buf) ? FWD_INPUT_MAX - have : sizeof(buf);
		int n = ssh_channel_read_nonblocking(f->ch, buf, (uint32_t)want, 0);
		if (n <= 0) {
			f->held = false;
			return;
		}
		if (evbuffer_add(f->in, buf, (size_t)n) != 0) {
			end_stream(f, true);
			return;
		}
		if ((size_t)n < want)
			f->held = false;
	}
}

static void deliver(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct fwd_chan *f = arg;
	f->busy++;
	if (f->user == USER_WAITING && f->open_done) {
		exposr_channel_cb cb = f->open_cb;
		int status = f->open_status;
		f->open_cb = NULL;
		f->user = status == EXPOSR_OK ? USER_OWNED : USER_NONE;
		struct exposr_stream *stream = status == EXPOSR_OK ? &f->stream : NULL;
		if (stream != NULL && f->tls_host[0] != '\0') {
			/* The TLS layer owns the channel; the user gets plaintext. */
			stream = tls_target_stream(f->sm, stream, f->tls_host);
			if (stream == NULL)
				status = EXPOSR_ERROR;
		}
		cb(f->open_arg, status, stream);
	}
	bool owned = f->user == USER_OWNED && f->has_cbs;
	if (owned && !f->read_paused && !f->end_reported) {
		if (f->held && f->conn != NULL)
			ssh_conn_kick(f->conn); /* reading may have queued messages */
		pull_held(f);
		if (evbuffer_get_length(f->in) > 0)
			f->ucbs.on_data(f->ucbs_arg, &f->stream, f->in);
		/* Room again: what libssh held comes in the next round. */
		if (f->held && evbuffer_get_length(f->in) < FWD_INPUT_MAX && !f->read_paused)
			schedule(f);
	}
	owned = f->user == USER_OWNED && f->has_cbs;
	if (owned && f->drained_due && !f->end_reported) {
		f->drained_due = false;
		if (f->ucbs.on_drained != NULL)
			f->ucbs.on_drained(f->ucbs_arg, &f->stream);
	}
	if (f->remote_eof && !f->held && !f->ended)
		end_stream(f, false);
	owned = f->user == USER_OWNED && f->has_cbs;
	/* The end comes after every byte received before it. */
	if (owned && f->ended && !f->end_reported && evbuffer_get_length(f->in) == 0) {
		f->end_reported = true;
		f->ucbs.on_closed(f->ucbs_arg, &f->stream, f->end_error);
	}
	f->busy--;
	maybe_free(f);
}

/* Opening: libssh answers SSH_AGAIN until the client confirms or refuses. */
static void try_open(struct fwd_chan *f)
{
	struct ssh_conn *c = f->conn;
	int rc = ssh_channel_open_reverse_forward(f->ch, c->forward.address, (int)c->forward.port,
	                                          f->origin_ip, f->origin_port);
	if (rc == SSH_AGAIN)
		return;
	if (rc == SSH_OK) {
		f->state = FWD_OPEN;
		if (f->user == USER_NONE) {
			release_channel(f); /* cancelled meanwhile */
			maybe_free(f);
			return;
		}
		f->open_status = EXPOSR_OK;
	} else {
		ssh_log(c->sm, EXPOSR_LOG_DEBUG, "tunnel %s: the client refused a channel: %s",
		        c->tunnel_id, ssh_get_error(c->session));
		release_channel(f);
		f->open_status = EXPOSR_ERROR;
	}
	f->open_done = true;
	schedule(f);
}

static void pump_out(struct fwd_chan *f)
{
	size_t budget = FWD_WRITE_ROUND;
	while (budget > 0 && f->ch != NULL && !f->ended) {
		size_t len = evbuffer_get_length(f->out);
		uint32_t window = ssh_channel_window_size(f->ch);
		if (len == 0 || window == 0)
			break;
		size_t n = len < window ? len : window;
		if (n > FWD_PACKET)
			n = FWD_PACKET;
		unsigned char *p = evbuffer_pullup(f->out, (ssize_t)n);
		int w = p != NULL ? ssh_channel_write(f->ch, p, (uint32_t)n) : SSH_ERROR;
		if (w < 0) {
			end_stream(f, true);
			return;
		}
		evbuffer_drain(f->out, (size_t)w);
		budget -= (size_t)w < budget ? (size_t)w : budget;
		if ((size_t)w < n)
			break;
	}
	size_t left = evbuffer_get_length(f->out);
	if (f->above_low && left <= f->low_water) {
		f->above_low = false;
		if (f->user == USER_OWNED) {
			f->drained_due = true;
			schedule(f);
		}
	}
	if (left == 0 && f->close_after_flush) {
		f->close_after_flush = false;
		release_channel(f);
		maybe_free(f);
	}
}

bool fwd_chan_pump_all(struct ssh_conn *c)
{
	bool polled = false;
	/* libssh's socket buffer is still full: the writable event comes back here. */
	bool socket_busy = (ssh_get_poll_flags(c->session) & SSH_WRITE_PENDING) != 0;
	struct fwd_chan *f = LIST_FIRST(&c->chans);
	while (f != NULL && c->phase == CONN_OPEN) {
		struct fwd_chan *next = LIST_NEXT(f, link);
		if (f->state == FWD_OPENING) {
			try_open(f);
			polled = true;
		} else if (f->state == FWD_OPEN && !socket_busy)
			pump_out(f);
		f = next;
	}
	return polled;
}

void *fwd_chan_open(struct ssh_conn *c, const struct exposr_origin *origin, exposr_channel_cb cb,
                    void *arg)
{
	if (!c->has_forward) {
		/* Authenticated, but no -R yet: nowhere to send the connection. */
		cb(arg, EXPOSR_ERROR, NULL);
		return NULL;
	}
	if (c->nchans >= FWD_MAX_CHANNELS) {
		cb(arg, EXPOSR_AGAIN, NULL);
		return NULL;
	}
	struct fwd_chan *f = calloc(1, sizeof(*f));
	if (f == NULL) {
		cb(arg, EXPOSR_ERROR, NULL);
		return NULL;
	}
	f->in = evbuffer_new();
	f->out = evbuffer_new();
	f->defer = event_new(c->sm->host->event_base(), -1, 0, deliver, f);
	f->ch = ssh_channel_new(c->session);
	if (f->in == NULL || f->out == NULL || f->defer == NULL || f->ch == NULL) {
		if (f->in != NULL)
			evbuffer_free(f->in);
		if (f->out != NULL)
			evbuffer_free(f->out);
		if (f->defer != NULL)
			event_free(f->defer);
		if (f->ch != NULL)
			ssh_channel_free(f->ch);
		free(f);
		cb(arg, EXPOSR_ERROR, NULL);
		return NULL;
	}
	f->stream.vt = &fwd_stream_vt;
	f->sm = c->sm;
	f->conn = c;
	f->state = FWD_OPENING;
	f->user = USER_WAITING;
	f->open_cb = cb;
	f->open_arg = arg;
	memcpy(f->tls_host, c->forward.tls_host, sizeof(f->tls_host));
	/* An ingress that does not know its client (ABI 1.2) leaves the old placeholder. */
	snprintf(f->origin_ip, sizeof(f->origin_ip), "%s",
	         origin != NULL ? origin->ip : "127.0.0.1");
	f->origin_port = origin != NULL ? origin->port : 0;
	f->cbs.size = sizeof(f->cbs);
	f->cbs.userdata = f;
	f->cbs.channel_data_function = on_ssh_data;
	f->cbs.channel_eof_function = on_ssh_eof;
	f->cbs.channel_close_function = on_ssh_close;
	f->cbs.channel_write_wontblock_function = on_ssh_window;
	ssh_callbacks_init(&f->cbs);
	ssh_set_channel_callbacks(f->ch, &f->cbs);
	LIST_INSERT_HEAD(&c->chans, f, link);
	c->nchans++;
	c->sm->host->metrics->add(c->sm->channels_open, 1);
	ssh_conn_kick(c); /* try_open runs from the loop */
	return f;
}

void fwd_chan_cancel(struct ssh_conn *c, void *token)
{
	(void)c;
	struct fwd_chan *f = token;
	if (f->user != USER_WAITING)
		return;
	f->user = USER_NONE;
	f->open_cb = NULL;
	if (f->state == FWD_OPEN)
		release_channel(f);
	maybe_free(f);
}

void fwd_chan_detach_all(struct ssh_conn *c)
{
	while (!LIST_EMPTY(&c->chans)) {
		struct fwd_chan *f = LIST_FIRST(&c->chans);
		/* The session frees its channels with it. */
		if (f->ch != NULL)
			ssh_remove_channel_callbacks(f->ch, &f->cbs);
		f->ch = NULL;
		if (f->user == USER_WAITING && !f->open_done) {
			f->open_done = true;
			f->open_status = EXPOSR_ERROR;
		}
		f->state = FWD_DONE;
		unlink_chan(f);
		end_stream(f, true);
		maybe_free(f);
	}
}

/* The stream vtable. */

static struct fwd_chan *fwd_of(struct exposr_stream *stream)
{
	return (struct fwd_chan *)stream;
}

static void stream_set_callbacks(struct exposr_stream *stream,
                                 const struct exposr_stream_callbacks *cbs, void *arg)
{
	struct fwd_chan *f = fwd_of(stream);
	if (cbs == NULL) {
		f->has_cbs = false;
		return;
	}
	f->ucbs = *cbs;
	f->ucbs_arg = arg;
	f->has_cbs = cbs->on_data != NULL && cbs->on_closed != NULL;
	if (evbuffer_get_length(f->in) > 0 || f->held || f->ended || f->remote_eof ||
	    f->drained_due)
		schedule(f);
}

static int stream_write(struct exposr_stream *stream, struct evbuffer *data)
{
	struct fwd_chan *f = fwd_of(stream);
	if (f->ended || f->close_after_flush || f->state != FWD_OPEN || f->conn == NULL) {
		evbuffer_drain(data, evbuffer_get_length(data));
		return EXPOSR_ERROR;
	}
	if (evbuffer_add_buffer(f->out, data) != 0)
		return EXPOSR_ERROR;
	if (evbuffer_get_length(f->out) > f->low_water)
		f->above_low = true;
	ssh_conn_kick(f->conn);
	return EXPOSR_OK;
}

static size_t stream_output_length(struct exposr_stream *stream)
{
	return evbuffer_get_length(fwd_of(stream)->out);
}

static void stream_set_low_water(struct exposr_stream *stream, size_t bytes)
{
	fwd_of(stream)->low_water = bytes;
}

static void stream_pause_read(struct exposr_stream *stream)
{
	fwd_of(stream)->read_paused = true;
}

static void stream_resume_read(struct exposr_stream *stream)
{
	struct fwd_chan *f = fwd_of(stream);
	if (!f->read_paused)
		return;
	f->read_paused = false;
	/* Delivered from the loop, not from inside the caller. */
	schedule(f);
}

static void stream_close(struct exposr_stream *stream)
{
	struct fwd_chan *f = fwd_of(stream);
	f->user = USER_NONE;
	f->has_cbs = false;
	evbuffer_drain(f->in, evbuffer_get_length(f->in));
	if (f->state == FWD_OPEN) {
		if (evbuffer_get_length(f->out) > 0 && !f->ended && f->conn != NULL) {
			f->close_after_flush = true;
			ssh_conn_kick(f->conn);
		} else {
			release_channel(f);
		}
	}
	maybe_free(f);
}

static const struct exposr_stream_vtable fwd_stream_vt = {
        .size = sizeof(struct exposr_stream_vtable),
        .set_callbacks = stream_set_callbacks,
        .write = stream_write,
        .output_length = stream_output_length,
        .set_low_water = stream_set_low_water,
        .pause_read = stream_pause_read,
        .resume_read = stream_resume_read,
        .close = stream_close,
};
