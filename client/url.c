/* URL handling (see url.h). */
#include "url.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct scheme {
	const char *name;
	int port;
	bool tls;
	bool special; /* WHATWG special scheme: always has a path, default port dropped */
};

static const struct scheme schemes[] = {
        {"http", 80, false, true}, {"https", 443, true, true}, {"ws", 80, false, true},
        {"wss", 443, true, true},  {"tcp", 0, false, false},   {"tcps", 0, true, false},
        {"tls", 0, true, false},
};

static const struct scheme *find_scheme(const char *name)
{
	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
		if (strcmp(schemes[i].name, name) == 0)
			return &schemes[i];
	return NULL;
}

static void lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

static int fail(char *err, size_t errlen, const char *what, const char *url)
{
	snprintf(err, errlen, "%s: %s", what, url);
	return -1;
}

static int parse_port(const char *s, size_t len, int *port)
{
	if (len == 0 || len > 5)
		return -1;
	int v = 0;
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (v < 1 || v > 65535)
		return -1;
	*port = v;
	return 0;
}

/* host[:port] or [v6][:port], without userinfo. */
static int parse_authority(const char *a, size_t len, struct url *u)
{
	const char *host = a, *colon = NULL;
	size_t host_len;
	if (len > 0 && a[0] == '[') {
		const char *close = memchr(a, ']', len);
		if (close == NULL)
			return -1;
		host = a + 1;
		host_len = (size_t)(close - host);
		if (close + 1 < a + len) {
			if (close[1] != ':')
				return -1;
			colon = close + 1;
		}
	} else {
		colon = memchr(a, ':', len);
		host_len = colon != NULL ? (size_t)(colon - a) : len;
	}
	if (host_len == 0 || host_len >= sizeof(u->host))
		return -1;
	memcpy(u->host, host, host_len);
	u->host[host_len] = '\0';
	for (size_t i = 0; i < host_len; i++)
		if (isspace((unsigned char)host[i]) || host[i] == '@')
			return -1;
	lower(u->host);
	if (colon != NULL) {
		if (parse_port(colon + 1, (size_t)(a + len - colon - 1), &u->port) != 0)
			return -1;
		u->port_given = true;
	}
	return 0;
}

int url_parse(const char *s, struct url *u, char *err, size_t errlen)
{
	memset(u, 0, sizeof(*u));
	const char *sep = strstr(s, "://");
	if (sep == NULL || sep == s || (size_t)(sep - s) >= sizeof(u->scheme))
		return fail(err, errlen, "not an absolute URL", s);
	memcpy(u->scheme, s, (size_t)(sep - s));
	lower(u->scheme);
	const struct scheme *sc = find_scheme(u->scheme);
	if (sc == NULL)
		return fail(err, errlen, "unsupported URL scheme", s);
	u->tls = sc->tls;
	const char *auth = sep + 3;
	size_t auth_len = strcspn(auth, "/?#");
	if (parse_authority(auth, auth_len, u) != 0)
		return fail(err, errlen, "bad host or port in URL", s);
	if (!u->port_given)
		u->port = sc->port;
	const char *rest = auth + auth_len;
	size_t rest_len = strcspn(rest, "#");
	if (rest_len + 2 > sizeof(u->path))
		return fail(err, errlen, "URL too long", s);
	if (rest_len == 0 || rest[0] != '/')
		u->path[0] = '/';
	strncat(u->path, rest, rest_len);
	return 0;
}

void url_host_header(const struct url *u, char *out, size_t outlen)
{
	const struct scheme *sc = find_scheme(u->scheme);
	bool v6 = strchr(u->host, ':') != NULL;
	const char *open = v6 ? "[" : "", *close = v6 ? "]" : "";
	if (sc != NULL && sc->port == u->port)
		snprintf(out, outlen, "%s%s%s", open, u->host, close);
	else
		snprintf(out, outlen, "%s%s%s:%d", open, u->host, close, u->port);
}

int url_target(const char *s, char *out, size_t outlen, char *err, size_t errlen)
{
	struct url u;
	if (url_parse(s, &u, err, errlen) != 0)
		return -1;
	const struct scheme *sc = find_scheme(u.scheme);
	if (strcmp(u.scheme, "ws") == 0 || strcmp(u.scheme, "wss") == 0)
		return fail(err, errlen, "target must be http, https, tcp, tcps or tls", s);
	if (u.port == 0)
		return fail(err, errlen, "a tcp, tcps or tls target needs a port", s);
	char host[300];
	url_host_header(&u, host, sizeof(host));
	/* Non-special schemes keep an empty path empty, as WHATWG URL does. */
	const char *path = u.path;
	if (!sc->special && strcmp(s + strlen(s) - 1, "/") != 0 && strcmp(u.path, "/") == 0)
		path = "";
	if (snprintf(out, outlen, "%s://%s%s", u.scheme, host, path) >= (int)outlen)
		return fail(err, errlen, "URL too long", s);
	return 0;
}

int url_join(const struct url *base, const char *rel, char *out, size_t outlen)
{
	size_t n = strcspn(base->path, "?");
	bool slash = n > 0 && base->path[n - 1] == '/';
	int r = snprintf(out, outlen, "%.*s%s%s", (int)n, base->path, slash ? "" : "/", rel);
	return r >= 0 && (size_t)r < outlen ? 0 : -1;
}
