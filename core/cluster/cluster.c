/* The cluster service of docs/cluster.md §8.3–8.5: identity, signed messages through the bus
 * or to this node alone, checking what arrives, heartbeats and the start-up wait. */
#include "cluster.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "cfg.h"
#include "cluster_announce.h"
#include "cluster_identity.h"
#include "cluster_nodes.h"
#include "cluster_tunnels.h"
#include "core_settings.h"
#include "ids.h"
#include "log.h"
#include "registry_table.h"
#include "timer.h"
#include "tunnel_state.h"

/* Dropped messages are logged, but a flood of them must not flood the log. */
#define DROP_LOG_INTERVAL_MS 1000

/* A message for this node alone (no bus): delivered from the loop, never from inside
 * the publish call, as a bus would. */
struct queued {
	char *text;
	STAILQ_ENTRY(queued) link;
};

STAILQ_HEAD(queued_list, queued);

static struct {
	bool configured;
	bool started;
	bool ready;
	bool stopping;
	char *key;
	char host[CLUSTER_HOST_MAX];
	char ip[CLUSTER_IP_MAX];
	struct cluster_sender self;
	int64_t seq;
	const struct exposr_eventbus_vtable *bus;
	void *bus_self;
	struct exposr_timer *heartbeat_timer;
	struct exposr_timer *startup_timer;
	struct exposr_timer *tick_timer;
	struct exposr_timer *queue_timer;
	struct queued_list queue;
	int64_t drop_logged_at;
	unsigned drops_unlogged;
	int64_t (*clock)(void);
} cl = {.ready = true, .queue = STAILQ_HEAD_INITIALIZER(cl.queue), .clock = ids_now_ms};

int64_t cluster_now(void)
{
	return cl.clock();
}

void cluster_set_clock(int64_t (*now_ms)(void))
{
	cl.clock = now_ms != NULL ? now_ms : ids_now_ms;
}

const struct cluster_sender *cluster_self(void)
{
	return &cl.self;
}

bool cluster_ready(void)
{
	return cl.ready;
}

bool cluster_multi_node(void)
{
	return cl.bus != NULL;
}

int cluster_configure(const struct exposr_cfg *root)
{
	struct core_settings cs;
	if (core_settings_read(root, &cs) != EXPOSR_OK)
		return EXPOSR_ERROR;
	const char *key = cs.cluster_key, *advertise = cs.advertise_address, *bind = cs.bind;
	if (advertise != NULL && advertise[0] != '\0' && !cluster_identity_specific(advertise)) {
		/* At the value's own origin: the file, a flag or the environment. */
		cfg_api.error(cfg_api.child(cfg_api.child(root, "cluster"), "advertise-address"),
		              NULL, "'%s' is not an IP address other nodes can connect to",
		              advertise);
		return EXPOSR_ERROR;
	}
	char *copy = strdup(key);
	if (copy == NULL)
		return EXPOSR_ERROR;
	free(cl.key);
	cl.key = copy;
	cluster_identity_host(cl.host, sizeof(cl.host));
	cluster_identity_ip(advertise, bind, cl.ip, sizeof(cl.ip));
	cl.self = (struct cluster_sender){.id = ids_node_id(), .host = cl.host, .ip = cl.ip};
	cl.configured = true;
	return EXPOSR_OK;
}

/* ---- sending ---- */

static void deliver(const char *key, const char *text, size_t len);

static void deliver_queued(void *arg)
{
	(void)arg;
	cl.queue_timer = NULL;
	/* Detached: what handlers publish now waits for the next round. */
	struct queued_list detached = STAILQ_HEAD_INITIALIZER(detached);
	STAILQ_CONCAT(&detached, &cl.queue);
	while (!STAILQ_EMPTY(&detached)) {
		struct queued *q = STAILQ_FIRST(&detached);
		STAILQ_REMOVE_HEAD(&detached, link);
		deliver(NULL, q->text, strlen(q->text));
		free(q->text);
		free(q);
	}
}

/* Takes `text`. */
static int enqueue_local(char *text)
{
	struct queued *q = calloc(1, sizeof(*q));
	if (q == NULL) {
		free(text);
		return EXPOSR_ERROR;
	}
	if (cl.queue_timer == NULL &&
	    (cl.queue_timer = timer_add(NULL, 0, false, deliver_queued, NULL)) == NULL) {
		free(q);
		free(text);
		return EXPOSR_ERROR;
	}
	q->text = text;
	STAILQ_INSERT_TAIL(&cl.queue, q, link);
	return EXPOSR_OK;
}

