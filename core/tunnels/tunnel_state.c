/* This node's connection state of docs/cluster.md §8.2. Connections stay listed, marked
 * disconnected, for a minute after they went away and a tunnel's entry for five
 * minutes, so the API can still report when it was last connected. */
#include "tunnel_state.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "ids.h"
#include "strmap.h"
#include "timer.h"
#include "tunnel_state_int.h"

/* The cancel token handed to ingresses. */
struct open_req {
	struct exposr_tunnel_conn *conn; /* NULL once detached from a removed connection */
	void *token;                     /* the transport's cancel token */
	exposr_channel_cb cb;
	void *arg;
	bool in_open;   /* open_channel has not returned yet */
	bool completed; /* ... and the callback already ran */
	LIST_ENTRY(open_req) link;
};

struct tunnel_state_globals tunnel_state_g = {.max_connections = 2};
#define ts tunnel_state_g

void tunnel_state_set_max_connections(unsigned max)
{
	ts.max_connections = max;
}

unsigned tunnel_state_max_connections(void)
{
	return ts.max_connections;
}

const char *tunnel_state_connection_id(const struct exposr_tunnel_conn *c)
{
	return c != NULL ? c->id : NULL;
}

size_t tunnel_state_count(void)
{
	return strmap_count(ts.tunnels);
}

/* Recomputes the derived state the way 0.12's updateTunnelState does. */
void tunnel_entry_update(struct tunnel_entry *e, int64_t now)
{
	unsigned alive = 0;
	int64_t earliest = 0, latest = 0;
	for (struct exposr_tunnel_conn *c = e->conns; c != NULL; c = c->next) {
		if (c->connected) {
			alive++;
			if (c->connected_at != 0 && (earliest == 0 || c->connected_at < earliest))
				earliest = c->connected_at;
		} else if (c->disconnected_at > latest) {
			latest = c->disconnected_at;
		}
	}
	bool connected = alive > 0;
	if (connected && !e->connected)
		e->connected_at = earliest != 0 ? earliest : now;
	else if (!connected && e->connected)
		e->disconnected_at = latest != 0 ? latest : now;
	e->connected = connected;
	e->alive = alive;
	if (connected)
		e->alive_at = now;
}

void tunnel_entry_settle(struct tunnel_entry *e, int64_t now)
{
	tunnel_entry_update(e, now);
	if (!TAILQ_EMPTY(&e->waiters) && e->alive == 0)
		tunnel_entry_fire_waiters(e, EXPOSR_OK);
}

static void local_changed(const char *tunnel_id)
{
	if (ts.on_local_change != NULL)
		ts.on_local_change(tunnel_id);
}

void tunnel_conn_free(struct exposr_tunnel_conn *c)
{
	while (!LIST_EMPTY(&c->opens)) {
		struct open_req *r = LIST_FIRST(&c->opens);
		LIST_REMOVE(r, link);
		free(r);
	}
	free(c->peer);
	free(c);
}

static void free_entry(void *value)
{
	struct tunnel_entry *e = value;
	while (e->conns != NULL) {
		struct exposr_tunnel_conn *c = e->conns;
		e->conns = c->next;
		tunnel_conn_free(c);
	}
	while (!TAILQ_EMPTY(&e->waiters)) {
		struct disconnect_waiter *w = TAILQ_FIRST(&e->waiters);
		TAILQ_REMOVE(&e->waiters, w, link);
		timer_cancel(w->timer);
		free(w);
	}
	free(e->id);
	free(e);
}

static void on_sweep_timer(void *arg)
{
	(void)arg;
	tunnel_state_sweep(ids_now_ms());
}

/* The timer runs only while there is something to age, so an idle server (and a
 * test's event loop) has no repeating event. */
void tunnel_state_ensure_sweep_timer(void)
{
	if (ts.sweep_timer == NULL)
		ts.sweep_timer = timer_add(NULL, TUNNEL_STATE_SWEEP_MS, true, on_sweep_timer, NULL);
}

struct tunnel_entry *tunnel_entry_create(const char *tunnel_id)
{
	if (ts.tunnels == NULL && (ts.tunnels = strmap_new()) == NULL)
		return NULL;
	struct tunnel_entry *e = calloc(1, sizeof(*e));
	if (e != NULL)
		TAILQ_INIT(&e->waiters);
	if (e == NULL || (e->id = strdup(tunnel_id)) == NULL ||
	    strmap_put(ts.tunnels, tunnel_id, e) != EXPOSR_OK) {
		if (e != NULL)
			free(e->id);
		free(e);
		return NULL;
	}
	return e;
}

void tunnel_entry_insert(struct tunnel_entry *e, struct exposr_tunnel_conn *c)
{
	struct exposr_tunnel_conn **link = &e->conns;
	while (*link != NULL && strcmp((*link)->id, c->id) < 0)
		link = &(*link)->next;
	c->next = *link;
	*link = c;
}

