/* A TLS client over another stream with OpenSSL memory BIOs: ciphertext from the inner
 * stream goes into the read BIO, what OpenSSL writes is moved to the inner stream. */
#include "tls_stream.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

/* Plaintext decrypted ahead of the user stops the inner stream at this size. */
#define TLS_INPUT_HIGH (256 * 1024)
#define TLS_CHUNK      16384

struct tls_stream {
	struct exposr_stream stream; /* first: what the user holds */
	struct ssh_module *sm;
	struct exposr_stream *inner;
	SSL *ssl;
	BIO *rbio, *wbio; /* owned by ssl */
	struct event *defer;
	struct exposr_stream_callbacks cbs;
	void *arg;
	bool has_cbs;
	struct evbuffer *in;      /* decrypted, not yet taken by the user */
	struct evbuffer *pending; /* written before the handshake finished */
	bool handshake_done;
	bool paused;       /* by the user */
	bool inner_paused; /* by us: `in` is full or the user paused */
	bool ended;        /* the inner stream ended or TLS failed */
	bool end_error;
	bool reported;
	unsigned depth;
	bool closed; /* the user closed: freed when depth drops to 0 */
};

static const struct exposr_stream_vtable tls_vt;
static const struct exposr_stream_callbacks inner_cbs;

bool tls_scheme(const char *scheme)
{
	return strcmp(scheme, "https") == 0 || strcmp(scheme, "wss") == 0 ||
	       strcmp(scheme, "tls") == 0 || strcmp(scheme, "tcps") == 0;
}

static struct tls_stream *tls_of(struct exposr_stream *stream)
{
	return (struct tls_stream *)stream;
}

static void tls_free(struct tls_stream *t)
{
	if (t->inner != NULL) {
		t->inner->vt->set_callbacks(t->inner, NULL, NULL);
		t->inner->vt->close(t->inner);
	}
	SSL_free(t->ssl);
	if (t->defer != NULL)
		event_free(t->defer);
	evbuffer_free(t->in);
	evbuffer_free(t->pending);
	free(t);
}

/* Moves what OpenSSL produced to the inner stream. */
static void flush_out(struct tls_stream *t)
{
	char buf[TLS_CHUNK];
	int n;
	while (t->inner != NULL && (n = BIO_read(t->wbio, buf, sizeof(buf))) > 0) {
		struct evbuffer *chunk = evbuffer_new();
		if (chunk == NULL || evbuffer_add(chunk, buf, (size_t)n) != 0 ||
		    t->inner->vt->write(t->inner, chunk) != EXPOSR_OK) {
			if (chunk != NULL)
				evbuffer_free(chunk);
			t->ended = t->end_error = true;
			return;
		}
		evbuffer_free(chunk);
	}
}

static void fail(struct tls_stream *t, const char *what)
{
	if (t->ended)
		return;
	long verify = SSL_get_verify_result(t->ssl);
	ssh_log(t->sm, EXPOSR_LOG_INFO, "TLS to the target failed (%s): %s", what,
	        verify != X509_V_OK ? X509_verify_cert_error_string(verify)
	                            : ERR_reason_error_string(ERR_peek_last_error()));
	ERR_clear_error();
	t->ended = t->end_error = true;
}

/* Plaintext from the user: written once the handshake is done. */
static void encrypt_pending(struct tls_stream *t)
{
	while (t->handshake_done && !t->ended && evbuffer_get_length(t->pending) > 0) {
		size_t len = evbuffer_get_length(t->pending);
		if (len > TLS_CHUNK)
			len = TLS_CHUNK;
		unsigned char *p = evbuffer_pullup(t->pending, (ssize_t)len);
		int n = p != NULL ? SSL_write(t->ssl, p, (int)len) : -1;
		if (n <= 0) {
			fail(t, "write");
			break;
		}
		evbuffer_drain(t->pending, (size_t)n);
	}
	flush_out(t);
}

