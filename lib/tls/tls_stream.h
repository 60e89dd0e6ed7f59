/* TLS over another stream: ciphertext on `inner`, plaintext for the stream's owner. */
#ifndef EXPOSR_TLS_STREAM_H
#define EXPOSR_TLS_STREAM_H

#include <stdbool.h>

#include <exposr/stream.h>
#include <openssl/ssl.h>

struct event_base;

/* All optional. */
struct tls_stream_events {
	/* The handshake ended, done (ok) or failed; runs once, not after close(). */
	void (*on_handshake)(void *arg, bool ok);
	/* TLS failed: `what` is "handshake", "read" or "write", `reason` OpenSSL's words
	 * (the certificate check's when that failed); for logging: the owner still sees
	 * on_closed. */
	void (*on_error)(void *arg, const char *what, const char *reason);
	void *arg;
};

/* `ssl` is set up as server or client (SSL_set_accept_state or SSL_set_connect_state,
 * names to send or check) and taken in any case. On success the stream takes `inner`
 * too; NULL: `inner` is still the caller's. The handshake runs on what `inner` delivers;
 * what the owner writes before it is done waits. Plaintext is delivered from `base`'s
 * loop when callbacks are set or reading resumes; records OpenSSL still holds when
 * `inner` ends are delivered before on_closed. close() sends close_notify after a
 * handshake and closes `inner`. */
struct exposr_stream *tls_stream_new(struct event_base *base, struct exposr_stream *inner, SSL *ssl,
                                     const struct tls_stream_events *events);

#endif