struct exposr_tunnel_conn *tunnel_state_add(const char *tunnel_id, const char *peer,
                                            const struct exposr_transport_conn_vtable *vt,
                                            void *conn)
{
	if (ts.stopping || tunnel_id == NULL || vt == NULL)
		return NULL;
	struct tunnel_entry *e = strmap_get(ts.tunnels, tunnel_id);
	if (e != NULL && e->alive >= ts.max_connections)
		return NULL;
	bool created = false;
	if (e == NULL) {
		if ((e = tunnel_entry_create(tunnel_id)) == NULL)
			return NULL;
		created = true;
	}
	struct exposr_tunnel_conn *c = calloc(1, sizeof(*c));
	if (c == NULL || ids_connection_id(c->id) != EXPOSR_OK ||
	    (c->peer = strdup(peer != NULL ? peer : "")) == NULL) {
		free(c);
		if (created)
			free_entry(strmap_remove(ts.tunnels, tunnel_id));
		return NULL;
	}
	int64_t now = ids_now_ms();
	c->entry = e;
	c->vt = vt;
	c->conn = conn;
	memcpy(c->node, ids_node_id(), IDS_NODE_ID_LEN);
	c->local = true;
	c->connected = true;
	c->connected_at = now;
	c->alive_at = now;
	tunnel_entry_insert(e, c);
	tunnel_entry_update(e, now);
	tunnel_state_ensure_sweep_timer();
	local_changed(tunnel_id);
	return c;
}

static void unlink_open(struct open_req *r)
{
	if (r->conn == NULL)
		return;
	LIST_REMOVE(r, link);
	r->conn = NULL;
}

void tunnel_entry_fire_waiters(struct tunnel_entry *e, int status)
{
	/* Detached first: a callback may start another disconnect of this tunnel. */
	struct disconnect_waiters detached = TAILQ_HEAD_INITIALIZER(detached);
	TAILQ_CONCAT(&detached, &e->waiters, link);
	while (!TAILQ_EMPTY(&detached)) {
		struct disconnect_waiter *w = TAILQ_FIRST(&detached);
		TAILQ_REMOVE(&detached, w, link);
		timer_cancel(w->timer);
		w->cb(w->arg, status);
		free(w);
	}
}

void tunnel_state_remove(struct exposr_tunnel_conn *c)
{
	if (c == NULL || !c->connected)
		return;
	const struct exposr_transport_conn_vtable *vt = c->vt;
	void *conn = c->conn;
	/* Nothing may refer to the transport's connection after this returns. */
	while (!LIST_EMPTY(&c->opens)) {
		struct open_req *r = LIST_FIRST(&c->opens);
		unlink_open(r);
		if (r->in_open)
			continue; /* open_stream fails it when open_channel returns */
		if (r->token != NULL && vt->cancel_open != NULL)
			vt->cancel_open(conn, r->token);
		r->cb(r->arg, EXPOSR_ERROR, NULL);
		free(r);
	}
	int64_t now = ids_now_ms();
	c->connected = false;
	c->disconnected_at = now;
	c->vt = NULL;
	c->conn = NULL;
	struct tunnel_entry *e = c->entry;
	local_changed(e->id);
	tunnel_entry_settle(e, now);
}

void tunnel_state_get(const char *tunnel_id, struct exposr_tunnel_state *out)
{
	memset(out, 0, sizeof(*out));
	const struct tunnel_entry *e = strmap_get(ts.tunnels, tunnel_id);
	if (e == NULL)
		return;
	out->connected = e->connected;
	out->connections = e->alive;
	out->connected_at = e->connected_at;
	out->disconnected_at = e->disconnected_at;
	out->alive_at = e->alive_at;
}

void tunnel_state_connections(const char *tunnel_id,
                              void (*fn)(void *arg, const struct exposr_tunnel_connection_info *c),
                              void *arg)
{
	const struct tunnel_entry *e = strmap_get(ts.tunnels, tunnel_id);
	for (const struct exposr_tunnel_conn *c = e != NULL ? e->conns : NULL; c != NULL;
	     c = c->next) {
		/* A local connection is as alive as its tunnel entry's last refresh. */
		int64_t alive_at = c->local && c->connected ? e->alive_at : c->alive_at;
		struct exposr_tunnel_connection_info info = {
		        .connection_id = c->id,
		        .node_id = c->node,
		        .peer = c->peer != NULL ? c->peer : "",
		        .connected = c->connected,
		        .connected_at = c->connected_at,
		        .disconnected_at = c->disconnected_at,
		        .alive_at = alive_at,
		};
		fn(arg, &info);
	}
}

/* Each connection is asked once per round. The list is searched again after every
 * call because a transport may remove the connection from inside disconnect(). */