/* Runs the handshake on and decrypts what the read BIO holds. */
static void decrypt(struct tls_stream *t)
{
	if (!t->handshake_done && !t->ended) {
		int rc = SSL_do_handshake(t->ssl);
		if (rc == 1) {
			t->handshake_done = true;
			encrypt_pending(t);
		} else if (SSL_get_error(t->ssl, rc) != SSL_ERROR_WANT_READ) {
			fail(t, "handshake");
		}
		flush_out(t);
	}
	char buf[TLS_CHUNK];
	while (t->handshake_done && !t->ended) {
		int n = SSL_read(t->ssl, buf, sizeof(buf));
		if (n > 0) {
			if (evbuffer_add(t->in, buf, (size_t)n) != 0) {
				fail(t, "memory");
				break;
			}
			continue;
		}
		int err = SSL_get_error(t->ssl, n);
		if (err == SSL_ERROR_ZERO_RETURN)
			t->ended = true; /* close_notify */
		else if (err != SSL_ERROR_WANT_READ)
			fail(t, "read");
		break;
	}
	flush_out(t); /* alerts, key updates */
}

static void update_inner_pause(struct tls_stream *t)
{
	bool want = t->paused || evbuffer_get_length(t->in) >= TLS_INPUT_HIGH;
	if (t->inner == NULL || want == t->inner_paused)
		return;
	t->inner_paused = want;
	if (want)
		t->inner->vt->pause_read(t->inner);
	else
		t->inner->vt->resume_read(t->inner);
}

/* Hands the user what waits for it; true if the stream was freed meanwhile. */
static bool deliver(struct tls_stream *t)
{
	t->depth++;
	if (t->has_cbs && !t->closed && !t->paused && evbuffer_get_length(t->in) > 0)
		t->cbs.on_data(t->arg, &t->stream, t->in);
	if (t->has_cbs && !t->closed && t->ended && !t->reported &&
	    evbuffer_get_length(t->in) == 0) {
		t->reported = true;
		t->cbs.on_closed(t->arg, &t->stream, t->end_error);
	}
	t->depth--;
	if (t->closed && t->depth == 0) {
		tls_free(t);
		return true;
	}
	update_inner_pause(t);
	return false;
}

static void on_deferred(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	deliver(arg);
}

/* Inner stream callbacks: run from the inner stream's own deferred delivery. */

static void inner_data(void *arg, struct exposr_stream *inner, struct evbuffer *data)
{
	(void)inner;
	struct tls_stream *t = arg;
	size_t len;
	while ((len = evbuffer_get_length(data)) > 0) {
		if (len > TLS_CHUNK)
			len = TLS_CHUNK;
		unsigned char *p = evbuffer_pullup(data, (ssize_t)len);
		int n = p != NULL ? BIO_write(t->rbio, p, (int)len) : -1;
		if (n <= 0) {
			fail(t, "memory");
			evbuffer_drain(data, evbuffer_get_length(data));
			break;
		}
		evbuffer_drain(data, (size_t)n);
	}
	decrypt(t);
	deliver(t);
}

static void inner_drained(void *arg, struct exposr_stream *inner)
{
	(void)inner;
	struct tls_stream *t = arg;
	if (t->has_cbs && !t->closed && !t->reported && t->cbs.on_drained != NULL) {
		t->depth++;
		t->cbs.on_drained(t->arg, &t->stream);
		t->depth--;
		if (t->closed && t->depth == 0)
			tls_free(t);
	}
}

static void inner_closed(void *arg, struct exposr_stream *inner, bool error)
{
	(void)inner;
	struct tls_stream *t = arg;
	if (!t->ended) {
		t->ended = true;
		/* A target that ends the connection without close_notify ended it anyway. */
		t->end_error = error || !t->handshake_done;
	}
	deliver(t);
}

static const struct exposr_stream_callbacks inner_cbs = {
        .on_data = inner_data,
        .on_drained = inner_drained,
        .on_closed = inner_closed,
};

