/* The core's account and tunnel services: configuration, start, shutdown and the API
 * tables handed to modules through the host. */
#ifndef EXPOSR_CORE_SERVICES_H
#define EXPOSR_CORE_SERVICES_H

#include <exposr/accounts.h>
#include <exposr/config.h>
#include <exposr/tunnels.h>

extern const struct exposr_account_api accounts_api;
extern const struct exposr_tunnel_api tunnels_api;

/* Reads tunnels.max-connections (default 2) and draws the node id. */
int services_configure(const struct exposr_cfg *root);
/* Takes the first registered storage; fails with one line when there is none. */
int services_start(void);
/* Refuses new transport connections and asks every local one to close (shutdown). */
void services_shutdown(void);
/* Frees all state; safe when services_start never ran, and more than once. */
void services_free(void);

#endif
