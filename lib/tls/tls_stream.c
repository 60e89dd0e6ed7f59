/* TLS over another stream with OpenSSL memory BIOs: ciphertext from the inner stream goes
 * into the read BIO, what OpenSSL writes goes to the inner stream. The SNI ingress hands
 * it the client's socket with the ClientHello it has read already; transport-ssh hands
 * it a forwarded channel. */
#include "tls_stream.h"

#include <stdlib.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/x509.h>

/* Plaintext decrypted ahead of the owner stops the inner stream at this size. */
#define PLAIN_HIGH_WATER (64 * 1024)
/* One read or write: a TLS record's worth. */
#define TLS_CHUNK (16 * 1024)

struct tls_stream {
	struct exposr_stream base; /* first: the owner only sees this */
	struct exposr_stream *inner;
	SSL *ssl;
	BIO *rbio, *wbio;         /* owned by ssl */
	struct event *defer;      /* delivery from the loop, not from inside the owner's call */
	struct evbuffer *plain;   /* decrypted, not yet taken by the owner */
	struct evbuffer *pending; /* written by the owner, not yet encrypted */
	struct evbuffer *out;     /* encrypted, on its way to inner */
	struct exposr_stream_callbacks cbs;
	void *arg;
	struct tls_stream_events events;
	unsigned depth; /* > 0 while a callback into the owner runs */
	bool handshaken;
	bool paused;       /* by the owner */
	bool inner_paused; /* by us: the owner paused or `plain` is full */
	bool inner_ended;  /* what OpenSSL holds is all there is */
	bool ended;        /* close_notify, or inner ended and OpenSSL holds no record */
	bool failed;       /* a TLS or inner stream error: nothing more goes either way */
	bool reported;     /* on_closed ran */
	bool closing;      /* the owner closed: freed when depth drops to 0 */
};

static struct tls_stream *tls_of(struct exposr_stream *stream)
{
	return (struct tls_stream *)stream;
}

/* What OpenSSL wrote goes to the inner stream. */
static bool move_out(struct tls_stream *t)
{
	char buf[TLS_CHUNK];
	int n;
	while ((n = BIO_read(t->wbio, buf, sizeof(buf))) > 0)
		if (evbuffer_add(t->out, buf, (size_t)n) != 0)
			return false;
	return evbuffer_get_length(t->out) == 0 ||
	       t->inner->vt->write(t->inner, t->out) == EXPOSR_OK;
}

static void tls_free(struct tls_stream *t)
{
	/* A peer still listening is told the stream ended (close_notify). */
	if (t->handshaken && !t->failed && SSL_shutdown(t->ssl) >= 0)
		move_out(t);
	t->inner->vt->set_callbacks(t->inner, NULL, NULL);
	t->inner->vt->close(t->inner);
	SSL_free(t->ssl);
	event_free(t->defer);
	evbuffer_free(t->plain);
	evbuffer_free(t->pending);
	evbuffer_free(t->out);
	free(t);
}

static void fail(struct tls_stream *t, const char *what)
{
	if (t->failed)
		return;
	t->failed = true;
	if (t->events.on_error != NULL) {
		long verify = SSL_get_verify_result(t->ssl);
		const char *reason = verify != X509_V_OK
		                             ? X509_verify_cert_error_string(verify)
		                             : ERR_reason_error_string(ERR_peek_last_error());
		t->events.on_error(t->events.arg, what, reason != NULL ? reason : "unknown error");
	}
	ERR_clear_error();
}

static void flush_out(struct tls_stream *t)
{
	if (!move_out(t))
		fail(t, "write");
}

static void encrypt_pending(struct tls_stream *t)
{
	size_t len;
	while (t->handshaken && !t->failed && (len = evbuffer_get_length(t->pending)) > 0) {
		size_t chunk = len < TLS_CHUNK ? len : TLS_CHUNK;
		unsigned char *p = evbuffer_pullup(t->pending, (ssize_t)chunk);
		ERR_clear_error();
		int n = p != NULL ? SSL_write(t->ssl, p, (int)chunk) : -1;
		if (n <= 0) {
			fail(t, "write");
			break;
		}
		evbuffer_drain(t->pending, (size_t)n);
		flush_out(t);
	}
}

static void handshake_done(struct tls_stream *t, bool ok)
{
	void (*cb)(void *arg, bool ok) = t->events.on_handshake;
	t->events.on_handshake = NULL;
	t->handshaken = ok;
	if (ok)
		encrypt_pending(t);
	if (cb != NULL)
		cb(t->events.arg, ok);
}

