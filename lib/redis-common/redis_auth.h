/* The first steps of a handshake: AUTH when the URL has a password, SELECT when asked. */
#ifndef EXPOSR_REDIS_AUTH_H
#define EXPOSR_REDIS_AUTH_H

#include <hiredis/async.h>
#include <stdbool.h>

#include "redis_url.h"

/* Queues them on `ac`; each reply goes to `fn` with the step's name ("AUTH", "SELECT") as
 * privdata. Returns 0, or -1 if hiredis refuses a command. */
int redis_auth_queue(const struct redis_url *url, redisAsyncContext *ac, redisCallbackFn *fn,
                     bool select_db);

#endif
