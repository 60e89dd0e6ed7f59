/* Outgoing connections (see net.h). */
#include "net.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/x509v3.h>

#include "monotonic.h"

#define DNS_CACHE_MS 60000

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

static int resolve(struct net_target *t, char *err, size_t errlen)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
	struct addrinfo *res = NULL;
	char port[8];
	snprintf(port, sizeof(port), "%d", t->port);
	int r = getaddrinfo(t->host, port, &hints, &res);
	if (r != 0) {
		snprintf(err, errlen, "cannot resolve %s: %s", t->host, gai_strerror(r));
		return -1;
	}
	/* IPv4 first: "localhost" often lists ::1 first, and a local service listening on
	 * 127.0.0.1 or 0.0.0.0 (most do) would then refuse the connection. */
	const struct addrinfo *pick = res;
	for (const struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
		if (ai->ai_family == AF_INET) {
			pick = ai;
			break;
		}
	}
	memcpy(&t->addr, pick->ai_addr, pick->ai_addrlen);
	t->addr_len = pick->ai_addrlen;
	t->resolved_at_ms = monotonic_ms();
	freeaddrinfo(res);
	return 0;
}

int net_target_set(struct net_target *t, const char *host, int port, char *err, size_t errlen)
{
	if (snprintf(t->host, sizeof(t->host), "%s", host) >= (int)sizeof(t->host)) {
		snprintf(err, errlen, "host name too long: %s", host);
		return -1;
	}
	t->port = port;
	return resolve(t, err, errlen);
}

void net_target_refresh(struct net_target *t, uint64_t now_ms)
{
	char err[256];
	if (now_ms - t->resolved_at_ms >= DNS_CACHE_MS)
		resolve(t, err, sizeof(err));
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
