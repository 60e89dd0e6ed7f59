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

#include "chan_stream.h"
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

struct fwd_chan {
	struct chan_stream cs; /* first: the user side and the stream the user holds */
	struct ssh_module *sm;
	struct ssh_conn *conn;     /* NULL once the connection let go of it */
	LIST_ENTRY(fwd_chan) link; /* in conn->chans while conn is set */
	ssh_channel ch;
	struct ssh_channel_callbacks_struct cbs;
	enum fwd_state state;
	struct event *defer;
	bool held;                         /* libssh holds input we did not take yet */
	bool remote_eof;                   /* the client sent EOF or CLOSE */
	char tls_host[SSH_BIND_ADDR_SIZE]; /* wrap in TLS for this target host */
	char origin_ip[SSH_ORIGIN_IP_SIZE];
	int origin_port;
};

static const struct chan_stream_ops fwd_ops;

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
	if (f->state != FWD_DONE || f->cs.user != CHAN_USER_NONE || f->cs.busy > 0)
		return;
	unlink_chan(f);
	struct ssh_module *sm = f->sm;
	event_free(f->defer);
	chan_stream_release(&f->cs);
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
	if (chan_stream_end(&f->cs, error))
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
	if (f->cs.user == CHAN_USER_NONE || f->cs.ended)
		return (int)len; /* nobody reads it any more */
	size_t have = evbuffer_get_length(f->cs.in);
	if (f->cs.read_paused || have >= FWD_INPUT_MAX) {
		f->held = true;
		return 0;
	}
	size_t take = len < FWD_INPUT_MAX - have ? len : FWD_INPUT_MAX - have;
	if (evbuffer_add(f->cs.in, data, take) != 0) {
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
	if (f->conn != NULL && evbuffer_get_length(f->cs.out) > 0)
		ssh_conn_kick(f->conn);
	return 0;
}

/* Takes input libssh held back while the user was not ready. */
static void pull_held(struct fwd_chan *f)
{
	while (f->held && f->ch != NULL && !f->cs.read_paused) {
		size_t have = evbuffer_get_length(f->cs.in);
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
		if (evbuffer_add(f->cs.in, buf, (size_t)n) != 0) {
			end_stream(f, true);
			return;
		}
		if ((size_t)n < want)
			f->held = false;
	}
}

/* The TLS layer owns the channel; the user gets plaintext. */
static struct exposr_stream *with_tls(struct chan_stream *cs)
{
	struct fwd_chan *f = (struct fwd_chan *)cs;
	return tls_target_stream(f->sm, &cs->stream, f->tls_host);
}

static void deliver(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct fwd_chan *f = arg;
	f->cs.busy++;
	chan_stream_deliver_open(&f->cs, f->tls_host[0] != '\0' ? with_tls : NULL);
	if (chan_stream_user_there(&f->cs) && !f->cs.read_paused && !f->cs.end_reported) {
		if (f->held && f->conn != NULL)
			ssh_conn_kick(f->conn); /* reading may have queued messages */
		pull_held(f);
	}
	/* The client's EOF once libssh holds nothing more: on_closed follows the input. */
	if (f->remote_eof && !f->held && !f->cs.ended)
		end_stream(f, false);
	chan_stream_deliver(&f->cs);
	/* Room again: what libssh held comes in the next round. */
	if (chan_stream_user_there(&f->cs) && f->held && !f->cs.read_paused &&
	    evbuffer_get_length(f->cs.in) < FWD_INPUT_MAX)
		schedule(f);
	f->cs.busy--;
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
		if (f->cs.user == CHAN_USER_NONE) {
			release_channel(f); /* cancelled meanwhile */
			maybe_free(f);
			return;
		}
		f->cs.open_status = EXPOSR_OK;
	} else {
		ssh_log(c->sm, EXPOSR_LOG_DEBUG, "tunnel %s: the client refused a channel: %s",
		        c->tunnel_id, ssh_get_error(c->session));
		release_channel(f);
		f->cs.open_status = EXPOSR_ERROR;
	}
	f->cs.open_done = true;
	schedule(f);
}

