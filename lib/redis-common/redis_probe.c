/* A blocking connect, AUTH, SELECT and PING at start, so that exposrd refuses to start
 * against a Redis it cannot use rather than answering 503 from its first request. */
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <string.h>

#include "redis_probe.h"

static int probe_command(redisContext *c, int argc, const char **argv, const size_t *lens,
                         char *reason, size_t size)
{
	redisReply *reply = redisCommandArgv(c, argc, argv, lens);
	if (reply == NULL) {
		snprintf(reason, size, "%s", c->err != 0 ? c->errstr : "no reply");
		return -1;
	}
	int rc = 0;
	if (reply->type == REDIS_REPLY_ERROR) {
		snprintf(reason, size, "%s refused: %s", argv[0], reply->str);
		rc = -1;
	}
	freeReplyObject(reply);
	return rc;
}

int redis_probe(const struct redis_url *url, long timeout_s, char *reason, size_t size)
{
	struct timeval tv = {.tv_sec = timeout_s, .tv_usec = 0};
	redisContext *c = redisConnectWithTimeout(url->host, url->port, tv);
	if (c == NULL) {
		snprintf(reason, size, "out of memory");
		return -1;
	}
	int rc = -1;
	if (c->err != 0) {
		snprintf(reason, size, "%s", c->errstr);
		goto done;
	}
	/* The connect timeout also bounds each reply: a Redis that accepts and never
	 * answers must not hang the start. */
	if (redisSetTimeout(c, tv) != REDIS_OK) {
		snprintf(reason, size, "%s", c->err != 0 ? c->errstr : "cannot set a timeout");
		goto done;
	}
	const char *argv[3];
	size_t lens[3];
	int argc = redis_url_auth_argv(url, argv, lens);
	if (argc > 0 && probe_command(c, argc, argv, lens, reason, size) != 0)
		goto done;
	if (url->db != 0) {
		char db[24];
		snprintf(db, sizeof(db), "%ld", url->db);
		const char *select[] = {"SELECT", db};
		size_t select_lens[] = {6, strlen(db)};
		if (probe_command(c, 2, select, select_lens, reason, size) != 0)
			goto done;
	}
	const char *ping[] = {"PING"};
	size_t ping_lens[] = {4};
	if (probe_command(c, 1, ping, ping_lens, reason, size) != 0)
		goto done;
	rc = 0;
done:
	redisFree(c);
	return rc;
}
