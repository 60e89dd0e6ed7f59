/* The nodes this node has heard of (docs/cluster.md §8.5): learned from heartbeats and first
 * messages, stale after 30 s, forgotten after 60 s, each with its replay window. */
#ifndef EXPOSR_CORE_CLUSTER_NODES_H
#define EXPOSR_CORE_CLUSTER_NODES_H

#include <exposr/eventbus.h>

#include "cluster_message.h"
#include "ids.h"

#define CLUSTER_NODE_STALE_MS  30000
#define CLUSTER_NODE_FORGET_MS 60000

struct cluster_node {
	char id[IDS_NODE_ID_LEN + 1];
	char *host;
	char *ip;
	int64_t alive_at; /* the sender's ts of its last heartbeat (or first message) */
	struct replay_window window;
};

struct cluster_node *cluster_nodes_find(const char *id);
/* A new node; NULL when out of memory. */
struct cluster_node *cluster_nodes_add(const char *id, const char *host, const char *ip,
                                       int64_t alive_at);
/* A heartbeat: what the node says about itself now. */
int cluster_nodes_update(struct cluster_node *n, const char *host, const char *ip,
                         int64_t alive_at);
void cluster_nodes_remove(const char *id);
bool cluster_node_stale(const struct cluster_node *n, int64_t now);
/* Forgets the nodes silent for CLUSTER_NODE_FORGET_MS. */
void cluster_nodes_sweep(int64_t now);
size_t cluster_nodes_count(void);
/* Every node but `skip_id` (NULL: all), as the admin API sees it. */
void cluster_nodes_each(const char *skip_id, int64_t now,
                        void (*fn)(void *arg, const struct exposr_cluster_node *n), void *arg);
void cluster_nodes_free(void);

#endif
