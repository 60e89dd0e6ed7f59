/* The tunnel client's websocket: the RFC 6455 upgrade written by hand, then wslay in client
 * mode over one bufferevent (a plain socket or TLS, see net.h): wslay parses the server's frames
 * and writes the masked control frames (ping, pong, close). Data messages are streamed to the owner
 * in chunks, never reassembled; outgoing messages are framed as ws-multiplex does it (a header
 * frame, then one continuation frame) and masked here, eight bytes at a time. */
#ifndef EXPOSR_CLIENT_WS_CLIENT_H
#define EXPOSR_CLIENT_WS_CLIENT_H

#include <stddef.h>
#include <stdint.h>

struct bufferevent;
struct event_base;
struct evbuffer;
struct ws_client;

struct ws_client_handler {
	/* The server answered 101. */
	void (*opened)(void *arg);
	/* The connection is over: `http_status` is the refusal's status when the upgrade
	 * failed (0 for a socket error or timeout), `code` the close code once it was open.
	 * The owner must free the ws_client here or later, and gets no other callback. */
	void (*closed)(void *arg, int http_status, uint16_t code);
	/* A data message: begin, its bytes in chunks, end. */
	void (*message_begin)(void *arg);
	void (*message_data)(void *arg, const uint8_t *data, size_t len);
	void (*message_end)(void *arg);
	/* The output fell below the low mark after having been above the high mark. */
	void (*drained)(void *arg);
};

/* Output above this makes ws_client_congested() true; drained() comes below the low mark. */
#define WS_CLIENT_OUTPUT_HIGH (1024 * 1024)
#define WS_CLIENT_OUTPUT_LOW  (256 * 1024)

/* Upgrades `bev`, a connection being made (net_connect()), which it owns from now on, even
 * on failure (NULL). */
struct ws_client *ws_client_connect(struct event_base *base, struct bufferevent *bev,
                                    const char *host_header, const char *path,
                                    const struct ws_client_handler *handler, void *arg);
/* Sends one message: `head` as a frame of its own and, when `len` > 0, the next `len`
 * bytes of `payload` as its continuation frame (drained from `payload`). 0 or -1. */
int ws_client_send(struct ws_client *ws, const uint8_t *head, size_t head_len,
                   struct evbuffer *payload, size_t len);
/* Same, with the payload from memory. */
int ws_client_send_mem(struct ws_client *ws, const uint8_t *head, size_t head_len,
                       const uint8_t *payload, size_t len);
/* True while the output is above the high mark (until drained() was called). */
int ws_client_congested(const struct ws_client *ws);
/* Sends a ping; returns the milliseconds since the last pong (or the open). */
uint64_t ws_client_ping(struct ws_client *ws, uint64_t now_ms);
/* Starts the close handshake; closed() follows. */
void ws_client_close(struct ws_client *ws, uint16_t code);
/* Frees at once, without callbacks. */
void ws_client_free(struct ws_client *ws);

/* Frees what every connection shares; call after freeing them, before the event base. */
void ws_client_shutdown(void);

#endif
