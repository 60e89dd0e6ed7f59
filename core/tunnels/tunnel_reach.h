/* tunnels->reach and tunnels->cancel_reach (include/exposr/tunnels.h). */
#ifndef EXPOSR_CORE_TUNNEL_REACH_H
#define EXPOSR_CORE_TUNNEL_REACH_H

#include <exposr/tunnels.h>

void *tunnel_reach(const char *tunnel_id, const struct exposr_reach_options *opts,
                   exposr_reach_cb cb, void *arg);
void *tunnel_reach_from(const char *tunnel_id, const struct exposr_reach_options *opts,
                        const struct exposr_origin *origin, exposr_reach_cb cb, void *arg);
void tunnel_reach_cancel(void *token);

#endif
