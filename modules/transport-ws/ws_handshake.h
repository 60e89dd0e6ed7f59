/* The pieces of the websocket endpoint's handshake that need no event loop: path and
 * query parsing, RFC 6455 header checks and Sec-WebSocket-Accept, the peer address. */
#ifndef EXPOSR_WS_HANDSHAKE_H
#define EXPOSR_WS_HANDSHAKE_H

#include <stdbool.h>
#include <stddef.h>

/* Length of a Sec-WebSocket-Accept value plus its terminator. */
#define WS_ACCEPT_SIZE 29
/* Enough for any numeric IPv4 or IPv6 address. */
#define WS_PEER_SIZE 64

/* Finds `/v1/tunnel/<id>/ws-endpoint` anywhere in the path (not anchored, as in 0.12);
 * <id> is one or more characters other than '/'. Copies the id into `id` when it fits
 * (size > 0); returns false when the path does not match or the id does not fit. */
bool ws_endpoint_tunnel_id(const char *path, char *id, size_t size);

/* The pre-0.5 clients' endpoint (docs/legacy-clients.md §14.3, §14.5 C6): the path is exactly
 * `/v1/endpoint/ws/<id>`, <id> one or more characters other than '/'. Copies the id as
 * ws_endpoint_tunnel_id() does. */
bool ws_legacy_tunnel_id(const char *path, char *id, size_t size);

/* The first value of query parameter `name`, decoded as query_parse() does, into `out`;
 * false when it is absent, empty or does not fit. */
bool ws_query_param(const char *query, const char *name, char *out, size_t size);

/* True if a comma-separated header value lists `token` (case-insensitive). */
bool ws_header_has_token(const char *value, const char *token);

/* RFC 6455: a key is the base64 form of 16 bytes (22 characters then "=="). */
bool ws_key_valid(const char *key);

/* Sec-WebSocket-Accept for a valid key: base64(SHA-1(key + GUID)). */
bool ws_accept_value(const char *key, char out[WS_ACCEPT_SIZE]);

/* The peer recorded for a connection: the first X-Forwarded-For entry when it is an IP
 * address, else the socket's address. */
void ws_peer_address(const char *forwarded_for, const char *remote_addr, char out[WS_PEER_SIZE]);

#endif
