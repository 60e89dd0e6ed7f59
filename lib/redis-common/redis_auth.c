/* AUTH and SELECT queued at the head of a new connection. */
#include <stdio.h>
#include <string.h>

#include "redis_auth.h"

int redis_auth_queue(const struct redis_url *url, redisAsyncContext *ac, redisCallbackFn *fn,
                     bool select_db)
{
	const char *argv[3];
	size_t lens[3];
	int argc = redis_url_auth_argv(url, argv, lens);
	if (argc > 0 && redisAsyncCommandArgv(ac, fn, "AUTH", argc, argv, lens) != REDIS_OK)
		return -1;
	if (!select_db || url->db == 0)
		return 0;
	char db[24];
	snprintf(db, sizeof(db), "%ld", url->db);
	const char *select[] = {"SELECT", db};
	size_t select_lens[] = {6, strlen(db)};
	return redisAsyncCommandArgv(ac, fn, "SELECT", 2, select, select_lens) == REDIS_OK ? 0 : -1;
}
