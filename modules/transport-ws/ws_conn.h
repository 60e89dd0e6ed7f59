/* One websocket transport connection: wslay on the taken-over socket, keep-alive, the
 * multiplexer, and its registration with the tunnel service. */
#ifndef EXPOSR_WS_CONN_H
#define EXPOSR_WS_CONN_H

#include <stdint.h>

#include "ws_module.h"

struct bufferevent;

/* Websocket close codes (RFC 6455). */
#define WS_CLOSE_GOING_AWAY 1001
#define WS_CLOSE_POLICY     1008

/* Serves a socket that has just been sent its 101 response: registers it with the tunnel
 * service, or closes it with 1008 when that is refused or the server is stopping. The
 * connection owns `bev` from here on, also when this fails. `v1`: the client speaks
 * multiplex v1 from the first byte (the pre-0.5 endpoint); otherwise it is probed. */
void ws_conn_start(struct ws_module *wm, struct bufferevent *bev, const char *tunnel_id,
                   const char *peer, bool v1);
/* Ends a connection: CLOSE for every channel, then the websocket close handshake. */
void ws_conn_close(struct ws_conn *c, uint16_t code, const char *reason);
/* Closes every connection of the module (shutdown: 1001). */
void ws_conns_close_all(struct ws_module *wm, uint16_t code, const char *reason);
/* Frees every connection at once (module fini). */
void ws_conns_free_all(struct ws_module *wm);

#endif
