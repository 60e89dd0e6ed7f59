/* What a `tcpip-forward` request does to a tunnel's target (docs/ssh.md §7.3). */
#ifndef EXPOSR_SSH_FORWARD_H
#define EXPOSR_SSH_FORWARD_H

#include <stdbool.h>
#include <stddef.h>

/* The largest port a forward may name. */
#define FORWARD_PORT_MAX 65535

struct forward_result {
	bool changed;   /* `url` is the new target to store */
	char url[1024]; /* the target after the request */
	long allocated; /* its port (URL port, else the scheme's); 0 when it has none */
};

/* `target` is the tunnel's target URL, NULL when it has none (taken as "tcp://" with an
 * empty host). A non-empty bind address with a non-zero port replaces the target's host
 * and port, whatever the port. -1 when the bind address is not a valid host for the
 * target's scheme or the new URL does not fit. */
int forward_apply(const char *target, const char *bind_address, long bind_port,
                  struct forward_result *out);

#endif