int cluster_publish(const char *event, const cJSON *message)
{
	if (!cl.started)
		return EXPOSR_ERROR;
	/* Alone, a message only comes back to this node: signing it would prove nothing
	 * and would initialise OpenSSL's providers (about 2 MB resident) for it. */
	const char *key = cl.bus != NULL ? cl.key : NULL;
	char *text = cluster_message_encode(key, &cl.self, event, message, cluster_now(), cl.seq++);
	if (text == NULL) {
		log_msg("cluster", EXPOSR_LOG_WARN, "cannot encode a %s message", event);
		return EXPOSR_ERROR;
	}
	if (cl.bus == NULL)
		return enqueue_local(text);
	int rc = cl.bus->publish(cl.bus_self, text, strlen(text));
	free(text);
	if (rc != EXPOSR_OK)
		log_msg("cluster", EXPOSR_LOG_DEBUG, "%s not sent: the bus is down", event);
	return rc;
}

/* ---- receiving ---- */

static void log_drop(const char *fmt, ...) EXPOSR_PRINTF(1, 2);

static void log_drop(const char *fmt, ...)
{
	int64_t now = cluster_now();
	if (cl.drop_logged_at != 0 && now - cl.drop_logged_at < DROP_LOG_INTERVAL_MS) {
		cl.drops_unlogged++;
		return;
	}
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (cl.drops_unlogged > 0)
		log_msg("cluster", EXPOSR_LOG_WARN, "%s (and %u more dropped before)", line,
		        cl.drops_unlogged);
	else
		log_msg("cluster", EXPOSR_LOG_WARN, "%s", line);
	cl.drop_logged_at = now;
	cl.drops_unlogged = 0;
}

static void dispatch(const struct cluster_message *m)
{
	bool own = strcmp(m->node_id, cl.self.id) == 0;
	if (strcmp(m->event, EVENT_HEARTBEAT) == 0)
		return; /* the sender was learned: that is all a heartbeat does */
	if (strcmp(m->event, EVENT_ANNOUNCE) == 0) {
		if (!own) /* this node knows its own connections better */
			cluster_announce_on_message(m, cluster_now());
	} else if (strcmp(m->event, EVENT_DISCONNECT) == 0) {
		cluster_tunnels_on_disconnect(m);
	} else {
		log_msg("cluster", EXPOSR_LOG_DEBUG, "ignored unknown event '%s' from %s", m->event,
		        m->node_id);
	}
}

/* `key` NULL for this node's own unsigned messages, queued when there is no bus. */
static void deliver(const char *key, const char *text, size_t len)
{
	if (!cl.configured || text == NULL)
		return;
	struct cluster_message m;
	const char *why = "unreadable";
	if (cluster_message_decode(key, text, len, &m, &why) != EXPOSR_OK) {
		log_drop("dropped a cluster message: %s", why);
		return;
	}
	if (strlen(m.node_id) != IDS_NODE_ID_LEN) {
		log_drop("dropped a cluster message: bad node id '%.64s'", m.node_id);
		cluster_message_free(&m);
		return;
	}
	/* (Re)learning the sender: from its first message or any heartbeat (§8.5). */
	bool heartbeat = strcmp(m.event, EVENT_HEARTBEAT) == 0;
	struct cluster_node *n = cluster_nodes_find(m.node_id);
	bool fresh = n == NULL;
	if (fresh && (n = cluster_nodes_add(m.node_id, m.node_host, m.node_ip, m.ts)) == NULL) {
		log_msg("cluster", EXPOSR_LOG_WARN, "out of memory learning node %s", m.node_id);
		cluster_message_free(&m);
		return;
	}
	if (!replay_window_accept(&n->window, m.seq)) {
		log_drop("dropped cluster message %" PRId64 " from %s: already received or too "
		         "old (window=%" PRId64 ")",
		         m.seq, m.node_id, n->window.hi);
		if (fresh)
			cluster_nodes_remove(m.node_id);
		cluster_message_free(&m);
		return;
	}
	if (fresh && strcmp(m.node_id, cl.self.id) != 0)
		log_msg("cluster", EXPOSR_LOG_INFO, "learned node %s (%s, %s)", m.node_id,
		        m.node_host, m.node_ip);
	else if (heartbeat && cluster_nodes_update(n, m.node_host, m.node_ip, m.ts) != EXPOSR_OK)
		log_msg("cluster", EXPOSR_LOG_WARN, "out of memory updating node %s", m.node_id);
	dispatch(&m);
	cluster_message_free(&m);
}

void cluster_deliver(const char *text, size_t len)
{
	deliver(cl.key, text, len);
}

/* ---- timers ---- */

static void send_heartbeat(void)
{
	cJSON *empty = cJSON_CreateObject();
	if (empty == NULL || cluster_publish(EVENT_HEARTBEAT, empty) != EXPOSR_OK)
		log_msg("cluster", EXPOSR_LOG_DEBUG, "heartbeat not sent");
	cJSON_Delete(empty);
}

static void on_heartbeat(void *arg)
{
	(void)arg;
	send_heartbeat();
}

static void on_startup_over(void *arg)
{
	(void)arg;
	cl.startup_timer = NULL;
	timer_cancel(cl.heartbeat_timer);
	cl.heartbeat_timer = timer_add(NULL, CLUSTER_HEARTBEAT_MS, true, on_heartbeat, NULL);
	if (cl.heartbeat_timer == NULL)
		log_msg("cluster", EXPOSR_LOG_ERROR, "cannot schedule heartbeats");
	cl.ready = true;
	log_msg("cluster", EXPOSR_LOG_INFO, "ready: %zu other nodes known",
	        cluster_nodes_count() > 0 ? cluster_nodes_count() - 1 : 0);
}

