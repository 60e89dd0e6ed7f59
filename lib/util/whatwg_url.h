/* URLs as WHATWG serialises them: scheme and host normalised, default ports dropped. The
 * one URL parser of the project: the API modules, the transports and the client use it. */
#ifndef EXPOSR_UTIL_WHATWG_URL_H
#define EXPOSR_UTIL_WHATWG_URL_H

#include <stdbool.h>
#include <stddef.h>

#define URL_SCHEME_MAX   32
#define URL_HOSTNAME_MAX 256
#define URL_REST_MAX     1024

struct url_parts {
	char scheme[URL_SCHEME_MAX];     /* lower case, without ':' */
	char userinfo[URL_HOSTNAME_MAX]; /* without '@'; "" when absent */
	char hostname[URL_HOSTNAME_MAX]; /* lower case; an IPv6 literal keeps its brackets */
	char port[6];                    /* decimal, "" when absent or the scheme's default */
	char rest[URL_REST_MAX]; /* path, query and fragment; starts with "/" for special schemes */
};

/* http, https, ws, wss, ftp, file: the schemes whose hosts WHATWG parses as domains. */
bool url_scheme_special(const char *scheme);

/* The scheme's default port ("80" for http and ws, "443" for https and wss, "21" for
 * ftp), NULL for other schemes. */
const char *url_default_port(const char *scheme);

/* A scheme as the URL parser accepts it: ALPHA *(ALPHA / DIGIT / "+" / "-" / ".").
 * Writes it lower-cased; false if invalid or too long. */
bool url_scheme_normalize(const char *in, size_t len, char out[URL_SCHEME_MAX]);

/* Host and port of `u` as the URL parser leaves them: the host lower-cased, validated
 * (and for special schemes an IPv4 address in any accepted notation rewritten dotted),
 * the port without leading zeros, dropped when it is the scheme's default. `hostname`
 * and `port` are read from `u` and written back. False when the URL parser would fail. */
bool url_normalize_authority(struct url_parts *u, const char *hostname, size_t hostname_len,
                             const char *port, size_t port_len);

/* Parses an absolute "scheme://[userinfo@]host[:port][rest]" URL. */
bool url_parse(const char *text, struct url_parts *out);

/* "hostname[:port]" */
int url_host(const struct url_parts *u, char *out, size_t size);

/* scheme://[userinfo@]hostname[:port]rest, with `hostname` instead of u->hostname when
 * it is not NULL. -1 if it does not fit. */
int url_format(const struct url_parts *u, const char *hostname, char *out, size_t size);

#endif