static void kick_entry(struct tunnel_entry *e, enum exposr_disconnect_reason reason, bool only_new)
{
	unsigned round = ++ts.kick_round;
	for (;;) {
		struct exposr_tunnel_conn *c = e->conns;
		while (c != NULL && !(c->local && c->connected && c->kick_round != round &&
		                      !(only_new && c->kicked)))
			c = c->next;
		if (c == NULL)
			return;
		c->kick_round = round;
		c->kicked = true;
		c->vt->disconnect(c->conn, reason);
	}
}

void tunnel_state_kick(const char *tunnel_id, enum exposr_disconnect_reason reason)
{
	struct tunnel_entry *e = strmap_get(ts.tunnels, tunnel_id);
	if (e != NULL)
		kick_entry(e, reason, false);
}

void tunnel_state_kick_new(const char *tunnel_id, enum exposr_disconnect_reason reason)
{
	struct tunnel_entry *e = strmap_get(ts.tunnels, tunnel_id);
	if (e != NULL)
		kick_entry(e, reason, true);
}

static void on_waiter_timeout(void *arg)
{
	struct disconnect_waiter *w = arg;
	TAILQ_REMOVE(&w->entry->waiters, w, link);
	w->cb(w->arg, EXPOSR_ERROR);
	free(w);
}

void tunnel_state_disconnect(const char *tunnel_id, enum exposr_disconnect_reason reason,
                             exposr_done_cb cb, void *arg)
{
	struct tunnel_entry *e = strmap_get(ts.tunnels, tunnel_id);
	/* Cluster-wide: remote connections count until their node announces them gone. */
	unsigned alive = e != NULL ? e->alive : 0;
	if (alive == 0) {
		cb(arg, EXPOSR_OK);
		return;
	}
	kick_entry(e, reason, false);
	if (e->alive == 0) {
		cb(arg, EXPOSR_OK);
		return;
	}
	struct disconnect_waiter *w = calloc(1, sizeof(*w));
	if (w == NULL) {
		cb(arg, EXPOSR_ERROR);
		return;
	}
	w->entry = e;
	w->cb = cb;
	w->arg = arg;
	w->timer = timer_add(NULL, (uint64_t)TUNNEL_STATE_DISCONNECT_WAIT_MS * alive, false,
	                     on_waiter_timeout, w);
	if (w->timer == NULL) {
		free(w);
		cb(arg, EXPOSR_ERROR);
		return;
	}
	TAILQ_INSERT_HEAD(&e->waiters, w, link);
}

/* The next local connected connection after the one chosen last, in id order. */
static struct exposr_tunnel_conn *next_connection(struct tunnel_entry *e)
{
	struct exposr_tunnel_conn *first = NULL;
	for (struct exposr_tunnel_conn *c = e->conns; c != NULL; c = c->next) {
		if (!c->local || !c->connected)
			continue;
		if (first == NULL)
			first = c;
		if (strcmp(c->id, e->last_chosen) > 0)
			return c;
	}
	return first;
}

static void on_channel(void *arg, int status, struct exposr_stream *stream)
{
	struct open_req *r = arg;
	unlink_open(r);
	r->cb(r->arg, status, stream);
	if (r->in_open)
		r->completed = true;
	else
		free(r);
}

void *tunnel_state_open_stream(const char *tunnel_id, exposr_channel_cb cb, void *arg)
{
	return tunnel_state_open_stream_from(tunnel_id, NULL, cb, arg);
}

/* A transport built against ABI 1.2 has a shorter vtable without the slot. */
static bool has_open_channel_from(const struct exposr_transport_conn_vtable *vt)
{
	return vt->size >= offsetof(struct exposr_transport_conn_vtable, open_channel_from) +
	                           sizeof(vt->open_channel_from) &&
	       vt->open_channel_from != NULL;
}

void *tunnel_state_open_stream_from(const char *tunnel_id, const struct exposr_origin *origin,
                                    exposr_channel_cb cb, void *arg)
{
	struct tunnel_entry *e = strmap_get(ts.tunnels, tunnel_id);
	struct exposr_tunnel_conn *c = e != NULL ? next_connection(e) : NULL;
	if (c == NULL) {
		/* Connected elsewhere: the caller goes there instead (route()). */
		cb(arg, e != NULL && e->alive > 0 ? EXPOSR_DECLINED : EXPOSR_NOT_FOUND, NULL);
		return NULL;
	}
	memcpy(e->last_chosen, c->id, sizeof(e->last_chosen));
	struct open_req *r = calloc(1, sizeof(*r));
	if (r == NULL) {
		cb(arg, EXPOSR_ERROR, NULL);
		return NULL;
	}
	r->cb = cb;
	r->arg = arg;
	r->conn = c;
	LIST_INSERT_HEAD(&c->opens, r, link);
	r->in_open = true;
	void *token = origin != NULL && has_open_channel_from(c->vt)
	                      ? c->vt->open_channel_from(c->conn, origin, on_channel, r)
	                      : c->vt->open_channel(c->conn, on_channel, r);
	r->in_open = false;
	if (r->completed) {
		free(r);
		return NULL;
	}
	if (token == NULL || r->conn == NULL) {
		/* A transport that neither answered nor gave a token, or removed the
		 * connection meanwhile: the open cannot be tracked any more. */
		unlink_open(r);
		cb(arg, EXPOSR_ERROR, NULL);
		free(r);
		return NULL;
	}
	r->token = token;
	return r;
}

