/* TLS handshakes per second against the SNI ingress: one connection at a time, each a
 * full handshake (no resumption) with the given server name, closed at once. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/ssl.h>

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* 0 after a verified handshake. */
static int one_handshake(SSL_CTX *ctx, const struct sockaddr_in *addr, const char *name)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1, rc = -1;
	if (fd < 0)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	SSL *ssl = NULL;
	if (connect(fd, (const struct sockaddr *)addr, sizeof(*addr)) == 0 &&
	    (ssl = SSL_new(ctx)) != NULL && SSL_set_tlsext_host_name(ssl, name) == 1 &&
	    SSL_set1_host(ssl, name) == 1 && SSL_set_fd(ssl, fd) == 1 && SSL_connect(ssl) == 1) {
		SSL_shutdown(ssl);
		rc = 0;
	}
	SSL_free(ssl);
	close(fd);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: tls_handshakes PORT SERVERNAME CAFILE SECONDS\n");
		return 2;
	}
	struct sockaddr_in addr = {.sin_family = AF_INET,
	                           .sin_port = htons((uint16_t)atoi(argv[1]))};
	inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
	double duration = atof(argv[4]);
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	if (ctx == NULL || SSL_CTX_load_verify_locations(ctx, argv[3], NULL) != 1) {
		fprintf(stderr, "tls_handshakes: cannot load %s\n", argv[3]);
		return 1;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	unsigned long done = 0, failed = 0;
	double start = now_s(), end = start + duration;
	while (now_s() < end) {
		if (one_handshake(ctx, &addr, argv[2]) == 0)
			done++;
		else if (++failed > 10)
			break;
	}
	double elapsed = now_s() - start;
	SSL_CTX_free(ctx);
	printf("handshakes=%lu failed=%lu per_s=%.1f\n", done, failed, done / elapsed);
	return failed > 0 ? 1 : 0;
}
