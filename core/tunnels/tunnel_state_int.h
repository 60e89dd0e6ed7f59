/* What tunnel_state.c (local connections) and tunnel_state_remote.c (the cluster's view)
 * share: the entries, the connections and the helpers that keep their derived state. */
#ifndef EXPOSR_CORE_TUNNEL_STATE_INT_H
#define EXPOSR_CORE_TUNNEL_STATE_INT_H

#include <sys/queue.h>

#include "ids.h"
#include "strmap.h"
#include "tunnel_state.h"

struct open_req;

struct exposr_tunnel_conn {
	struct tunnel_entry *entry;
	char id[IDS_CONNECTION_ID_LEN + 1];
	char node[IDS_NODE_ID_LEN + 1]; /* the node that holds it */
	char *peer;
	const struct exposr_transport_conn_vtable *vt; /* local and connected only */
	void *conn;
	bool local;
	bool connected;
	bool kicked;         /* asked to disconnect at least once */
	unsigned kick_round; /* the last kick round that reached it */
	int64_t connected_at, disconnected_at;
	int64_t alive_at;                /* remote: when it was last announced */
	LIST_HEAD(, open_req) opens;     /* channel opens pending on this connection */
	struct exposr_tunnel_conn *next; /* sorted by id: the round-robin order */
};

struct disconnect_waiter {
	struct tunnel_entry *entry;
	exposr_done_cb cb;
	void *arg;
	struct exposr_timer *timer;
	TAILQ_ENTRY(disconnect_waiter) link;
};

TAILQ_HEAD(disconnect_waiters, disconnect_waiter);

struct tunnel_entry {
	char *id;
	struct exposr_tunnel_conn *conns;
	char last_chosen[IDS_CONNECTION_ID_LEN + 1]; /* local round-robin */
	char last_remote[IDS_CONNECTION_ID_LEN + 1]; /* remote round-robin */
	bool connected;
	unsigned alive; /* cluster-wide */
	int64_t connected_at, disconnected_at, alive_at;
	struct disconnect_waiters waiters; /* newest first */
};

struct tunnel_state_globals {
	struct strmap *tunnels; /* id -> struct tunnel_entry */
	struct exposr_timer *sweep_timer;
	unsigned max_connections;
	unsigned kick_round;
	bool stopping;
	void (*on_local_change)(const char *tunnel_id);
};

extern struct tunnel_state_globals tunnel_state_g;

/* Recomputes connected, alive and the times from the connections. */
void tunnel_entry_update(struct tunnel_entry *e, int64_t now);
/* Answers the disconnect waiters with `status` (they are detached first). */
void tunnel_entry_fire_waiters(struct tunnel_entry *e, int status);
/* update, then answer the waiters if nothing is alive any more. */
void tunnel_entry_settle(struct tunnel_entry *e, int64_t now);
struct tunnel_entry *tunnel_entry_create(const char *tunnel_id);
void tunnel_entry_insert(struct tunnel_entry *e, struct exposr_tunnel_conn *c);
void tunnel_conn_free(struct exposr_tunnel_conn *c);
/* The ageing timer runs only while there is something to age. */
void tunnel_state_ensure_sweep_timer(void);

#endif