static void step_handshake(struct tls_stream *t)
{
	ERR_clear_error();
	int r = SSL_do_handshake(t->ssl);
	flush_out(t);
	if (r == 1 && !t->failed) {
		handshake_done(t, true);
		return;
	}
	int err = SSL_get_error(t->ssl, r);
	if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE)
		fail(t, "handshake");
	/* An inner stream that ended before the handshake did ended it unfinished. */
	if (t->failed || t->inner_ended) {
		t->failed = true;
		handshake_done(t, false);
	}
}

static void read_plain(struct tls_stream *t)
{
	char buf[TLS_CHUNK];
	while (!t->ended && !t->failed && evbuffer_get_length(t->plain) < PLAIN_HIGH_WATER) {
		ERR_clear_error();
		int n = SSL_read(t->ssl, buf, sizeof(buf));
		if (n > 0) {
			if (evbuffer_add(t->plain, buf, (size_t)n) != 0)
				fail(t, "read");
			continue;
		}
		int err = SSL_get_error(t->ssl, n);
		/* A peer that ends without close_notify ended the stream anyway. */
		if (err == SSL_ERROR_ZERO_RETURN || (err == SSL_ERROR_WANT_READ && t->inner_ended))
			t->ended = true;
		else if (err != SSL_ERROR_WANT_READ)
			fail(t, "read");
		break;
	}
	/* Reading may answer (a key update). */
	flush_out(t);
}

static void update_inner_pause(struct tls_stream *t)
{
	bool want = t->paused || evbuffer_get_length(t->plain) >= PLAIN_HIGH_WATER;
	if (t->closing || t->inner_ended || want == t->inner_paused)
		return;
	t->inner_paused = want;
	if (want)
		t->inner->vt->pause_read(t->inner);
	else
		t->inner->vt->resume_read(t->inner);
}

/* False when the owner closed the stream meanwhile: it is gone. */
static bool leave(struct tls_stream *t)
{
	if (--t->depth > 0 || !t->closing)
		return true;
	tls_free(t);
	return false;
}

/* Moves the handshake on, or decrypts and hands the owner what it may take. */
static void pump(struct tls_stream *t)
{
	t->depth++;
	if (!t->handshaken && !t->failed)
		step_handshake(t);
	/* OpenSSL may hold more than one batch: on while the owner takes them. */
	while (t->handshaken && !t->closing) {
		read_plain(t);
		size_t held = evbuffer_get_length(t->plain);
		if (t->paused || t->reported || t->closing || held == 0 || t->cbs.on_data == NULL)
			break;
		t->cbs.on_data(t->arg, &t->base, t->plain);
		if (t->closing || evbuffer_get_length(t->plain) >= held)
			break;
	}
	/* Reported once an owner is there to hear it. */
	if (!t->closing && !t->reported && t->cbs.on_closed != NULL &&
	    (t->failed || (t->ended && !t->paused && evbuffer_get_length(t->plain) == 0))) {
		t->reported = true;
		t->cbs.on_closed(t->arg, &t->base, t->failed);
	}
	if (leave(t))
		update_inner_pause(t);
}

static void on_deferred(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	pump(arg);
}

static void schedule(struct tls_stream *t)
{
	event_active(t->defer, 0, 0);
}

static void inner_data(void *arg, struct exposr_stream *inner, struct evbuffer *data)
{
	(void)inner;
	struct tls_stream *t = arg;
	size_t len;
	while ((len = evbuffer_get_length(data)) > 0) {
		size_t chunk = len < TLS_CHUNK ? len : TLS_CHUNK;
		unsigned char *p = evbuffer_pullup(data, (ssize_t)chunk);
		int n = p != NULL ? BIO_write(t->rbio, p, (int)chunk) : -1;
		if (n <= 0) {
			fail(t, "read");
			evbuffer_drain(data, len);
			break;
		}
		evbuffer_drain(data, (size_t)n);
	}
	pump(t);
}

static void inner_drained(void *arg, struct exposr_stream *inner)
{
	(void)inner;
	struct tls_stream *t = arg;
	if (!t->handshaken || t->reported || t->closing || t->cbs.on_drained == NULL)
		return;
	t->depth++;
	t->cbs.on_drained(t->arg, &t->base);
	leave(t);
}

