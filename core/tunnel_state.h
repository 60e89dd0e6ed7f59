/* This node's connection state of protocol.md §8.2: the transport connections of each
 * tunnel, the derived connected/alive state, round-robin choice for new streams,
 * disconnecting, and ageing of what has gone away. */
#ifndef EXPOSR_CORE_TUNNEL_STATE_H
#define EXPOSR_CORE_TUNNEL_STATE_H

#include <exposr/tunnels.h>

#define TUNNEL_STATE_SWEEP_MS 10000          /* ageing and alive_at refresh */
#define TUNNEL_STATE_CONN_FORGET_MS 60000    /* a disconnected connection */
#define TUNNEL_STATE_TUNNEL_FORGET_MS 300000 /* a tunnel left without connections */
#define TUNNEL_STATE_DISCONNECT_WAIT_MS 500  /* per connection still alive */

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
/* cb: EXPOSR_OK once no local connection of the tunnel is alive, EXPOSR_ERROR when
 * some still is after waiting TUNNEL_STATE_DISCONNECT_WAIT_MS per connection. */
void tunnel_state_disconnect(const char *tunnel_id, enum exposr_disconnect_reason reason,
			     exposr_done_cb cb, void *arg);
/* Asks every local connection of the tunnel to close, without waiting. */
void tunnel_state_kick(const char *tunnel_id, enum exposr_disconnect_reason reason);
void *tunnel_state_open_stream(const char *tunnel_id, exposr_channel_cb cb, void *arg);
void tunnel_state_cancel_open(void *token);

const char *tunnel_state_connection_id(const struct exposr_tunnel_conn *c);
/* Ageing as the 10 s timer does it, at time `now_ms` (exposed for tests). */
void tunnel_state_sweep(int64_t now_ms);
/* Tunnels with an entry (tests). */
size_t tunnel_state_count(void);

/* Refuses new connections and asks every local one to close (shutdown). */
void tunnel_state_shutdown(void);
/* Forgets everything without calling anyone back. */
void tunnel_state_free(void);

#endif
