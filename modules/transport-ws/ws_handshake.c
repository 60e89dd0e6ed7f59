/* Websocket endpoint handshake helpers: path/query parsing, RFC 6455 checks, peer address. */
#include "ws_handshake.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "query.h"

static const char ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

bool ws_endpoint_tunnel_id(const char *path, char *id, size_t size)
{
	static const char prefix[] = "/v1/tunnel/";
	static const char suffix[] = "/ws-endpoint";
	for (const char *p = strstr(path, prefix); p != NULL; p = strstr(p + 1, prefix)) {
		const char *start = p + sizeof(prefix) - 1;
		size_t len = strcspn(start, "/");
		if (len == 0 || strncmp(start + len, suffix, sizeof(suffix) - 1) != 0)
			continue;
		if (size == 0)
			return true;
		if (len >= size)
			return false;
		memcpy(id, start, len);
		id[len] = '\0';
		return true;
	}
	return false;
}

bool ws_legacy_tunnel_id(const char *path, char *id, size_t size)
{
	static const char prefix[] = "/v1/endpoint/ws/";
	if (strncmp(path, prefix, sizeof(prefix) - 1) != 0)
		return false;
	const char *start = path + sizeof(prefix) - 1;
	size_t len = strlen(start);
	if (len == 0 || strchr(start, '/') != NULL)
		return false;
	if (size == 0)
		return true;
	if (len >= size)
		return false;
	memcpy(id, start, len + 1);
	return true;
}

bool ws_query_param(const char *query, const char *name, char *out, size_t size)
{
	struct query q;
	if (query_parse(query, &q) != 0)
		return false;
	const struct query_param *param = query_find(&q, name);
	const char *value = param != NULL ? param->values[0] : "";
	size_t len = strlen(value);
	bool ok = len > 0 && len < size;
	if (ok)
		memcpy(out, value, len + 1);
	query_free(&q);
	return ok;
}

bool ws_header_has_token(const char *value, const char *token)
{
	size_t token_len = strlen(token);
	const char *p = value;
	while (*p != '\0') {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		size_t len = strcspn(p, ",");
		size_t trimmed = len;
		while (trimmed > 0 && (p[trimmed - 1] == ' ' || p[trimmed - 1] == '\t'))
			trimmed--;
		if (trimmed == token_len && strncasecmp(p, token, token_len) == 0)
			return true;
		p += len;
	}
	return false;
}

bool ws_key_valid(const char *key)
{
	if (strlen(key) != 24 || strcmp(key + 22, "==") != 0)
		return false;
	for (size_t i = 0; i < 22; i++) {
		unsigned char c = (unsigned char)key[i];
		if (!isalnum(c) && c != '+' && c != '/')
			return false;
	}
	return true;
}

bool ws_accept_value(const char *key, char out[WS_ACCEPT_SIZE])
{
	if (!ws_key_valid(key))
		return false;
	char joined[24 + sizeof(ws_guid)];
	int len = snprintf(joined, sizeof(joined), "%s%s", key, ws_guid);
	if (len < 0 || (size_t)len >= sizeof(joined))
		return false;
	unsigned char digest[SHA_DIGEST_LENGTH];
	if (SHA1((const unsigned char *)joined, (size_t)len, digest) == NULL)
		return false;
	/* 20 bytes encode to exactly 28 characters plus the terminator. */
	return EVP_EncodeBlock((unsigned char *)out, digest, SHA_DIGEST_LENGTH) == 28;
}

static bool is_ip_address(const char *text)
{
	unsigned char buf[sizeof(struct in6_addr)];
	return inet_pton(AF_INET, text, buf) == 1 || inet_pton(AF_INET6, text, buf) == 1;
}

void ws_peer_address(const char *forwarded_for, const char *remote_addr, char out[WS_PEER_SIZE])
{
	if (forwarded_for != NULL) {
		const char *p = forwarded_for;
		while (*p == ' ' || *p == '\t')
			p++;
		size_t len = strcspn(p, ",");
		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (len > 0 && len < WS_PEER_SIZE) {
			memcpy(out, p, len);
			out[len] = '\0';
			if (is_ip_address(out))
				return;
		}
	}
	snprintf(out, WS_PEER_SIZE, "%s", remote_addr != NULL ? remote_addr : "");
}
