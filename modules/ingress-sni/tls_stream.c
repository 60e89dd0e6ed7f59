/* TLS ended on the server: the handshake, then the plain bytes as an exposr_stream the
 * core splices with a tunnel channel. OpenSSL works on memory BIOs between the client's
 * socket stream (the core's, which flushes and lingers on close) and the owner, so the
 * ClientHello already read to find the tunnel is handed to it like any later bytes. */
#include "tls_stream.h"

#include <stdlib.h>

#include <event2/buffer.h>

/* Plain input taken from OpenSSL ahead of the owner, and the size of one read or write. */
#define PLAIN_HIGH_WATER (64 * 1024)
#define TLS_CHUNK        (16 * 1024)

struct tls_stream {
	struct exposr_stream base; /* first: the owner only sees this */
	struct exposr_stream *raw; /* the client's socket */
	SSL *ssl;
	BIO *rbio, *wbio;       /* owned by ssl */
	struct evbuffer *plain; /* decrypted, not yet taken by the owner */
	struct evbuffer *out;   /* encrypted, on its way to raw */
	struct exposr_stream_callbacks cbs;
	void *arg;
	void (*on_handshake)(void *arg, bool ok);
	void *handshake_arg;
	unsigned depth; /* > 0 while a callback into the owner runs */
	bool handshaken;
	bool paused;
	bool raw_ended; /* the socket's end: what OpenSSL holds is all there is */
	bool ended;     /* close_notify, or the socket ended and OpenSSL holds no record */
	bool failed;    /* a TLS or socket error: nothing more goes either way */
	bool reported;  /* on_closed ran */
	bool closing;
};

static const struct exposr_stream_vtable tls_vtable;

static struct tls_stream *tls_of(struct exposr_stream *stream)
{
	return (struct tls_stream *)stream;
}

static void tls_free(struct tls_stream *t)
{
	/* A peer still listening is told the stream ended (close_notify). */
	if (t->handshaken && !t->failed && SSL_shutdown(t->ssl) >= 0) {
		char buf[256];
		int n;
		while ((n = BIO_read(t->wbio, buf, sizeof(buf))) > 0)
			evbuffer_add(t->out, buf, (size_t)n);
		t->raw->vt->write(t->raw, t->out);
	}
	t->raw->vt->close(t->raw);
	SSL_free(t->ssl);
	evbuffer_free(t->plain);
	evbuffer_free(t->out);
	free(t);
}

static void enter(struct tls_stream *t)
{
	t->depth++;
}

/* False when the owner closed the stream meanwhile: it is gone. */
static bool leave(struct tls_stream *t)
{
	if (--t->depth > 0 || !t->closing)
		return true;
	tls_free(t);
	return false;
}

/* What OpenSSL wrote goes to the socket. */
static void flush_out(struct tls_stream *t)
{
	char buf[TLS_CHUNK];
	int n;
	while ((n = BIO_read(t->wbio, buf, sizeof(buf))) > 0) {
		if (evbuffer_add(t->out, buf, (size_t)n) != 0) {
			t->failed = true;
			return;
		}
	}
	if (evbuffer_get_length(t->out) > 0 && t->raw->vt->write(t->raw, t->out) != EXPOSR_OK)
		t->failed = true;
}

static void handshake_done(struct tls_stream *t, bool ok)
{
	void (*cb)(void *arg, bool ok) = t->on_handshake;
	t->on_handshake = NULL;
	t->handshaken = ok;
	if (cb != NULL)
		cb(t->handshake_arg, ok);
}

static void step_handshake(struct tls_stream *t)
{
	ERR_clear_error();
	int r = SSL_do_handshake(t->ssl);
	flush_out(t);
	if (r == 1) {
		handshake_done(t, true);
		return;
	}
	int err = SSL_get_error(t->ssl, r);
	if ((err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) || t->raw_ended ||
	    t->failed)
		handshake_done(t, false);
}

static void read_plain(struct tls_stream *t)
{
	char buf[TLS_CHUNK];
	while (!t->ended && !t->failed && evbuffer_get_length(t->plain) < PLAIN_HIGH_WATER) {
		ERR_clear_error();
		int n = SSL_read(t->ssl, buf, sizeof(buf));
		if (n > 0) {
			if (evbuffer_add(t->plain, buf, (size_t)n) != 0)
				t->failed = true;
			continue;
		}
		int err = SSL_get_error(t->ssl, n);
		if (err == SSL_ERROR_ZERO_RETURN || (err == SSL_ERROR_WANT_READ && t->raw_ended))
			t->ended = true;
		else if (err != SSL_ERROR_WANT_READ)
			t->failed = true;
		break;
	}
	/* Reading may answer (a key update). */
	flush_out(t);
}