void tunnel_state_cancel_open(void *token)
{
	struct open_req *r = token;
	if (r == NULL)
		return;
	struct exposr_tunnel_conn *c = r->conn;
	unlink_open(r);
	if (c != NULL && c->vt != NULL && c->vt->cancel_open != NULL)
		c->vt->cancel_open(c->conn, r->token);
	free(r);
}

struct sweep {
	int64_t now;
	bool settled; /* an entry with waiters lost its last alive connection */
};

static bool sweep_entry(void *arg, const char *key, void *value)
{
	(void)key;
	struct sweep *sw = arg;
	int64_t now = sw->now;
	struct tunnel_entry *e = value;
	struct exposr_tunnel_conn **link = &e->conns;
	while (*link != NULL) {
		struct exposr_tunnel_conn *c = *link;
		bool silent = now - c->alive_at >= TUNNEL_STATE_REMOTE_TIMEOUT_MS;
		if (c->connected && !c->local && silent) {
			/* Its node stopped announcing it: gone, as far as we can tell. */
			c->connected = false;
			c->disconnected_at = now;
		}
		if (c->connected) {
			if (c->local)
				c->alive_at = now;
			link = &c->next;
		} else if (now - c->disconnected_at < TUNNEL_STATE_CONN_FORGET_MS) {
			link = &c->next;
		} else {
			*link = c->next;
			tunnel_conn_free(c);
		}
	}
	tunnel_entry_update(e, now);
	sw->settled = sw->settled || (!TAILQ_EMPTY(&e->waiters) && e->alive == 0);
	if (e->connected || e->conns != NULL || !TAILQ_EMPTY(&e->waiters) ||
	    (e->disconnected_at != 0 && now - e->disconnected_at <= TUNNEL_STATE_TUNNEL_FORGET_MS))
		return false;
	free_entry(e);
	return true;
}

/* Waiters are answered outside the map walk: their callbacks may call back in. */
static bool collect_settled(void *arg, const char *key, void *value)
{
	(void)key;
	struct tunnel_entry *e = value;
	struct tunnel_entry ***next = arg;
	if (!TAILQ_EMPTY(&e->waiters) && e->alive == 0)
		*(*next)++ = e;
	return false;
}

static void answer_settled(void)
{
	size_t n = strmap_count(ts.tunnels);
	struct tunnel_entry **list = calloc(n > 0 ? n : 1, sizeof(*list));
	if (list == NULL)
		return; /* their timers answer them instead */
	struct tunnel_entry **end = list;
	strmap_filter(ts.tunnels, collect_settled, &end);
	/* Only a sweep frees entries: the collected ones outlive the callbacks. */
	for (struct tunnel_entry **e = list; e < end; e++)
		tunnel_entry_fire_waiters(*e, EXPOSR_OK);
	free(list);
}

void tunnel_state_sweep(int64_t now_ms)
{
	struct sweep sw = {.now = now_ms};
	strmap_filter(ts.tunnels, sweep_entry, &sw);
	if (sw.settled)
		answer_settled();
	if (strmap_count(ts.tunnels) == 0 && ts.sweep_timer != NULL) {
		timer_cancel(ts.sweep_timer);
		ts.sweep_timer = NULL;
	}
}

static bool kick_for_shutdown(void *arg, const char *key, void *value)
{
	(void)arg;
	(void)key;
	/* Safe while iterating: with `stopping` set nothing adds entries, and entries
	 * are only freed by the sweep, never from inside a transport's disconnect. */
	kick_entry(value, EXPOSR_DISCONNECT_SHUTDOWN, false);
	return false;
}

void tunnel_state_shutdown(void)
{
	ts.stopping = true;
	strmap_filter(ts.tunnels, kick_for_shutdown, NULL);
}

void tunnel_state_free(void)
{
	strmap_free(ts.tunnels, free_entry);
	ts.tunnels = NULL;
	if (ts.sweep_timer != NULL)
		timer_cancel(ts.sweep_timer);
	ts.sweep_timer = NULL;
	ts.stopping = false;
	ts.on_local_change = NULL;
}
