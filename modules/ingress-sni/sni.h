/* The SNI ingress module's shared state and the calls between its files. */
#ifndef EXPOSR_INGRESS_SNI_H
#define EXPOSR_INGRESS_SNI_H

#include <stdio.h>
#include <sys/queue.h>

#include <exposr/ingress.h>
#include <exposr/module.h>
#include <openssl/ssl.h>

struct evconnlistener;
struct sni_conn;

/* OpenSSL's names: forward-secret AEAD suites of TLS 1.2 (TLS 1.3's are all good). */
#define SNI_DEFAULT_CIPHERS                                                                        \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"                               \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"                               \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

/* A ClientHello larger than this is refused: it bounds what a handshake may buffer. */
#define SNI_MAX_HELLO (16 * 1024 + 5)
/* Longest DNS name (RFC 1035), plus its NUL. */
#define SNI_NAME_MAX 254
#define SNI_ALPN_MAX 8

struct sni_settings {
	int port;
	const char *bind;
	const char *cert_file, *key_file; /* owned by the config tree */
	char host[SNI_NAME_MAX];          /* --ingress-sni-host without its port */
	int url_port;                     /* the port tunnel URLs show */
	const char *ciphers;
	unsigned handshake_timeout_s;
	unsigned max_handshakes;
	unsigned reload_interval_s;
	/* Protocols the targets speak, offered to ALPN clients in their order. */
	const char *const *alpn;
	size_t alpn_count;
};

/* The certificate in use: a context with the pair and the TLS settings. */
struct sni_cert {
	SSL_CTX *ctx;
	char domain[SNI_NAME_MAX]; /* the wildcard's domain: tunnels are <id>.<domain> */
	/* What the files looked like when read: a change triggers a reload. */
	struct sni_file_stamp {
		long long mtime_ns, size, ino;
	} cert_stamp, key_stamp;
};

struct sni {
	const struct exposr_host *host;
	struct exposr_module_handle *mod;
	struct sni_settings settings;
	struct sni_cert cert;
	struct exposr_timer *reload_timer;
	struct evconnlistener *listener;
	LIST_HEAD(, sni_conn) conns; /* accepted, not yet spliced */
	size_t conn_count;
	size_t splice_count; /* spliced connections the core owns */
	struct exposr_metric *handshakes_gauge, *splices_gauge;
	bool stopping;
	bool drained;
};

/* module.c */
void sni_log(struct sni *s, enum exposr_log_level level, const char *fmt, ...) EXPOSR_PRINTF(3, 4);
void sni_check_drained(struct sni *s);

/* cert.c: reads the pair and builds its context; on failure writes one line to `why`. */
int sni_cert_load(const struct sni_settings *set, struct sni_cert *out, char *why, size_t why_size);
void sni_cert_free(struct sni_cert *c);
/* Whether either file changed since `c` was read. */
bool sni_cert_changed(const struct sni_settings *set, const struct sni_cert *c);
/* Takes the files as they are now as read (a bad new pair is reported once). */
void sni_cert_restamp(const struct sni_settings *set, struct sni_cert *c);

/* hello.c: the server name of a ClientHello in `data`. SNI_HELLO_MORE: incomplete;
 * SNI_HELLO_NONE: complete, without a host name; SNI_HELLO_BAD: not a TLS ClientHello. */
enum sni_hello { SNI_HELLO_NAME, SNI_HELLO_NONE, SNI_HELLO_MORE, SNI_HELLO_BAD };
enum sni_hello sni_hello_parse(const unsigned char *data, size_t len, char name[SNI_NAME_MAX]);

/* conn.c */
/* The longest numeric address of a client (IPv6 with a zone). */
#define SNI_PEER_IP_SIZE 64
/* `peer`: the client's address, NULL when unknown. */
void sni_conn_accept(struct sni *s, int fd, const struct exposr_origin *peer);
/* Stopping: closes the connections that wait for no callback. */
void sni_conns_close_idle(struct sni *s);
/* Unloading: closes every connection. */
void sni_conns_free_all(struct sni *s);

#endif
