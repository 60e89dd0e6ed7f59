/* The tunnel side of the cluster (docs/cluster.md §8.2, §8.6): disconnect events and
 * re-routing choices. Announcements are in cluster_announce.h. */
#ifndef EXPOSR_CORE_CLUSTER_TUNNELS_H
#define EXPOSR_CORE_CLUSTER_TUNNELS_H

#include <exposr/tunnels.h>

#include "cluster_message.h"

/* Closes the tunnel's local connections with `reason` and tells every other node to
 * close theirs (tunnel:disconnect). */
void cluster_disconnect_tunnel(const char *tunnel_id, enum exposr_disconnect_reason reason);
/* tunnels->disconnect: the above, then waits as docs/api.md §2.6 says. */
void cluster_tunnels_disconnect(const char *tunnel_id, enum exposr_disconnect_reason reason,
                                exposr_done_cb cb, void *arg);
/* tunnels->route. */
int cluster_tunnels_route(const char *tunnel_id, struct exposr_tunnel_route *out);

/* Handlers of received messages (already checked). */
void cluster_tunnels_on_disconnect(const struct cluster_message *m);

#endif
