/* The cluster bus: a module that carries the core's signed cluster messages (docs/cluster.md
 * §8.3, §8.4) between nodes as text, and the core's cluster service that bus modules and
 * the admin API call. Signing, checking, replay protection and what messages mean stay
 * in the core: a bus only moves text. */
#ifndef EXPOSR_EVENTBUS_H
#define EXPOSR_EVENTBUS_H

#include "common.h"

/* Registered with registry->add_eventbus (any name); at most one module may, and the
 * core runs in multi-node mode when there is one. Every message the bus
 * receives goes to host->cluster->deliver(), this node's own included: every exposrd bus
 * delivers a node's messages back to it. */
struct exposr_eventbus_vtable {
	size_t size;
	/* Mandatory. Sends `len` bytes of message text (UTF-8 JSON, no NUL needed) to every node.
	 * EXPOSR_OK once it is on its way (delivery is not confirmed); EXPOSR_ERROR when the
	 * bus is down: the message is lost, which cluster messages allow (heartbeats and
	 * announcements repeat, a lost disconnect leaves ageing to clean up). Called from
	 * the event loop; `text` is only valid during the call. */
	int (*publish)(void *self, const char *text, size_t len);
};

/* A node of the cluster as this node knows it (docs/cluster.md §8.5). */
struct exposr_cluster_node {
	const char *node_id; /* 40 lower-case hex characters */
	const char *host;    /* "<pid>@<hostname>" */
	const char *ip;      /* where its ingress ports are reached (§8.6) */
	int64_t alive_at;    /* epoch ms: the `ts` of its last heartbeat (or first message) */
	int64_t alive_age;   /* ms from alive_at to now, 0 when its clock is ahead */
	bool stale;          /* no heartbeat for 30 s: not used for re-routing */
	bool self;           /* this node: always alive now, never stale */
};

/* The core's cluster service (host->cluster). */
struct exposr_cluster_api {
	size_t size;
	/* For bus modules: one received message, `len` bytes of text (need not end in a
	 * NUL; read during the call only). A message with a bad signature, a replayed or
	 * too old sequence number or a missing field is dropped and logged by the core.
	 * Call it from the event loop, never from inside publish(). */
	void (*deliver)(const char *text, size_t len);
	/* Calls `fn` for every known node, this one first. The node and its strings are
	 * valid during the call only; `fn` must not call back into the cluster service. */
	void (*nodes)(void (*fn)(void *arg, const struct exposr_cluster_node *n), void *arg);
};

#endif
