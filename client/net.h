/* Outgoing connections of the client: to the server (API and websockets) and to the
 * target, plain TCP or TLS (verified against the system's CAs unless told not to). */
#ifndef EXPOSR_CLIENT_NET_H
#define EXPOSR_CLIENT_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <openssl/ssl.h>

struct bufferevent;
struct event_base;

struct net_target {
	struct sockaddr_storage addr;
	socklen_t addr_len;
	uint64_t resolved_at_ms;
	SSL_CTX *tls; /* NULL: plain TCP */
	char host[256];
	int port;
	bool count_http; /* an http(s) target: the multiplexer counts the requests it carries */
};

/* A client TLS context; `verify` checks the peer's chain and name. NULL on failure. */
SSL_CTX *net_tls_context(bool verify);

/* Sets host and port and resolves them (getaddrinfo, first address). 0, or -1 with a
 * message in err. */
int net_target_set(struct net_target *t, const char *host, int port, char *err, size_t errlen);

/* Resolves again when the address is older than a minute, as the exposr client caches
 * DNS answers for 60 s; keeps the old address if that fails. */
void net_target_refresh(struct net_target *t, uint64_t now_ms);

/* Starts connecting to `t`: a socket bufferevent (TCP_NODELAY), or TLS over one with the
 * host name as SNI (not for IP literals) and as the name to verify. NULL on failure. */
struct bufferevent *net_connect(struct event_base *base, const struct net_target *t);

#endif
