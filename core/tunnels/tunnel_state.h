/* This node's connection state of docs/cluster.md §8.2: the transport connections of each
 * tunnel, the derived connected/alive state, round-robin choice for new streams,
 * disconnecting, and ageing of what has gone away. */
#ifndef EXPOSR_CORE_TUNNEL_STATE_H
#define EXPOSR_CORE_TUNNEL_STATE_H

#include <exposr/tunnels.h>

#include "ids.h"

#define TUNNEL_STATE_SWEEP_MS           10000  /* ageing and alive_at refresh */
#define TUNNEL_STATE_CONN_FORGET_MS     60000  /* a disconnected connection */
#define TUNNEL_STATE_TUNNEL_FORGET_MS   300000 /* a tunnel left without connections */
#define TUNNEL_STATE_DISCONNECT_WAIT_MS 500    /* per connection still alive */
#define TUNNEL_STATE_REMOTE_TIMEOUT_MS  15000  /* a remote connection not re-announced */

void tunnel_state_set_max_connections(unsigned max);
unsigned tunnel_state_max_connections(void);

/* The tunnel API's connection_add/remove, state, disconnect, open_stream and
 * cancel_open.
 *
 * What transports must hold to: after connection_remove(c) the handle is gone; an
 * open_channel still pending then is cancelled through the vtable and its caller
 * gets EXPOSR_ERROR, so a transport fails or finishes its own opens first or lets
 * them be cancelled; connection_remove is never called from inside open_channel. */
struct exposr_tunnel_conn *tunnel_state_add(const char *tunnel_id, const char *peer,
                                            const struct exposr_transport_conn_vtable *vt,
                                            void *conn);
void tunnel_state_remove(struct exposr_tunnel_conn *c);
void tunnel_state_get(const char *tunnel_id, struct exposr_tunnel_state *out);
/* Asks the local connections to close. cb: EXPOSR_OK once no connection of the tunnel
 * is alive cluster-wide (remote ones go when their node announces it), EXPOSR_ERROR
 * when one still is after TUNNEL_STATE_DISCONNECT_WAIT_MS per connection alive at
 * the start. */
void tunnel_state_disconnect(const char *tunnel_id, enum exposr_disconnect_reason reason,
                             exposr_done_cb cb, void *arg);
/* Asks every local connection of the tunnel to close, without waiting. */
void tunnel_state_kick(const char *tunnel_id, enum exposr_disconnect_reason reason);
/* The same for the local connections not asked before (a tunnel:disconnect message:
 * those this node already closes keep the reason they were given). */
void tunnel_state_kick_new(const char *tunnel_id, enum exposr_disconnect_reason reason);
void tunnel_state_connections(const char *tunnel_id,
                              void (*fn)(void *arg, const struct exposr_tunnel_connection_info *c),
                              void *arg);
void *tunnel_state_open_stream(const char *tunnel_id, exposr_channel_cb cb, void *arg);
/* open_stream for the public client at `origin` (NULL: unknown), through the transport's
 * open_channel_from when it has one. */
void *tunnel_state_open_stream_from(const char *tunnel_id, const struct exposr_origin *origin,
                                    exposr_channel_cb cb, void *arg);
void tunnel_state_cancel_open(void *token);

const char *tunnel_state_connection_id(const struct exposr_tunnel_conn *c);
/* Ageing as the 10 s timer does it, at time `now_ms` (exposed for tests). */
void tunnel_state_sweep(int64_t now_ms);
/* Tunnels with an entry (tests). */
size_t tunnel_state_count(void);

/* ---- the cluster's view (tunnel_state_remote.c) ---- */

/* Called after a local connection of the tunnel came or went (an announcement is due). */
void tunnel_state_on_local_change(void (*fn)(const char *tunnel_id));

/* A connection as an announcement carries it (docs/cluster.md §8.3). */
struct tunnel_conn_view {
	const char *connection_id;
	const char *node;
	const char *peer;
	bool connected;
	int64_t connected_at, disconnected_at; /* 0: absent */
};

/* Node `node_id` announced its connections of the tunnel: what was known of that node's
 * connections there is replaced (docs/cluster.md §8.2 "Learning"). Views whose ids do not
 * fit a connection id or whose node is not `node_id` are skipped. */
int tunnel_state_learn(const char *tunnel_id, const char *node_id,
                       const struct tunnel_conn_view *conns, size_t count, int64_t now);
/* Calls `fn` with the id of every tunnel that has local connections, connected or not
 * yet forgotten; `fn` must not change the state. */
void tunnel_state_each_local(void (*fn)(void *arg, const char *tunnel_id), void *arg);
/* Calls `fn` for every local connection of the tunnel; returns how many there were. */
size_t tunnel_state_local_conns(const char *tunnel_id,
                                void (*fn)(void *arg, const struct tunnel_conn_view *c), void *arg);
/* A local connected connection (*local set), else the node id of a remote connected one
 * whose node `usable` accepts, round-robin. EXPOSR_OK; EXPOSR_NOT_FOUND: none connected;
 * EXPOSR_ERROR: only remote ones on nodes that are not usable. */
int tunnel_state_route(const char *tunnel_id, bool (*usable)(const char *node_id), bool *local,
                       char node_id[IDS_NODE_ID_LEN + 1]);

/* Refuses new connections and asks every local one to close (shutdown). */
void tunnel_state_shutdown(void);
/* Forgets everything without calling anyone back. */
void tunnel_state_free(void);

#endif
