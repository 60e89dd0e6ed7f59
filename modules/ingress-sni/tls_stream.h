/* The server's side of TLS over the client's socket stream (tls_stream.c). */
#ifndef EXPOSR_INGRESS_SNI_TLS_STREAM_H
#define EXPOSR_INGRESS_SNI_TLS_STREAM_H

#include <exposr/stream.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

/* Takes `raw` on success (NULL: still the caller's). The handshake runs on what raw
 * delivers; `on_handshake` runs once with its outcome, then the stream carries the
 * plain bytes. A failed stream must still be closed. */
struct exposr_stream *tls_stream_new(struct exposr_stream *raw, SSL_CTX *ctx,
                                     void (*on_handshake)(void *arg, bool ok), void *arg);

#endif
