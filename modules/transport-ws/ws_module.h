/* The transport-ws module's state, shared by the endpoint, the connections and the
 * descriptor. */
#ifndef EXPOSR_WS_MODULE_H
#define EXPOSR_WS_MODULE_H

#include <sys/queue.h>

#include <exposr/host.h>

struct ws_conn;
struct ws_handshake;

struct ws_module {
	const struct exposr_host *host;
	struct exposr_module_handle *mod;
	long port;
	size_t max_message;
	bool stopping;
	bool drain_pending; /* stop() answered EXPOSR_AGAIN: report drained later */
	LIST_HEAD(, ws_conn) conns;
	LIST_HEAD(, ws_handshake) handshakes; /* waiting for the tunnel service's authorisation */
	struct exposr_metric *conns_open;     /* websockets serving a tunnel */
	struct exposr_metric *channels_open;  /* multiplex channels not yet freed */
};

/* Reports drained once stopping and no connection or handshake is left. */
void ws_module_check_drained(struct ws_module *wm);

#define ws_log(wm, level, ...) (wm)->host->log((wm)->mod, (level), __VA_ARGS__)

#endif
