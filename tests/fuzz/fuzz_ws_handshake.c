/* The websocket endpoint's handshake pieces on any input: the endpoint path, query
 * parameters with percent-decoding, header tokens, the key and its accept value, and the
 * peer address. */
#include <stdlib.h>
#include <string.h>

#include "script.h"
#include "ws_handshake.h"

/* A NUL-terminated copy of the next run of bytes, as the header strings arrive. */
static char *take_string(struct script *s)
{
	size_t len;
	const uint8_t *bytes = take_bytes(s, take_u8(s), &len);
	char *str = malloc(len + 1);
	if (str == NULL)
		abort();
	memcpy(str, bytes, len);
	str[len] = '\0';
	return str;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct script s = {data, size};
	char *path = take_string(&s);
	char *query = take_string(&s);
	char *name = take_string(&s);
	char *header = take_string(&s);
	char *key = take_string(&s);
	char id[64], value[256], accept[WS_ACCEPT_SIZE], peer[WS_PEER_SIZE];
	if (ws_endpoint_tunnel_id(path, id, sizeof(id)) && strlen(id) >= sizeof(id))
		abort();
	ws_endpoint_tunnel_id(path, NULL, 0);
	if (ws_query_param(query, name, value, sizeof(value)) && strlen(value) >= sizeof(value))
		abort();
	ws_query_param(query, "token", value, 1 + take_u8(&s) % sizeof(value));
	ws_header_has_token(header, name);
	bool valid = ws_key_valid(key);
	if (ws_accept_value(key, accept) != valid ||
	    (valid && strlen(accept) != WS_ACCEPT_SIZE - 1))
		abort();
	ws_peer_address(header, query, peer);
	if (strlen(peer) >= WS_PEER_SIZE)
		abort();
	free(path);
	free(query);
	free(name);
	free(header);
	free(key);
	return 0;
}
