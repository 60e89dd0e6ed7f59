/* The URLs the client handles: the server's (-s), the target's and the websocket's the
 * API hands out. Only what the client needs of RFC 3986: scheme, host, port, the rest. */
#ifndef EXPOSR_CLIENT_URL_H
#define EXPOSR_CLIENT_URL_H

#include <stdbool.h>
#include <stddef.h>

struct url {
	char scheme[16]; /* lower-case */
	char host[256];  /* lower-case, IPv6 without brackets */
	int port;        /* explicit or the scheme's default; 0 when neither */
	bool port_given; /* the URL names a port */
	char path[2048]; /* path and query, "/" when empty */
	bool tls;        /* https, wss, tls, tcps */
};

/* Parses an absolute URL. 0, or -1 with a message in err. */
int url_parse(const char *s, struct url *u, char *err, size_t errlen);

/* A target URL as the exposr client sends it (WHATWG serialisation): http(s) gets a path
 * ("/" at least) and loses a default port; tcp, tcps and tls need a port. The schemes the
 * client can connect to are http, https, tcp, tcps and tls. 0, or -1 with a message. */
int url_target(const char *s, char *out, size_t outlen, char *err, size_t errlen);

/* "host:port" for a Host header: the port left out when it is the scheme's default, IPv6
 * in brackets. */
void url_host_header(const struct url *u, char *out, size_t outlen);

/* `base`'s path with "/" and `rel` appended (the client appends v1/... to -s's path). */
int url_join(const struct url *base, const char *rel, char *out, size_t outlen);

#endif
