/* The host API table handed to every module. */
#ifndef EXPOSR_CORE_HOST_TABLE_H
#define EXPOSR_CORE_HOST_TABLE_H

#include <exposr/host.h>

/* The table for the running process; `base` is the loop modules share. */
const struct exposr_host *host_table(struct event_base *base);
/* That loop, for the core's own sockets. */
struct event_base *host_event_base(void);

#endif