static void inner_closed(void *arg, struct exposr_stream *inner, bool error)
{
	(void)inner;
	struct tls_stream *t = arg;
	t->inner_ended = true;
	t->failed = t->failed || error;
	pump(t);
}

static const struct exposr_stream_callbacks inner_callbacks = {
        .on_data = inner_data,
        .on_drained = inner_drained,
        .on_closed = inner_closed,
};

static void tls_set_callbacks(struct exposr_stream *stream,
                              const struct exposr_stream_callbacks *cbs, void *arg)
{
	struct tls_stream *t = tls_of(stream);
	if (t->closing)
		return;
	t->cbs = cbs != NULL ? *cbs : (struct exposr_stream_callbacks){0};
	t->arg = arg;
	/* Inside one of our callbacks the running pump hands the input over. */
	if (t->depth == 0)
		schedule(t);
}

static int tls_write(struct exposr_stream *stream, struct evbuffer *data)
{
	struct tls_stream *t = tls_of(stream);
	if (t->failed || t->closing || evbuffer_add_buffer(t->pending, data) != 0) {
		evbuffer_drain(data, evbuffer_get_length(data));
		return EXPOSR_ERROR;
	}
	encrypt_pending(t);
	return t->failed ? EXPOSR_ERROR : EXPOSR_OK;
}

static size_t tls_output_length(struct exposr_stream *stream)
{
	struct tls_stream *t = tls_of(stream);
	return evbuffer_get_length(t->pending) + t->inner->vt->output_length(t->inner);
}

static void tls_set_low_water(struct exposr_stream *stream, size_t bytes)
{
	struct tls_stream *t = tls_of(stream);
	t->inner->vt->set_low_water(t->inner, bytes);
}

static void tls_pause_read(struct exposr_stream *stream)
{
	struct tls_stream *t = tls_of(stream);
	t->paused = true;
	update_inner_pause(t);
}

static void tls_resume_read(struct exposr_stream *stream)
{
	struct tls_stream *t = tls_of(stream);
	if (!t->paused || t->closing)
		return;
	t->paused = false;
	update_inner_pause(t);
	schedule(t);
}

static void tls_close(struct exposr_stream *stream)
{
	struct tls_stream *t = tls_of(stream);
	if (t->closing)
		return;
	t->closing = true;
	t->cbs = (struct exposr_stream_callbacks){0};
	t->events = (struct tls_stream_events){0};
	if (t->depth == 0)
		tls_free(t);
}

static const struct exposr_stream_vtable tls_vtable = {
        .size = sizeof(struct exposr_stream_vtable),
        .set_callbacks = tls_set_callbacks,
        .write = tls_write,
        .output_length = tls_output_length,
        .set_low_water = tls_set_low_water,
        .pause_read = tls_pause_read,
        .resume_read = tls_resume_read,
        .close = tls_close,
};

struct exposr_stream *tls_stream_new(struct event_base *base, struct exposr_stream *inner, SSL *ssl,
                                     const struct tls_stream_events *events)
{
	struct tls_stream *t = calloc(1, sizeof(*t));
	if (t == NULL) {
		SSL_free(ssl);
		return NULL;
	}
	t->base.vt = &tls_vtable;
	t->inner = inner;
	t->ssl = ssl;
	if (events != NULL)
		t->events = *events;
	if ((t->rbio = BIO_new(BIO_s_mem())) == NULL || (t->wbio = BIO_new(BIO_s_mem())) == NULL ||
	    (t->plain = evbuffer_new()) == NULL || (t->pending = evbuffer_new()) == NULL ||
	    (t->out = evbuffer_new()) == NULL ||
	    (t->defer = event_new(base, -1, 0, on_deferred, t)) == NULL) {
		BIO_free(t->rbio);
		BIO_free(t->wbio);
		SSL_free(ssl);
		if (t->plain != NULL)
			evbuffer_free(t->plain);
		if (t->pending != NULL)
			evbuffer_free(t->pending);
		if (t->out != NULL)
			evbuffer_free(t->out);
		free(t);
		return NULL;
	}
	/* An empty memory BIO means "wait for more", not the end. */
	BIO_set_mem_eof_return(t->rbio, -1);
	SSL_set_bio(ssl, t->rbio, t->wbio);
	inner->vt->set_callbacks(inner, &inner_callbacks, t);
	/* A client speaks first (the ClientHello); a server waits for what inner delivers. */
	schedule(t);
	return &t->base;
}
