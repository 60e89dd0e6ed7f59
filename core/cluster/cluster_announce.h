/* Announcing this node's tunnel connections and learning the other nodes' (docs/cluster.md
 * §8.2, §8.3). */
#ifndef EXPOSR_CORE_CLUSTER_ANNOUNCE_H
#define EXPOSR_CORE_CLUSTER_ANNOUNCE_H

#include <stdint.h>

#include "cluster_message.h"

#define CLUSTER_ANNOUNCE_BATCH 50 /* tunnels per tunnel:announce message */

/* A local connection of the tunnel came or went: announced from the loop right after,
 * together with the others that changed meanwhile. */
void cluster_announce_changed(const char *tunnel_id);
/* Announces every tunnel with local connections, CLUSTER_ANNOUNCE_BATCH per message. */
void cluster_announce_all(void);
/* The handler of a received tunnel:announce (already checked). */
void cluster_announce_on_message(const struct cluster_message *m, int64_t now);
/* Drops pending announcements. */
void cluster_announce_free(void);

#endif
