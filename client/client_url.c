/* The client's URLs (see client_url.h). A Host header is url_host() of the parts. */
#include "client_url.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct scheme {
	const char *name;
	bool tls;
};

static const struct scheme schemes[] = {
        {"http", false}, {"https", true}, {"ws", false}, {"wss", true},
        {"tcp", false},  {"tcps", true},  {"tls", true},
};

static const struct scheme *find_scheme(const char *name)
{
	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
		if (strcmp(schemes[i].name, name) == 0)
			return &schemes[i];
	return NULL;
}

static int fail(char *err, size_t errlen, const char *what, const char *url)
{
	snprintf(err, errlen, "%s: %s", what, url);
	return -1;
}

int client_url_parse(const char *s, struct client_url *u, char *err, size_t errlen)
{
	memset(u, 0, sizeof(*u));
	const char *sep = strstr(s, "://");
	if (sep == NULL || sep == s)
		return fail(err, errlen, "not an absolute URL", s);
	char scheme[URL_SCHEME_MAX];
	const struct scheme *sc = NULL;
	if (url_scheme_normalize(s, (size_t)(sep - s), scheme))
		sc = find_scheme(scheme);
	if (sc == NULL)
		return fail(err, errlen, "unsupported URL scheme", s);
	if (strlen(s) >= URL_REST_MAX)
		return fail(err, errlen, "URL too long", s);
	struct url_parts *p = &u->parts;
	/* The client sends no credentials in URLs, and every scheme it knows needs a host. */
	if (!url_parse(s, p) || p->userinfo[0] != '\0' || p->hostname[0] == '\0')
		return fail(err, errlen, "bad host or port in URL", s);
	p->rest[strcspn(p->rest, "#")] = '\0';
	u->tls = sc->tls;
	const char *port = p->port[0] != '\0' ? p->port : url_default_port(p->scheme);
	u->port = port != NULL ? atoi(port) : 0;
	size_t host_len = strlen(p->hostname);
	if (p->hostname[0] == '[')
		snprintf(u->host, sizeof(u->host), "%.*s", (int)host_len - 2, p->hostname + 1);
	else
		memcpy(u->host, p->hostname, host_len + 1);
	snprintf(u->path, sizeof(u->path), "%s%s", p->rest[0] == '/' ? "" : "/", p->rest);
	return 0;
}

int client_url_target(const char *s, char *out, size_t outlen, char *err, size_t errlen)
{
	struct client_url u;
	if (client_url_parse(s, &u, err, errlen) != 0)
		return -1;
	if (strcmp(u.parts.scheme, "ws") == 0 || strcmp(u.parts.scheme, "wss") == 0)
		return fail(err, errlen, "target must be http, https, tcp, tcps or tls", s);
	if (u.port == 0)
		return fail(err, errlen, "a tcp, tcps or tls target needs a port", s);
	if (url_format(&u.parts, NULL, out, outlen) != 0)
		return fail(err, errlen, "URL too long", s);
	return 0;
}

int client_url_join(const struct client_url *base, const char *rel, char *out, size_t outlen)
{
	size_t n = strcspn(base->path, "?");
	bool slash = n > 0 && base->path[n - 1] == '/';
	int r = snprintf(out, outlen, "%.*s%s%s", (int)n, base->path, slash ? "" : "/", rel);
	return r >= 0 && (size_t)r < outlen ? 0 : -1;
}
