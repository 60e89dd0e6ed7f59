/* The URLs the client handles: the server's (-s), the target's and the websocket's the
 * API hands out. A thin layer over lib/util's WHATWG parser: the schemes the client knows,
 * the port as a number, the host ready for DNS, and errors worded for the user. */
#ifndef EXPOSR_CLIENT_URL_H
#define EXPOSR_CLIENT_URL_H

#include <stdbool.h>
#include <stddef.h>

#include "whatwg_url.h"

struct client_url {
	struct url_parts parts;      /* as WHATWG parses it, without the fragment */
	char host[URL_HOSTNAME_MAX]; /* parts.hostname, an IPv6 literal without brackets */
	int port;                    /* explicit or the scheme's default; 0 when neither */
	char path[URL_REST_MAX + 1]; /* path and query, "/" when empty */
	bool tls;                    /* https, wss, tls, tcps */
};

/* Parses an absolute URL with one of the schemes http, https, ws, wss, tcp, tcps and tls.
 * 0, or -1 with a message in err. */
int client_url_parse(const char *s, struct client_url *u, char *err, size_t errlen);

/* A target URL as the exposr client sends it (WHATWG serialisation): http(s) gets a path
 * ("/" at least) and loses a default port; tcp, tcps and tls need a port. The schemes the
 * client can connect to are http, https, tcp, tcps and tls. 0, or -1 with a message. */
int client_url_target(const char *s, char *out, size_t outlen, char *err, size_t errlen);

/* `base`'s path with "/" and `rel` appended (the client appends v1/... to -s's path). */
int client_url_join(const struct client_url *base, const char *rel, char *out, size_t outlen);

#endif
