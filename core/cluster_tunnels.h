/* The tunnel side of the cluster (docs/cluster.md §8.2, §8.6): announcing this node's
 * connections, learning the others', disconnect events and re-routing choices. */
#ifndef EXPOSR_CORE_CLUSTER_TUNNELS_H
#define EXPOSR_CORE_CLUSTER_TUNNELS_H

#include <exposr/tunnels.h>

#include "cluster_message.h"

#define CLUSTER_ANNOUNCE_BATCH 50 /* tunnels per tunnel:announce message */

/* Closes the tunnel's local connections with `reason` and tells every other node to
 * close theirs (tunnel:disconnect). */
void cluster_disconnect_tunnel(const char *tunnel_id, enum exposr_disconnect_reason reason);
/* tunnels->disconnect: the above, then waits as docs/api.md §2.6 says. */
void cluster_tunnels_disconnect(const char *tunnel_id, enum exposr_disconnect_reason reason,
                                exposr_done_cb cb, void *arg);
/* tunnels->route. */
int cluster_tunnels_route(const char *tunnel_id, struct exposr_tunnel_route *out);

/* A local connection of the tunnel came or went: announced from the loop right after,
 * together with the others that changed meanwhile. */
void cluster_tunnels_changed(const char *tunnel_id);
/* Announces every tunnel with local connections, CLUSTER_ANNOUNCE_BATCH per message. */
void cluster_tunnels_announce_all(void);

/* Handlers of received messages (already checked). */
void cluster_tunnels_on_announce(const struct cluster_message *m, int64_t now);
void cluster_tunnels_on_disconnect(const struct cluster_message *m);

/* Drops pending announcements. */
void cluster_tunnels_free(void);

#endif
