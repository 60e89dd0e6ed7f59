/* tcpip-forward: the bind address and port as the tunnel's new target, and the port the
 * reply reports. */
#include "forward.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <whatwg_url.h>

static long port_of(const struct url_parts *u)
{
	const char *port = u->port[0] != '\0' ? u->port : url_default_port(u->scheme);
	return port != NULL ? strtol(port, NULL, 10) : 0;
}

int forward_apply(const char *target, const char *bind_address, long bind_port,
                  struct forward_result *out)
{
	memset(out, 0, sizeof(*out));
	struct url_parts u;
	if (target == NULL || !url_parse(target, &u)) {
		memset(&u, 0, sizeof(u));
		strcpy(u.scheme, "tcp");
	}
	if (bind_address[0] != '\0' && bind_port != 0) {
		char port[8];
		snprintf(port, sizeof(port), "%ld", bind_port);
		if (!url_normalize_authority(&u, bind_address, strlen(bind_address), port,
		                             strlen(port)))
			return -1;
		out->changed = true;
	}
	if (url_format(&u, NULL, out->url, sizeof(out->url)) != 0)
		return -1;
	out->allocated = u.hostname[0] != '\0' || out->changed ? port_of(&u) : 0;
	return 0;
}
