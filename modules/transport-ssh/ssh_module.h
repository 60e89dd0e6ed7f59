/* The transport-ssh module's state, shared by the listener, the connections and the
 * descriptor. */
#ifndef EXPOSR_SSH_MODULE_H
#define EXPOSR_SSH_MODULE_H

#include <libssh/libssh.h>
#include <libssh/server.h>
#include <sys/queue.h>

#include <exposr/host.h>

/* "SHA256:" and 43 base64 characters, with room to spare. */
#define SSH_FINGERPRINT_SIZE 128

struct ssh_conn;
struct evconnlistener;
struct ssl_ctx_st;

struct ssh_module {
	const struct exposr_host *host;
	struct exposr_module_handle *mod;
	long port;
	const char *bind_address;   /* NULL: every address */
	char public_host[256];      /* from `host`; "" means the API request's host */
	long public_port;           /* the port of `host`, else `port` */
	bool allow_insecure_target; /* TLS targets are not verified */
	long keepalive_ms;          /* keep-alive interval (docs/ssh.md §7.2: 15 s) */
	long login_timeout_ms;      /* time a client gets to authenticate */
	ssh_bind bind;              /* holds the host key; sockets come from `listener` */
	char fingerprint[SSH_FINGERPRINT_SIZE];
	struct evconnlistener *listener;
	struct ssl_ctx_st *tls; /* client context for https/wss/tls/tcps targets */
	LIST_HEAD(, ssh_conn) conns;
	bool stopping;
	bool drain_pending; /* stop() answered EXPOSR_AGAIN: report drained later */
	struct exposr_metric *conns_open;
	struct exposr_metric *channels_open;
};

/* The TLS client context for targets, made when first needed; NULL on failure. */
struct ssl_ctx_st *ssh_module_tls(struct ssh_module *sm);

/* Reports drained once stopping and no connection is left. */
void ssh_module_check_drained(struct ssh_module *sm);

#define ssh_log(sm, level, ...) (sm)->host->log((sm)->mod, (level), __VA_ARGS__)

#endif
