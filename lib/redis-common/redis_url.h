/* Parsing of redis://[[user]:password@]host[:port][/db] URLs (storage and cluster bus). */
#ifndef EXPOSR_REDIS_URL_H
#define EXPOSR_REDIS_URL_H

#include <stddef.h>

#define REDIS_URL_DEFAULT_PORT 6379

struct redis_url {
	char *host; /* without brackets for IPv6 */
	int port;
	char *user;     /* NULL: AUTH with the password alone */
	char *password; /* NULL: no AUTH */
	long db;        /* SELECT after connecting when not 0 */
	char *display;  /* "redis://host:port" for messages: never the password */
};

/* 0 and a filled *out (free it with redis_url_free), or -1 with a reason in `error`. */
int redis_url_parse(const char *text, struct redis_url *out, char *error, size_t error_size);
void redis_url_free(struct redis_url *url);
/* The AUTH command for the URL's credentials: its argc (0 without a password). */
int redis_url_auth_argv(const struct redis_url *url, const char *argv[3], size_t lens[3]);

#endif