static void on_tick(void *arg)
{
	(void)arg;
	int64_t now = cluster_now();
	cluster_nodes_sweep(now);
	cluster_announce_all();
}

int cluster_start(void)
{
	if (!cl.configured || cl.started)
		return cl.started ? EXPOSR_OK : EXPOSR_ERROR;
	const struct exposr_registry_entry *bus = registry_find(EXPOSR_KIND_EVENTBUS, NULL);
	const struct exposr_eventbus_vtable *vt = bus != NULL ? bus->vtable : NULL;
	if (bus != NULL && (vt == NULL || vt->publish == NULL)) {
		log_msg("cluster", EXPOSR_LOG_ERROR, "event bus '%s' has no publish call",
		        bus->name);
		return EXPOSR_ERROR;
	}
	cl.bus = vt;
	cl.bus_self = bus != NULL ? bus->instance : NULL;
	cl.started = true;
	cl.stopping = false;
	/* Multi-node: heartbeats every 2 s at first, so that the others learn this node
	 * (and it learns them) before it reports ready (§8.5). */
	bool multi = cl.bus != NULL;
	cl.ready = !multi;
	cl.heartbeat_timer =
	        timer_add(NULL, multi ? CLUSTER_STARTUP_HEARTBEAT_MS : CLUSTER_HEARTBEAT_MS, true,
	                  on_heartbeat, NULL);
	cl.tick_timer = timer_add(NULL, CLUSTER_ANNOUNCE_MS, true, on_tick, NULL);
	if (multi)
		cl.startup_timer =
		        timer_add(NULL, CLUSTER_STARTUP_WAIT_MS, false, on_startup_over, NULL);
	if (cl.heartbeat_timer == NULL || cl.tick_timer == NULL ||
	    (multi && cl.startup_timer == NULL)) {
		log_msg("cluster", EXPOSR_LOG_ERROR, "cannot schedule the cluster timers");
		cluster_free();
		return EXPOSR_ERROR;
	}
	tunnel_state_on_local_change(cluster_announce_changed);
	send_heartbeat();
	log_msg("cluster", EXPOSR_LOG_INFO, "node %s (%s, %s), %s", cl.self.id, cl.host, cl.ip,
	        multi ? "multi-node" : "single-node");
	if (multi)
		log_msg("cluster", EXPOSR_LOG_DEBUG, "event bus: %s", bus->name);
	return EXPOSR_OK;
}

void cluster_shutdown(void)
{
	if (!cl.started || cl.stopping)
		return;
	cl.stopping = true;
	/* What the connections closed so far look like now; later changes are announced
	 * as they happen. */
	cluster_announce_all();
	timer_cancel(cl.heartbeat_timer);
	timer_cancel(cl.startup_timer);
	timer_cancel(cl.tick_timer);
	cl.heartbeat_timer = cl.startup_timer = cl.tick_timer = NULL;
}

void cluster_free(void)
{
	tunnel_state_on_local_change(NULL);
	timer_cancel(cl.heartbeat_timer);
	timer_cancel(cl.startup_timer);
	timer_cancel(cl.tick_timer);
	timer_cancel(cl.queue_timer);
	cl.heartbeat_timer = cl.startup_timer = cl.tick_timer = cl.queue_timer = NULL;
	while (!STAILQ_EMPTY(&cl.queue)) {
		struct queued *q = STAILQ_FIRST(&cl.queue);
		STAILQ_REMOVE_HEAD(&cl.queue, link);
		free(q->text);
		free(q);
	}
	cluster_announce_free();
	cluster_nodes_free();
	cl.bus = NULL;
	cl.bus_self = NULL;
	cl.started = false;
	cl.stopping = false;
	cl.ready = true;
	cl.seq = 0;
	cl.drop_logged_at = 0;
	cl.drops_unlogged = 0;
	free(cl.key);
	cl.key = NULL;
	cl.configured = false;
}

/* ---- the host's table ---- */

static void nodes_each(void (*fn)(void *arg, const struct exposr_cluster_node *n), void *arg)
{
	if (fn == NULL)
		return;
	int64_t now = cluster_now();
	if (cl.configured) {
		/* This node is alive by definition, heartbeat or not. */
		struct exposr_cluster_node self = {
		        .node_id = cl.self.id,
		        .host = cl.host,
		        .ip = cl.ip,
		        .alive_at = now,
		        .alive_age = 0,
		        .stale = false,
		        .self = true,
		};
		fn(arg, &self);
	}
	cluster_nodes_each(cl.configured ? cl.self.id : NULL, now, fn, arg);
}

const struct exposr_cluster_api cluster_api = {
        .size = sizeof(struct exposr_cluster_api),
        .deliver = cluster_deliver,
        .nodes = nodes_each,
};
