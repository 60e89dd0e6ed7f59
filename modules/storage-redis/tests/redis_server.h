/* A throw-away redis-server on a free loopback port, for the module's tests. */
#ifndef EXPOSR_TEST_REDIS_SERVER_H
#define EXPOSR_TEST_REDIS_SERVER_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

struct redis_server {
	pid_t pid;
	int port;
	char dir[PATH_MAX]; /* its working directory (AOF files), removed by cleanup */
	bool appendonly;
	const char *password; /* requirepass, or NULL */
};

/* Starts it in a new temporary directory and waits (bounded) until it answers PING. */
int redis_server_start(struct redis_server *s, bool appendonly, const char *password);
/* Stops it (SIGTERM: an append-only server writes its file first), bounded. */
void redis_server_stop(struct redis_server *s);
/* Kills it at once (SIGKILL): connections drop without a goodbye. */
void redis_server_kill(struct redis_server *s);
/* Starts it again on the same port and directory. */
int redis_server_restart(struct redis_server *s);
/* Stops it if running and removes its directory. */
void redis_server_cleanup(struct redis_server *s);
/* A port on 127.0.0.1 nothing listens on (for the unreachable case). */
int redis_free_port(void);

#endif
