/* One SSH transport connection: a libssh session on an accepted socket, driven by the
 * core's event loop; its authentication, forwards, sessions and forwarded channels. */
#ifndef EXPOSR_SSH_CONN_H
#define EXPOSR_SSH_CONN_H

#include <event2/util.h>
#include <sys/queue.h>

#include "ssh_module.h"

struct event;
struct fwd_chan;
struct sess_chan;

/* Ids are at most 65 characters, tokens 86. */
#define SSH_TUNNEL_ID_SIZE 128
#define SSH_PEER_SIZE      64
#define SSH_BIND_ADDR_SIZE 256

enum ssh_conn_phase {
	CONN_KEX,    /* key exchange */
	CONN_AUTH,   /* waiting for an authorised request */
	CONN_OPEN,   /* registered with the tunnel service */
	CONN_CLOSED, /* ended: freed once no asynchronous answer is outstanding */
};

/* The forward OpenSSH registered: forwarded-tcpip channels must name it exactly
 * (docs/ssh.md §7.4). */
struct ssh_forward {
	char address[SSH_BIND_ADDR_SIZE];
	long port;
	char tls_host[SSH_BIND_ADDR_SIZE]; /* the target's host when it wants TLS, else "" */
};

struct ssh_conn {
	struct ssh_module *sm;
	LIST_ENTRY(ssh_conn) link;
	ssh_session session;
	enum ssh_conn_phase phase;
	struct event *rd, *wr, *defer, *keepalive;
	char tunnel_id[SSH_TUNNEL_ID_SIZE];
	char peer[SSH_PEER_SIZE];
	struct exposr_tunnel_conn *reg;
	unsigned auth_attempts;
	bool auth_pending;    /* an authorisation is with the tunnel service */
	bool close_requested; /* Ctrl-C or EOF on a session: close from the loop */
	unsigned pending;     /* asynchronous answers outstanding (they hold the conn) */
	uint64_t accepted_ms; /* monotonic */
	uint64_t last_rx_ms;  /* monotonic: last bytes from the client */
	/* What libssh has read from the socket, counted by libssh itself: it also reads in
	 * calls made outside on_readable (flushes, keep-alives, channel reads). */
	struct ssh_counter_struct socket_counter;
	uint64_t rx_bytes_seen; /* socket_counter.in_bytes at the last keep-alive tick */
	bool has_forward;
	struct ssh_forward forward;
	LIST_HEAD(, fwd_chan) chans; /* forwarded channels the connection still drives */
	size_t nchans;
	SLIST_HEAD(, sess_chan) sessions;
	size_t nsessions;
};

extern const struct exposr_transport_conn_vtable ssh_conn_vt;

/* Serves an accepted socket; the connection owns `fd` from here on. */
void ssh_conn_accept(struct ssh_module *sm, evutil_socket_t fd, const char *peer);
/* Ends the connection: its channels, the SSH session and the registration. */
void ssh_conn_close(struct ssh_conn *c, const char *why);
/* Runs the deferred work soon (channel output, callbacks, socket flushing). */
void ssh_conn_kick(struct ssh_conn *c);
/* Closes every connection (shutdown). */
void ssh_conns_close_all(struct ssh_module *sm);
/* Frees every connection at once (module fini). */
void ssh_conns_free_all(struct ssh_module *sm);

/* fwd_chan.c: forwarded-tcpip channels as core streams. */
/* The longest numeric address an originator names (IPv6 with a zone). */
#define SSH_ORIGIN_IP_SIZE 64
/* Starts opening a channel for the core, for the public client at `origin` (NULL:
 * unknown); returns the cancel token. */
void *fwd_chan_open(struct ssh_conn *c, const struct exposr_origin *origin, exposr_channel_cb cb,
                    void *arg);
void fwd_chan_cancel(struct ssh_conn *c, void *token);
/* Moves every channel of the connection on: opens and output. True when libssh read
 * from the socket meanwhile (waiting for an open reads packets). */
bool fwd_chan_pump_all(struct ssh_conn *c);
/* The session is going: each channel ends with an error for its user. */
void fwd_chan_detach_all(struct ssh_conn *c);

/* sess_chan.c: `session` channels (docs/ssh.md §7.5). */
void sess_chan_open(struct ssh_conn *c, ssh_message msg);
/* A channel request on a session channel; true when it was one of ours. */
bool sess_chan_request(struct ssh_conn *c, ssh_message msg);
/* The session is going and frees its channels: forget them. */
void sess_chan_detach_all(struct ssh_conn *c);
/* Frees what is left once no answer is outstanding. */
void sess_chan_free_all(struct ssh_conn *c);

#endif
