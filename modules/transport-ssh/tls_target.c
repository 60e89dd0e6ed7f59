/* The client side of TLS to a target: the names to send and check, and the log line when
 * it fails; lib/tls carries the bytes. */
#include "tls_target.h"

#include <arpa/inet.h>
#include <string.h>

#include <openssl/ssl.h>

#include "tls_stream.h"

bool tls_scheme(const char *scheme)
{
	return strcmp(scheme, "https") == 0 || strcmp(scheme, "wss") == 0 ||
	       strcmp(scheme, "tls") == 0 || strcmp(scheme, "tcps") == 0;
}

static void on_error(void *arg, const char *what, const char *reason)
{
	struct ssh_module *sm = arg;
	ssh_log(sm, EXPOSR_LOG_INFO, "TLS to the target failed (%s): %s", what, reason);
}

static SSL *client_ssl(struct ssh_module *sm, const char *host)
{
	SSL_CTX *ctx = ssh_module_tls(sm);
	SSL *ssl = ctx != NULL ? SSL_new(ctx) : NULL;
	if (ssl == NULL)
		return NULL;
	unsigned char addr[16];
	bool literal = inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1;
	/* SNI names hosts, never addresses (RFC 6066 §3). */
	if ((!literal && SSL_set_tlsext_host_name(ssl, host) != 1) ||
	    (!sm->allow_insecure_target && SSL_set1_host(ssl, host) != 1)) {
		SSL_free(ssl);
		return NULL;
	}
	SSL_set_connect_state(ssl);
	return ssl;
}

struct exposr_stream *tls_target_stream(struct ssh_module *sm, struct exposr_stream *inner,
                                        const char *host)
{
	SSL *ssl = client_ssl(sm, host);
	const struct tls_stream_events events = {.on_error = on_error, .arg = sm};
	struct exposr_stream *tls =
	        ssl != NULL ? tls_stream_new(sm->host->event_base(), inner, ssl, &events) : NULL;
	if (tls == NULL)
		inner->vt->close(inner);
	return tls;
}
