/* The tunnel service of the core: tunnel configuration records (cJSON objects in the
 * stored form of docs/storage.md §8.1, merged with defaults, valid during the callback),
 * connection tokens, alt-names, and the in-memory connection state of §8.2 through
 * which ingresses reach a tunnel's client. */
#ifndef EXPOSR_TUNNELS_H
#define EXPOSR_TUNNELS_H

#include "accounts.h"
#include "transport.h"

/* What the service knows about a tunnel's connections (cluster-wide view). Times are
 * epoch milliseconds, 0 when unknown. */
struct exposr_tunnel_state {
	bool connected;
	unsigned connections; /* alive connections */
	int64_t connected_at;
	int64_t disconnected_at;
	int64_t alive_at;
};

/* Where an ingress reaches a tunnel (docs/cluster.md §8.2, §8.6): through open_stream() on
 * this node, or by connecting to the ingress port of the node that holds a connection. */
#define EXPOSR_NODE_ID_LEN  40
#define EXPOSR_ROUTE_IP_MAX 64
struct exposr_tunnel_route {
	bool local;
	char node_id[EXPOSR_NODE_ID_LEN + 1]; /* remote only */
	char ip[EXPOSR_ROUTE_IP_MAX];         /* remote only: the node's learned address */
};

/* How reach() gets to a tunnel that is connected on other nodes only (docs/cluster.md
 * §8.6): it connects to `port` of the owning node, the caller's own ingress port, which
 * every node shares, and sends `replay` (the bytes the caller already read from its
 * client, such as a TLS ClientHello; NULL when none) before anything else. */
struct exposr_reach_options {
	int port;
	const void *replay;
	size_t replay_len;
};

/* status EXPOSR_OK with the stream (the caller owns it); `remote`: it leads to another
 * node's ingress rather than to a client of this one. */
typedef void (*exposr_reach_cb)(void *arg, int status, struct exposr_stream *stream, bool remote);

/* One transport connection as the admin API lists it (docs/api.md §3.2); times are
 * epoch milliseconds, 0 when unknown. */
struct exposr_tunnel_connection_info {
	const char *connection_id; /* "<node id>:<uuid>" */
	const char *node_id;
	const char *peer;
	bool connected;
	int64_t connected_at, disconnected_at, alive_at;
};

/* One transport connection as registered with the service. */
struct exposr_tunnel_conn;

/* status: EXPOSR_OK with the owning account id, EXPOSR_NOT_FOUND (no tunnel),
 * EXPOSR_DECLINED (wrong token, account missing or disabled), EXPOSR_ERROR (storage). */
typedef void (*exposr_authorize_cb)(void *arg, int status, const char *account_id);
/* status: EXPOSR_OK with the tunnel id, EXPOSR_NOT_FOUND. */
typedef void (*exposr_lookup_cb)(void *arg, int status, const char *tunnel_id);
/* Edits the record in place; any status other than EXPOSR_OK aborts the update and
 * is passed to the update's callback. */
typedef int (*exposr_tunnel_apply_fn)(void *arg, struct cJSON *record);

struct exposr_tunnel_api {
	size_t size;
	/* docs/api.md §1.1's regular expression. */
	bool (*valid_id)(const char *id);
	/* Server-wide --transport-max-connections. */
	unsigned (*max_connections)(void);

	/* EXPOSR_OK, or EXPOSR_EXISTS when the id is taken (by anyone). Adds the id to
	 * the account's list. */
	void (*create)(const char *tunnel_id, const char *account_id, exposr_done_cb cb, void *arg);
	void (*get)(const char *tunnel_id, exposr_record_cb cb, void *arg);
	/* Read-modify-write under the tunnel's lock; sets updated_at. */
	void (*update)(const char *tunnel_id, exposr_tunnel_apply_fn apply, void *apply_arg,
	               exposr_record_cb cb, void *arg);
	/* Disconnects, releases the alt-names, deletes the record and removes it from
	 * the account. EXPOSR_NOT_FOUND if absent. */
	void (*remove)(const char *tunnel_id, exposr_done_cb cb, void *arg);
	void (*list)(const char *cursor, size_t count, exposr_page_cb cb, void *arg);