struct exposr_stream *tls_stream_new(struct ssh_module *sm, struct exposr_stream *inner,
                                     const char *host)
{
	struct tls_stream *t = calloc(1, sizeof(*t));
	if (t == NULL) {
		inner->vt->close(inner);
		return NULL;
	}
	t->stream.vt = &tls_vt;
	t->sm = sm;
	t->inner = inner;
	t->in = evbuffer_new();
	t->pending = evbuffer_new();
	t->defer = event_new(sm->host->event_base(), -1, 0, on_deferred, t);
	SSL_CTX *ctx = ssh_module_tls(sm);
	t->ssl = ctx != NULL ? SSL_new(ctx) : NULL;
	t->rbio = BIO_new(BIO_s_mem());
	t->wbio = BIO_new(BIO_s_mem());
	if (t->in == NULL || t->pending == NULL || t->defer == NULL || t->ssl == NULL ||
	    t->rbio == NULL || t->wbio == NULL) {
		BIO_free(t->rbio);
		BIO_free(t->wbio);
		goto fail;
	}
	SSL_set_bio(t->ssl, t->rbio, t->wbio);
	unsigned char addr[16];
	bool literal = inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1;
	/* SNI names hosts, never addresses (RFC 6066 §3). */
	if ((!literal && SSL_set_tlsext_host_name(t->ssl, host) != 1) ||
	    (!sm->allow_insecure_target && SSL_set1_host(t->ssl, host) != 1))
		goto fail;
	SSL_set_connect_state(t->ssl);
	inner->vt->set_callbacks(inner, &inner_cbs, t);
	decrypt(t); /* the ClientHello */
	return &t->stream;
fail:
	tls_free(t);
	return NULL;
}

/* The stream vtable. */

static void tls_set_callbacks(struct exposr_stream *stream,
                              const struct exposr_stream_callbacks *cbs, void *arg)
{
	struct tls_stream *t = tls_of(stream);
	if (cbs == NULL) {
		t->has_cbs = false;
		return;
	}
	t->cbs = *cbs;
	t->arg = arg;
	t->has_cbs = cbs->on_data != NULL && cbs->on_closed != NULL;
	if (evbuffer_get_length(t->in) > 0 || t->ended)
		event_active(t->defer, 0, 0);
}

static int tls_write(struct exposr_stream *stream, struct evbuffer *data)
{
	struct tls_stream *t = tls_of(stream);
	if (t->ended || evbuffer_add_buffer(t->pending, data) != 0) {
		evbuffer_drain(data, evbuffer_get_length(data));
		return EXPOSR_ERROR;
	}
	encrypt_pending(t);
	return t->end_error ? EXPOSR_ERROR : EXPOSR_OK;
}

static size_t tls_output_length(struct exposr_stream *stream)
{
	struct tls_stream *t = tls_of(stream);
	return evbuffer_get_length(t->pending) +
	       (t->inner != NULL ? t->inner->vt->output_length(t->inner) : 0);
}

static void tls_set_low_water(struct exposr_stream *stream, size_t bytes)
{
	struct tls_stream *t = tls_of(stream);
	if (t->inner != NULL)
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
	if (!t->paused)
		return;
	t->paused = false;
	update_inner_pause(t);
	/* Delivered from the loop, not from inside the caller. */
	if (evbuffer_get_length(t->in) > 0 || t->ended)
		event_active(t->defer, 0, 0);
}

static void tls_close(struct exposr_stream *stream)
{
	struct tls_stream *t = tls_of(stream);
	t->has_cbs = false;
	if (t->handshake_done && !t->ended) {
		SSL_shutdown(t->ssl); /* close_notify; the inner stream flushes it */
		flush_out(t);
	}
	t->closed = true;
	if (t->depth == 0)
		tls_free(t);
}

static const struct exposr_stream_vtable tls_vt = {
        .size = sizeof(struct exposr_stream_vtable),
        .set_callbacks = tls_set_callbacks,
        .write = tls_write,
        .output_length = tls_output_length,
        .set_low_water = tls_set_low_water,
        .pause_read = tls_pause_read,
        .resume_read = tls_resume_read,
        .close = tls_close,
};
