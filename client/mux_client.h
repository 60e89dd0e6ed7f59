/* The client side of multiplex protocol v2 over one websocket, as ws-multiplex 1.4 and the
 * exposr client do it (docs/transport.md §4.6-4.7): the server opens channels, this side ACKs at
 * once with a sequentially allocated number and connects each channel to the target. */
#ifndef EXPOSR_CLIENT_MUX_CLIENT_H
#define EXPOSR_CLIENT_MUX_CLIENT_H

#include <stdint.h>

struct bufferevent;
struct event_base;
struct net_target;
struct mux_client;

struct mux_client_handler {
	void (*opened)(void *arg);
	/* As ws_client's closed(): free the mux_client here or later. */
	void (*closed)(void *arg, int http_status, uint16_t code);
};

/* Totals over every connection of the process. */
struct mux_client_stats {
	uint64_t channels_opened, channels_closed, targets_failed;
	uint64_t bytes_to_target, bytes_from_target;
	uint64_t messages_in, messages_out;
	uint64_t pauses_sent, pauses_received;
	uint64_t protocol_errors;
	uint64_t requests; /* HTTP requests carried to an http(s) target */
};
extern struct mux_client_stats mux_client_stats;

/* Opens the websocket over `server` (a connection being made, owned from now on) and
 * connects every channel the server opens to `target`, which must outlive the client. */
struct mux_client *mux_client_connect(struct event_base *base, struct bufferevent *server,
                                      const char *host_header, const char *path,
                                      const struct net_target *target,
                                      const struct mux_client_handler *handler, void *arg);
/* Keep-alive (ping every 10 s, dead after 20 s without a pong) and closing channels
 * that got no ACK within 1 s; call about once a second. */
void mux_client_tick(struct mux_client *m, uint64_t now_ms);
/* Closes the websocket with 1000; closed() follows. */
void mux_client_close(struct mux_client *m);
void mux_client_free(struct mux_client *m);
/* Frees target connections still flushing after their channel was closed. */
void mux_client_cleanup(void);

#endif
