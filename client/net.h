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
struct evdns_base;
struct net_lookup;

struct net_target {
	struct sockaddr_storage addr;
	socklen_t addr_len;
	uint64_t next_lookup_ms;   /* when net_target_refresh looks the name up again */
	struct evdns_base *dns;    /* for refreshes; NULL: the address is never refreshed */
	struct net_lookup *lookup; /* a refresh under way */
	SSL_CTX *tls;              /* NULL: plain TCP */
	char host[256];
	int port;
	bool count_http; /* an http(s) target: the multiplexer counts the requests it carries */
};

/* A client TLS context; `verify` checks the peer's chain and name. NULL on failure. */
SSL_CTX *net_tls_context(bool verify);

/* Sets host and port and resolves them with getaddrinfo, which blocks: for start-up and
 * a server that moved, not for the traffic path. Cancels a refresh under way. 0, or -1
 * with a message in err. */
int net_target_set(struct net_target *t, const char *host, int port, char *err, size_t errlen);

/* Looks the name up again through t->dns once the address is a minute old, as the exposr
 * client caches DNS answers for 60 s. Never blocks: connections keep the old address until
 * the answer comes, and keep it if the lookup fails (tried again 5 s later). */
void net_target_refresh(struct net_target *t, uint64_t now_ms);

/* Cancels a refresh under way. evdns reports the cancellation from the loop: run the
 * loop once (EVLOOP_NONBLOCK) before the evdns base goes, or that report leaks. */
void net_target_cancel(struct net_target *t);

/* Starts connecting to `t`: a socket bufferevent (TCP_NODELAY), or TLS over one with the
 * host name as SNI (not for IP literals) and as the name to verify. NULL on failure. */
struct bufferevent *net_connect(struct event_base *base, const struct net_target *t);

#endif