/* Moves the handshake on, or decrypts and hands the owner what it may take. */
static void pump(struct tls_stream *t)
{
	enter(t);
	if (!t->handshaken && t->on_handshake != NULL)
		step_handshake(t);
	if (t->handshaken && !t->closing) {
		/* OpenSSL may hold more than one batch: on while the owner takes them. */
		for (;;) {
			read_plain(t);
			size_t held = evbuffer_get_length(t->plain);
			if (t->paused || t->reported || t->closing || held == 0 ||
			    t->cbs.on_data == NULL)
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
	}
	leave(t);
}

static void raw_data(void *arg, struct exposr_stream *raw, struct evbuffer *data)
{
	(void)raw;
	struct tls_stream *t = arg;
	size_t len;
	while ((len = evbuffer_get_length(data)) > 0) {
		size_t chunk = len < TLS_CHUNK ? len : TLS_CHUNK;
		int n = BIO_write(t->rbio, evbuffer_pullup(data, (ssize_t)chunk), (int)chunk);
		if (n <= 0) {
			t->failed = true;
			evbuffer_drain(data, len);
			break;
		}
		evbuffer_drain(data, (size_t)n);
	}
	pump(t);
}

static void raw_drained(void *arg, struct exposr_stream *raw)
{
	(void)raw;
	struct tls_stream *t = arg;
	if (!t->handshaken || t->reported || t->closing || t->cbs.on_drained == NULL)
		return;
	enter(t);
	t->cbs.on_drained(t->arg, &t->base);
	leave(t);
}

static void raw_closed(void *arg, struct exposr_stream *raw, bool error)
{
	(void)raw;
	struct tls_stream *t = arg;
	t->raw_ended = true;
	t->failed = t->failed || error;
	pump(t);
}

static const struct exposr_stream_callbacks raw_callbacks = {
        .on_data = raw_data,
        .on_drained = raw_drained,
        .on_closed = raw_closed,
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
		pump(t);
}

static int tls_write(struct exposr_stream *stream, struct evbuffer *data)
{
	struct tls_stream *t = tls_of(stream);
	size_t len;
	while (!t->failed && !t->closing && t->handshaken &&
	       (len = evbuffer_get_length(data)) > 0) {
		size_t chunk = len < TLS_CHUNK ? len : TLS_CHUNK;
		ERR_clear_error();
		int n = SSL_write(t->ssl, evbuffer_pullup(data, (ssize_t)chunk), (int)chunk);
		if (n <= 0) {
			t->failed = true;
			break;
		}
		evbuffer_drain(data, (size_t)n);
		flush_out(t);
	}
	if (evbuffer_get_length(data) == 0)
		return EXPOSR_OK;
	evbuffer_drain(data, evbuffer_get_length(data));
	return EXPOSR_ERROR;
}

static size_t tls_output_length(struct exposr_stream *stream)
{
	struct tls_stream *t = tls_of(stream);
	return t->raw->vt->output_length(t->raw);
}

static void tls_set_low_water(struct exposr_stream *stream, size_t bytes)
{
	struct tls_stream *t = tls_of(stream);
	t->raw->vt->set_low_water(t->raw, bytes);
}

static void tls_pause_read(struct exposr_stream *stream)
{
	struct tls_stream *t = tls_of(stream);
	t->paused = true;
	t->raw->vt->pause_read(t->raw);
}

static void tls_resume_read(struct exposr_stream *stream)
{
	struct tls_stream *t = tls_of(stream);
	if (!t->paused || t->closing)
		return;
	t->paused = false;
	t->raw->vt->resume_read(t->raw);
	if (t->depth == 0)
		pump(t);
}

static void tls_close(struct exposr_stream *stream)
{
	struct tls_stream *t = tls_of(stream);
	if (t->closing)
		return;
	t->closing = true;
	t->cbs = (struct exposr_stream_callbacks){0};
	t->on_handshake = NULL;
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

struct exposr_stream *tls_stream_new(struct exposr_stream *raw, SSL_CTX *ctx,
                                     void (*on_handshake)(void *arg, bool ok), void *arg)
{
	struct tls_stream *t = calloc(1, sizeof(*t));
	if (t == NULL)
		return NULL;
	t->base.vt = &tls_vtable;
	t->raw = raw;
	t->on_handshake = on_handshake;
	t->handshake_arg = arg;
	if ((t->ssl = SSL_new(ctx)) == NULL || (t->rbio = BIO_new(BIO_s_mem())) == NULL ||
	    (t->wbio = BIO_new(BIO_s_mem())) == NULL || (t->plain = evbuffer_new()) == NULL ||
	    (t->out = evbuffer_new()) == NULL) {
		BIO_free(t->rbio);
		BIO_free(t->wbio);
		SSL_free(t->ssl);
		if (t->plain != NULL)
			evbuffer_free(t->plain);
		free(t);
		return NULL;
	}
	/* An empty memory BIO means "wait for more", not the end. */
	BIO_set_mem_eof_return(t->rbio, -1);
	SSL_set_bio(t->ssl, t->rbio, t->wbio);
	SSL_set_accept_state(t->ssl);
	raw->vt->set_callbacks(raw, &raw_callbacks, t);
	return &t->base;
}