static void pump_out(struct fwd_chan *f)
{
	size_t budget = FWD_WRITE_ROUND;
	while (budget > 0 && f->ch != NULL && !f->cs.ended) {
		size_t len = evbuffer_get_length(f->cs.out);
		uint32_t window = ssh_channel_window_size(f->ch);
		if (len == 0 || window == 0)
			break;
		size_t n = len < window ? len : window;
		if (n > FWD_PACKET)
			n = FWD_PACKET;
		unsigned char *p = evbuffer_pullup(f->cs.out, (ssize_t)n);
		int w = p != NULL ? ssh_channel_write(f->ch, p, (uint32_t)n) : SSH_ERROR;
		if (w < 0) {
			end_stream(f, true);
			return;
		}
		evbuffer_drain(f->cs.out, (size_t)w);
		budget -= (size_t)w < budget ? (size_t)w : budget;
		if ((size_t)w < n)
			break;
	}
	if (chan_stream_output_sent(&f->cs)) {
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
	if (f == NULL || chan_stream_init(&f->cs, &fwd_ops) != 0) {
		free(f);
		cb(arg, EXPOSR_ERROR, NULL);
		return NULL;
	}
	f->defer = event_new(c->sm->host->event_base(), -1, 0, deliver, f);
	f->ch = ssh_channel_new(c->session);
	if (f->defer == NULL || f->ch == NULL) {
		chan_stream_release(&f->cs);
		if (f->defer != NULL)
			event_free(f->defer);
		if (f->ch != NULL)
			ssh_channel_free(f->ch);
		free(f);
		cb(arg, EXPOSR_ERROR, NULL);
		return NULL;
	}
	f->sm = c->sm;
	f->conn = c;
	f->state = FWD_OPENING;
	f->cs.user = CHAN_USER_WAITING;
	f->cs.open_cb = cb;
	f->cs.open_arg = arg;
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
	if (f->cs.user != CHAN_USER_WAITING)
		return;
	f->cs.user = CHAN_USER_NONE;
	f->cs.open_cb = NULL;
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
		if (f->cs.user == CHAN_USER_WAITING && !f->cs.open_done) {
			f->cs.open_done = true;
			f->cs.open_status = EXPOSR_ERROR;
		}
		f->state = FWD_DONE;
		unlink_chan(f);
		end_stream(f, true);
		maybe_free(f);
	}
}

/* The user side's hooks (lib/chan). */

static struct fwd_chan *fwd_of(struct chan_stream *cs)
{
	return (struct fwd_chan *)cs;
}

static void ops_wake(struct chan_stream *cs)
{
	schedule(fwd_of(cs));
}

static bool ops_writable(const struct chan_stream *cs)
{
	const struct fwd_chan *f = (const struct fwd_chan *)cs;
	return f->state == FWD_OPEN && f->conn != NULL;
}

static void ops_output_added(struct chan_stream *cs)
{
	ssh_conn_kick(fwd_of(cs)->conn);
}

static void ops_closed(struct chan_stream *cs)
{
	struct fwd_chan *f = fwd_of(cs);
	if (f->state == FWD_OPEN) {
		if (evbuffer_get_length(f->cs.out) > 0 && !f->cs.ended && f->conn != NULL) {
			f->cs.close_after_flush = true;
			ssh_conn_kick(f->conn);
		} else {
			release_channel(f);
		}
	}
	maybe_free(f);
}

/* No read_paused hook: a paused user's input stays in libssh, which then stops widening
 * the client's window. */
static const struct chan_stream_ops fwd_ops = {
        .wake = ops_wake,
        .writable = ops_writable,
        .output_added = ops_output_added,
        .closed = ops_closed,
};
