/* Outgoing connections (see net.h). */
#include "net.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/dns.h>
#include <openssl/x509v3.h>

#include "client_log.h"
#include "monotonic.h"

#define DNS_CACHE_MS 60000
#define DNS_RETRY_MS 5000

SSL_CTX *net_tls_context(bool verify)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	if (ctx == NULL)
		return NULL;
	if (verify) {
		if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
			SSL_CTX_free(ctx);
			return NULL;
		}
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	} else {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	}
	return ctx;
}

/* Takes one of the answers (evdns's evutil_addrinfo is the system's addrinfo). IPv4
 * first: "localhost" often lists ::1 first, and a local service listening on 127.0.0.1 or
 * 0.0.0.0 (most do) would then refuse the connection. */
static void take_address(struct net_target *t, const struct addrinfo *res)
{
	const struct addrinfo *pick = res;
	for (const struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
		if (ai->ai_family == AF_INET) {
			pick = ai;
			break;
		}
	}
	memcpy(&t->addr, pick->ai_addr, pick->ai_addrlen);
	t->addr_len = pick->ai_addrlen;
	t->next_lookup_ms = monotonic_ms() + DNS_CACHE_MS;
}

static const struct addrinfo lookup_hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};

int net_target_set(struct net_target *t, const char *host, int port, char *err, size_t errlen)
{
	net_target_cancel(t);
	if (snprintf(t->host, sizeof(t->host), "%s", host) >= (int)sizeof(t->host)) {
		snprintf(err, errlen, "host name too long: %s", host);
		return -1;
	}
	t->port = port;
	struct addrinfo *res = NULL;
	char port_text[8];
	snprintf(port_text, sizeof(port_text), "%d", port);
	int r = getaddrinfo(t->host, port_text, &lookup_hints, &res);
	if (r != 0) {
		snprintf(err, errlen, "cannot resolve %s: %s", t->host, gai_strerror(r));
		return -1;
	}
	take_address(t, res);
	freeaddrinfo(res);
	return 0;
}

/* One refresh. evdns calls back even after a cancel, later, from the loop: the target is
 * detached then, and may meanwhile have a new lookup of its own. */
struct net_lookup {
	struct net_target *t; /* NULL once cancelled */
	struct evdns_getaddrinfo_request *req;
};

static void on_lookup(int result, struct evutil_addrinfo *res, void *arg)
{
	struct net_lookup *l = arg;
	struct net_target *t = l->t;
	free(l);
	if (t == NULL) {
		if (res != NULL)
			evutil_freeaddrinfo(res);
		return;
	}
	t->lookup = NULL;
	if (result != 0) {
		log_msg(LOG_WARN, "cannot resolve %s again: %s; keeping its last address", t->host,
		        evutil_gai_strerror(result));
		t->next_lookup_ms = monotonic_ms() + DNS_RETRY_MS;
		return;
	}
	take_address(t, res);
	evutil_freeaddrinfo(res);
}

void net_target_refresh(struct net_target *t, uint64_t now_ms)
{
	if (t->dns == NULL || t->lookup != NULL || now_ms < t->next_lookup_ms)
		return;
	struct net_lookup *l = malloc(sizeof(*l));
	if (l == NULL)
		return; /* tried again at the next refresh */
	l->t = t;
	t->lookup = l;
	char port[8];
	snprintf(port, sizeof(port), "%d", t->port);
	struct evdns_getaddrinfo_request *req =
	        evdns_getaddrinfo(t->dns, t->host, port, &lookup_hints, on_lookup, l);
	/* NULL: answered at once (an address, /etc/hosts) or failed; on_lookup has run and
	 * freed l. */
	if (req != NULL)
		l->req = req;
}

void net_target_cancel(struct net_target *t)
{
	struct net_lookup *l = t->lookup;
	if (l == NULL)
		return;
	t->lookup = NULL;
	l->t = NULL;
	evdns_getaddrinfo_cancel(l->req);
}

static bool is_ip_literal(const char *host)
{
	unsigned char buf[sizeof(struct in6_addr)];
	return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

static SSL *new_ssl(const struct net_target *t)
{
	SSL *ssl = SSL_new(t->tls);
	if (ssl == NULL)
		return NULL;
	int ok;
	if (is_ip_literal(t->host)) {
		X509_VERIFY_PARAM *param = SSL_get0_param(ssl);
		ok = X509_VERIFY_PARAM_set1_ip_asc(param, t->host);
	} else {
		ok = SSL_set_tlsext_host_name(ssl, t->host) && SSL_set1_host(ssl, t->host);
	}
	if (!ok) {
		SSL_free(ssl);
		return NULL;
	}
	return ssl;
}

struct bufferevent *net_connect(struct event_base *base, const struct net_target *t)
{
	struct bufferevent *bev;
	if (t->tls != NULL) {
		SSL *ssl = new_ssl(t);
		if (ssl == NULL)
			return NULL;
		bev = bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_CONNECTING,
		                                     BEV_OPT_CLOSE_ON_FREE);
		if (bev == NULL) {
			SSL_free(ssl);
			return NULL;
		}
	} else {
		bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
		if (bev == NULL)
			return NULL;
	}
	if (bufferevent_socket_connect(bev, (const struct sockaddr *)&t->addr, (int)t->addr_len) !=
	    0) {
		bufferevent_free(bev);
		return NULL;
	}
	int one = 1;
	setsockopt(bufferevent_getfd(bev), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return bev;
}
