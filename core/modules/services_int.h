/* What the account and tunnel services share internally. */
#ifndef EXPOSR_CORE_SERVICES_INT_H
#define EXPOSR_CORE_SERVICES_INT_H

#include <exposr/tunnels.h>

/* 0.12's page size when a list call asks for none. */
#define SERVICES_LIST_DEFAULT_COUNT 10

/* tunnels.remove, limited to tunnels of `owner` when it is not NULL (a tunnel of
 * someone else answers EXPOSR_NOT_FOUND and stays). */
void tunnel_remove_owned(const char *tunnel_id, const char *owner, exposr_done_cb cb, void *arg);

#endif
