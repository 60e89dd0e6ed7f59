/* Transports: the connections tunnel clients make to the server. A transport
 * module registers each authorised connection with the tunnel service and, through
 * this vtable, lets the core open channels (streams) on it. */
#ifndef EXPOSR_TRANSPORT_H
#define EXPOSR_TRANSPORT_H

#include "stream.h"

/* Why the server ends a transport connection (decides the close code). */
enum exposr_disconnect_reason {
	EXPOSR_DISCONNECT_REQUESTED = 0, /* API/admin/cluster disconnect: the client stops */
	EXPOSR_DISCONNECT_REVOKED,       /* tunnel deleted or account disabled */
	EXPOSR_DISCONNECT_SHUTDOWN,
};

/* status: EXPOSR_OK with a stream the caller owns; EXPOSR_AGAIN when the
 * connection is out of channels; EXPOSR_ERROR when the open failed. */
typedef void (*exposr_channel_cb)(void *arg, int status, struct exposr_stream *stream);

/* ABI 1.3. The public client a channel carries (docs/ssh.md §7.4): its numeric address
 * and port, valid during the call only. */
struct exposr_origin {
	const char *ip;
	int port;
};

struct exposr_transport_conn_vtable {
	size_t size;
	/* Returns a cancel token (non-NULL) or NULL when the callback already ran. */
	void *(*open_channel)(void *conn, exposr_channel_cb cb, void *arg);
	void (*cancel_open)(void *conn, void *token);
	void (*disconnect)(void *conn, enum exposr_disconnect_reason reason);
	/* ABI 1.3, optional: open_channel for the public client at `origin` (never NULL),
	 * for a transport whose protocol names it. The core uses open_channel when this
	 * slot is NULL or beyond `size`. */
	void *(*open_channel_from)(void *conn, const struct exposr_origin *origin,
	                           exposr_channel_cb cb, void *arg);
};

/* Registered with registry->add_transport: what the API reports about a transport. */
struct exposr_transport_vtable {
	size_t size;
	/* Mandatory. Fills this transport's block of a tunnel object under construction: a cJSON
	 * object, transport.<name>, that already holds the tunnel's `enabled` flag.
	 * base_url is the API request's scheme://host[:port]. */
	void (*describe)(void *self, const char *tunnel_id, const char *token, const char *base_url,
	                 void *json_object);
};

#endif
