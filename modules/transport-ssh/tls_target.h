/* TLS to https, wss, tls and tcps targets (docs/ssh.md §7.4): a plain SSH client cannot
 * speak TLS to the target, so the server does, through the forwarded channel. */
#ifndef EXPOSR_SSH_TLS_TARGET_H
#define EXPOSR_SSH_TLS_TARGET_H

#include <stdbool.h>

#include <exposr/stream.h>

#include "ssh_module.h"

/* Whether a target URL scheme needs TLS from the server. */
bool tls_scheme(const char *scheme);

/* A stream that carries plaintext for its user and TLS (SNI and, unless the module
 * allows insecure targets, certificate and name checks for `host`) on `inner`, which it
 * takes. NULL on failure (`inner` is closed then). */
struct exposr_stream *tls_target_stream(struct ssh_module *sm, struct exposr_stream *inner,
                                        const char *host);

#endif