	/* Checks a connection token in constant time and, when it matches, replaces it
	 * with a fresh one before answering (one token, one connection). */
	void (*authorize)(const char *tunnel_id, const char *token, exposr_authorize_cb cb,
	                  void *arg);

	/* Alt-names of the HTTP ingress (service "http"): claims `names` for the tunnel
	 * (create-if-absent) and releases the tunnel's names not in the list.
	 * status EXPOSR_EXISTS: a name is held by another tunnel; its name is passed as
	 * `conflict` and nothing was changed. */
	void (*set_alt_names)(const char *tunnel_id, const char *const *names, size_t count,
	                      void (*cb)(void *arg, int status, const char *conflict), void *arg);
	void (*lookup_alt_name)(const char *service, const char *name, exposr_lookup_cb cb,
	                        void *arg);

	/* Connection state. add() refuses (NULL) when the tunnel already has
	 * max_connections alive connections or the server is shutting down. */
	struct exposr_tunnel_conn *(*connection_add)(const char *tunnel_id, const char *peer,
	                                             const struct exposr_transport_conn_vtable *vt,
	                                             void *conn);
	void (*connection_remove)(struct exposr_tunnel_conn *c);
	void (*state)(const char *tunnel_id, struct exposr_tunnel_state *out);
	/* Closes every connection of the tunnel: this node's at once, the other nodes'
	 * through a tunnel:disconnect message (docs/api.md §2.6, docs/cluster.md §8.2). cb gets
	 * EXPOSR_OK once none is alive anywhere as far as this node knows, EXPOSR_ERROR when one
	 * still is after 500 ms per connection that was alive. */
	void (*disconnect)(const char *tunnel_id, enum exposr_disconnect_reason reason,
	                   exposr_done_cb cb, void *arg);
	/* Opens a channel on one of the tunnel's local connections (round-robin). Returns
	 * a cancel token, or NULL when cb already ran: EXPOSR_NOT_FOUND (not connected),
	 * EXPOSR_DECLINED (connected on other nodes only: reach() gets there), EXPOSR_AGAIN (out
	 * of channels), EXPOSR_ERROR. */
	void *(*open_stream)(const char *tunnel_id, exposr_channel_cb cb, void *arg);
	void (*cancel_open)(void *token);

	/* Where the tunnel is reachable: a local connection first, else the node of a
	 * remote connected one, chosen round-robin among nodes that are known and not
	 * stale. EXPOSR_OK (out filled); EXPOSR_NOT_FOUND: connected nowhere;
	 * EXPOSR_ERROR: connected only through nodes that are unknown or stale (the
	 * ingress answers 502 TUNNEL_TARGET_CON_FAILED). */
	int (*route)(const char *tunnel_id, struct exposr_tunnel_route *out);

	/* Calls `fn` for every connection of the tunnel this node knows, its own and the
	 * other nodes', also disconnected ones not yet forgotten (§8.2). */
	void (*connections)(const char *tunnel_id,
	                    void (*fn)(void *arg, const struct exposr_tunnel_connection_info *c),
	                    void *arg);

	/* ABI 1.2. A stream to the tunnel wherever it is connected: a channel of one of
	 * this node's connections (round-robin), else a connection to a node that holds
	 * one (as route() chooses). Returns a cancel token for cancel_reach(), or NULL
	 * when cb already ran with an error:
	 * EXPOSR_NOT_FOUND: connected nowhere, as far as this node knows (also a tunnel
	 * that does not exist); EXPOSR_UNREACHABLE: connected only on nodes that are
	 * unknown, stale or did not accept the connection within 5 s; EXPOSR_AGAIN: the
	 * local connection is out of channels; EXPOSR_ERROR: the channel failed. */
	void *(*reach)(const char *tunnel_id, const struct exposr_reach_options *opts,
	               exposr_reach_cb cb, void *arg);
	void (*cancel_reach)(void *token);

	/* ABI 1.3. reach() on behalf of the public client at `origin` (NULL: unknown), which
	 * a local channel names when its transport can (docs/ssh.md §7.4). Cancelled with
	 * cancel_reach(). */
	void *(*reach_from)(const char *tunnel_id, const struct exposr_reach_options *opts,
	                    const struct exposr_origin *origin, exposr_reach_cb cb, void *arg);
};

#endif
