/* Unit tests of the websocket endpoint's handshake helpers. */
#include <criterion/criterion.h>

#include "ws_handshake.h"

Test(ws_handshake, endpoint_path)
{
	char id[64];
	cr_assert(ws_endpoint_tunnel_id("/v1/tunnel/my-tunnel/ws-endpoint", id, sizeof(id)));
	cr_assert_str_eq(id, "my-tunnel");
	/* Not anchored, as in 0.12. */
	cr_assert(ws_endpoint_tunnel_id("/prefix/v1/tunnel/abc/ws-endpoint/x", id, sizeof(id)));
	cr_assert_str_eq(id, "abc");
	cr_assert(ws_endpoint_tunnel_id("/v1/tunnel/a/b/v1/tunnel/c/ws-endpoint", id, sizeof(id)));
	cr_assert_str_eq(id, "c");
	cr_assert(ws_endpoint_tunnel_id("/v1/tunnel/x/ws-endpoint", NULL, 0));
	cr_assert_not(ws_endpoint_tunnel_id("/v1/tunnel//ws-endpoint", id, sizeof(id)));
	cr_assert_not(ws_endpoint_tunnel_id("/v1/tunnel/abc", id, sizeof(id)));
	cr_assert_not(ws_endpoint_tunnel_id("/v1/tunnel/abc/ws", id, sizeof(id)));
	cr_assert_not(ws_endpoint_tunnel_id("/", id, sizeof(id)));
	cr_assert_not(ws_endpoint_tunnel_id("/v1/tunnel/abcdefgh/ws-endpoint", id, 4));
}

Test(ws_handshake, legacy_tunnel_id)
{
	char id[64];
	cr_assert(ws_legacy_tunnel_id("/v1/endpoint/ws/demo-tunnel", id, sizeof(id)));
	cr_assert_str_eq(id, "demo-tunnel");
	cr_assert(ws_legacy_tunnel_id("/v1/endpoint/ws/x", NULL, 0));
	/* Exactly this path: anchored at both ends, one segment. */
	cr_assert_not(ws_legacy_tunnel_id("/prefix/v1/endpoint/ws/abc", id, sizeof(id)));
	cr_assert_not(ws_legacy_tunnel_id("/v1/endpoint/ws/abc/x", id, sizeof(id)));
	cr_assert_not(ws_legacy_tunnel_id("/v1/endpoint/ws/", id, sizeof(id)));
	cr_assert_not(ws_legacy_tunnel_id("/v1/endpoint/ws", id, sizeof(id)));
	cr_assert_not(ws_legacy_tunnel_id("/v1/endpoint/wsabc", id, sizeof(id)));
	cr_assert_not(ws_legacy_tunnel_id("/v1/endpoint/ws/abcdefgh", id, 4));
}

Test(ws_handshake, query_param)
{
	char v[32];
	cr_assert(ws_query_param("t=abc", "t", v, sizeof(v)));
	cr_assert_str_eq(v, "abc");
	cr_assert(ws_query_param("x=1&t=a%2Db_c&y", "t", v, sizeof(v)));
	cr_assert_str_eq(v, "a-b_c");
	cr_assert_not(ws_query_param("", "t", v, sizeof(v)));
	cr_assert_not(ws_query_param("t=", "t", v, sizeof(v)));
	cr_assert_not(ws_query_param("tt=abc", "t", v, sizeof(v)));
	cr_assert_not(ws_query_param("t", "t", v, sizeof(v)));
	cr_assert_not(ws_query_param("t=0123456789", "t", v, 5));
}

Test(ws_handshake, header_tokens)
{
	cr_assert(ws_header_has_token("websocket", "websocket"));
	cr_assert(ws_header_has_token("WebSocket", "websocket"));
	cr_assert(ws_header_has_token("h2c, websocket ", "websocket"));
	cr_assert_not(ws_header_has_token("websockets", "websocket"));
	cr_assert_not(ws_header_has_token("", "websocket"));
}

Test(ws_handshake, accept_value)
{
	/* RFC 6455 §1.3. */
	char accept[WS_ACCEPT_SIZE];
	cr_assert(ws_accept_value("dGhlIHNhbXBsZSBub25jZQ==", accept));
	cr_assert_str_eq(accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
	cr_assert_not(ws_key_valid("dGhlIHNhbXBsZSBub25jZQ"));
	cr_assert_not(ws_key_valid("dGhlIHNhbXBsZSBub25j!Q=="));
	cr_assert_not(ws_key_valid(""));
	cr_assert_not(ws_accept_value("short", accept));
}

Test(ws_handshake, peer_address)
{
	char peer[WS_PEER_SIZE];
	ws_peer_address(NULL, "127.0.0.1", peer);
	cr_assert_str_eq(peer, "127.0.0.1");
	ws_peer_address("10.1.2.3, 127.0.0.3", "127.0.0.1", peer);
	cr_assert_str_eq(peer, "10.1.2.3");
	ws_peer_address(" ::1 ", "127.0.0.1", peer);
	cr_assert_str_eq(peer, "::1");
	ws_peer_address("unknown, 10.0.0.1", "127.0.0.1", peer);
	cr_assert_str_eq(peer, "127.0.0.1");
	ws_peer_address("", "127.0.0.1", peer);
	cr_assert_str_eq(peer, "127.0.0.1");
}
