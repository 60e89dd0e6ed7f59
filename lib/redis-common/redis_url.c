/* Parsing of redis://[[user]:password@]host[:port][/db] URLs (storage and cluster bus). */
#include "redis_url.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>

static int fail(char *error, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(error, size, fmt, ap);
	va_end(ap);
	return -1;
}

/* Passwords may hold reserved characters, which a URL carries percent-encoded; a bad
 * escape stays as it is written. */
static char *percent_decode(const char *s, size_t len)
{
	char *raw = strndup(s, len);
	if (raw == NULL)
		return NULL;
	char *out = evhttp_uridecode(raw, 0, NULL);
	free(raw);
	return out;
}

static int parse_userinfo(const char *s, size_t len, struct redis_url *out, char *error,
                          size_t size)
{
	const char *colon = memchr(s, ':', len);
	/* Without a colon the whole userinfo is the password, as redis-cli -u reads it. */
	const char *pass = colon != NULL ? colon + 1 : s;
	size_t pass_len = colon != NULL ? len - (size_t)(pass - s) : len;
	if (colon != NULL && colon > s &&
	    (out->user = percent_decode(s, (size_t)(colon - s))) == NULL)
		return fail(error, size, "out of memory");
	if (pass_len > 0 && (out->password = percent_decode(pass, pass_len)) == NULL)
		return fail(error, size, "out of memory");
	return 0;
}

static int parse_port(const char *s, size_t len, int *port, char *error, size_t size)
{
	if (len == 0 || len > 5)
		return fail(error, size, "'%.*s' is not a port number", (int)len, s);
	long v = 0;
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return fail(error, size, "'%.*s' is not a port number", (int)len, s);
		v = v * 10 + (s[i] - '0');
	}
	if (v < 1 || v > 65535)
		return fail(error, size, "port %ld is out of range (1 to 65535)", v);
	*port = (int)v;
	return 0;
}

static int parse_hostport(const char *s, size_t len, struct redis_url *out, char *error,
                          size_t size)
{
	const char *host = s, *port = NULL;
	size_t host_len;
	if (len > 0 && s[0] == '[') {
		const char *close = memchr(s, ']', len);
		if (close == NULL)
			return fail(error, size, "unterminated '[' in the host");
		host = s + 1;
		host_len = (size_t)(close - host);
		if (close + 1 < s + len) {
			if (close[1] != ':')
				return fail(error, size, "unexpected text after ']'");
			port = close + 2;
		}
	} else {
		const char *colon = memchr(s, ':', len);
		host_len = colon != NULL ? (size_t)(colon - s) : len;
		port = colon != NULL ? colon + 1 : NULL;
	}
	if (host_len == 0)
		return fail(error, size, "no host");
	out->port = REDIS_URL_DEFAULT_PORT;
	if (port != NULL &&
	    parse_port(port, (size_t)(s + len - port), &out->port, error, size) != 0)
		return -1;
	if ((out->host = strndup(host, host_len)) == NULL)
		return fail(error, size, "out of memory");
	return 0;
}

static int parse_db(const char *s, struct redis_url *out, char *error, size_t size)
{
	out->db = 0;
	if (*s == '\0')
		return 0;
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (!isdigit((unsigned char)*s) || *end != '\0' || errno != 0 || v > INT_MAX)
		return fail(error, size, "'/%s' is not a database number", s);
	out->db = v;
	return 0;
}

int redis_url_parse(const char *text, struct redis_url *out, char *error, size_t size)
{
	static const char scheme[] = "redis://";
	memset(out, 0, sizeof(*out));
	if (strncmp(text, "rediss://", 9) == 0)
		return fail(error, size, "TLS (rediss://) is not supported; use redis://");
	if (strncmp(text, scheme, sizeof(scheme) - 1) != 0)
		return fail(error, size, "must start with redis://"); /* may hold a password */
	const char *authority = text + sizeof(scheme) - 1;
	if (strpbrk(authority, "?#") != NULL)
		return fail(error, size, "query and fragment are not supported");
	const char *slash = strchr(authority, '/');
	size_t auth_len = slash != NULL ? (size_t)(slash - authority) : strlen(authority);
	/* The last '@' ends the userinfo: a password may contain an unencoded '@'. */
	const char *at = NULL;
	for (const char *p = authority; p < authority + auth_len; p++)
		if (*p == '@')
			at = p;
	const char *hostport = at != NULL ? at + 1 : authority;
	size_t hostport_len = auth_len - (size_t)(hostport - authority);
	if ((at != NULL &&
	     parse_userinfo(authority, (size_t)(at - authority), out, error, size) != 0) ||
	    parse_hostport(hostport, hostport_len, out, error, size) != 0 ||
	    parse_db(slash != NULL ? slash + 1 : "", out, error, size) != 0)
		goto fail;
	const char *open = strchr(out->host, ':') != NULL ? "[" : "";
	const char *close = open[0] != '\0' ? "]" : "";
	if (asprintf(&out->display, "redis://%s%s%s:%d", open, out->host, close, out->port) < 0) {
		out->display = NULL;
		fail(error, size, "out of memory");
		goto fail;
	}
	return 0;
fail:
	redis_url_free(out);
	return -1;
}

void redis_url_free(struct redis_url *url)
{
	free(url->host);
	free(url->user);
	if (url->password != NULL) {
		/* The password should not outlive its use in freed memory. */
		explicit_bzero(url->password, strlen(url->password));
		free(url->password);
	}
	free(url->display);
	memset(url, 0, sizeof(*url));
}

int redis_url_auth_argv(const struct redis_url *url, const char *argv[3], size_t lens[3])
{
	if (url->password == NULL)
		return 0;
	int argc = 0;
	argv[argc] = "AUTH";
	lens[argc++] = 4;
	if (url->user != NULL) {
		argv[argc] = url->user;
		lens[argc++] = strlen(url->user);
	}
	argv[argc] = url->password;
	lens[argc++] = strlen(url->password);
	return argc;
}
