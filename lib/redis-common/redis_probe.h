/* A blocking connect, AUTH, SELECT and PING, for a module's start: exposrd refuses to
 * start against a Redis it cannot use. */
#ifndef EXPOSR_REDIS_PROBE_H
#define EXPOSR_REDIS_PROBE_H

#include <stddef.h>

#include "redis_url.h"

/* 0, or -1 with the reason in `reason`. `timeout_s` bounds the connect and each reply. */
int redis_probe(const struct redis_url *url, long timeout_s, char *reason, size_t size);

#endif
