/* The cluster service of docs/cluster.md §8.3–8.5: this node's identity, signed messages
 * through the event bus (or to this node alone), heartbeats, the start-up wait, and the
 * exposr_cluster_api the host hands modules. */
#ifndef EXPOSR_CORE_CLUSTER_H
#define EXPOSR_CORE_CLUSTER_H

#include <exposr/config.h>
#include <exposr/eventbus.h>

#include "cluster_message.h"

struct cJSON;

#define CLUSTER_HEARTBEAT_MS         9500
#define CLUSTER_STARTUP_HEARTBEAT_MS 2000
#define CLUSTER_STARTUP_WAIT_MS      20000 /* 2 × 9.5 s + 1 s */
#define CLUSTER_ANNOUNCE_MS          5000
#define CLUSTER_DRAIN_MS             5000 /* multi-node shutdown: traffic re-routed here finishes */

#define EVENT_HEARTBEAT  "cluster:heartbeat"
#define EVENT_ANNOUNCE   "tunnel:announce"
#define EVENT_DISCONNECT "tunnel:disconnect"

extern const struct exposr_cluster_api cluster_api;

/* Reads cluster.key, cluster.advertise-address and http.bind and works out this node's
 * host and ip. A bad advertise address is reported and fails. */
int cluster_configure(const struct exposr_cfg *root);
/* Takes the first event bus registered (multi-node mode) or runs alone, publishes the
 * first heartbeat and starts the timers. */
int cluster_start(void);
/* false during the multi-node start-up wait (the node is not ready yet). */
bool cluster_ready(void);
bool cluster_multi_node(void);
/* At shutdown: announces what is left of the local connections, stops heartbeats and
 * periodic announcements. Messages are still sent and received. */
void cluster_shutdown(void);
/* Stops everything, forgets every node and the configuration; safe when never started,
 * and twice. Messages delivered afterwards are ignored. */
void cluster_free(void);

/* Signs and sends one message (`message` is copied). EXPOSR_ERROR when not started or
 * when the bus is down. */
int cluster_publish(const char *event, const struct cJSON *message);
/* One received message: checked, then handled (host->cluster->deliver). */
void cluster_deliver(const char *text, size_t len);

/* This node as a message sender. */
const struct cluster_sender *cluster_self(void);
/* The clock of the cluster service, in epoch ms; tests replace it. */
int64_t cluster_now(void);
void cluster_set_clock(int64_t (*now_ms)(void));

#endif
