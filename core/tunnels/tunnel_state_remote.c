/* The cluster's view of the connection state (docs/cluster.md §8.2): what other nodes
 * announce, what this node announces, and where an ingress reaches a tunnel. */
#include <stdlib.h>
#include <string.h>

#include "tunnel_state_int.h"

#define ts tunnel_state_g

void tunnel_state_on_local_change(void (*fn)(const char *tunnel_id))
{
	ts.on_local_change = fn;
}

static void drop_remote_of(struct tunnel_entry *e, const char *node_id)
{
	struct exposr_tunnel_conn **link = &e->conns;
	while (*link != NULL) {
		struct exposr_tunnel_conn *c = *link;
		if (!c->local && strcmp(c->node, node_id) == 0) {
			*link = c->next;
			tunnel_conn_free(c);
		} else {
			link = &c->next;
		}
	}
}

static bool known_id(const struct tunnel_entry *e, const char *id)
{
	for (const struct exposr_tunnel_conn *c = e->conns; c != NULL; c = c->next)
		if (strcmp(c->id, id) == 0)
			return true;
	return false;
}

/* A view that can be kept: ids that fit, one node, no duplicates. */
static bool acceptable(const struct tunnel_entry *e, const struct tunnel_conn_view *v,
                       const char *node_id)
{
	return v->connection_id != NULL && v->connection_id[0] != '\0' &&
	       strlen(v->connection_id) <= IDS_CONNECTION_ID_LEN &&
	       (v->node == NULL || strcmp(v->node, node_id) == 0) && !known_id(e, v->connection_id);
}

static struct exposr_tunnel_conn *remote_conn(struct tunnel_entry *e,
                                              const struct tunnel_conn_view *v, const char *node_id,
                                              int64_t now)
{
	struct exposr_tunnel_conn *c = calloc(1, sizeof(*c));
	if (c == NULL || (c->peer = strdup(v->peer != NULL ? v->peer : "")) == NULL) {
		free(c);
		return NULL;
	}
	c->entry = e;
	strcpy(c->id, v->connection_id);
	strcpy(c->node, node_id);
	c->connected = v->connected;
	c->connected_at = v->connected_at;
	c->disconnected_at = v->disconnected_at;
	if (!c->connected && c->disconnected_at == 0)
		c->disconnected_at = now;
	c->alive_at = now;
	return c;
}

int tunnel_state_learn(const char *tunnel_id, const char *node_id,
                       const struct tunnel_conn_view *conns, size_t count, int64_t now)
{
	if (tunnel_id == NULL || node_id == NULL || strlen(node_id) != IDS_NODE_ID_LEN ||
	    strcmp(node_id, ids_node_id()) == 0)
		return EXPOSR_ERROR;
	struct tunnel_entry *e = strmap_get(ts.tunnels, tunnel_id);
	if (e == NULL && count == 0)
		return EXPOSR_OK; /* nothing known, nothing to know */
	if (e == NULL && (e = tunnel_entry_create(tunnel_id)) == NULL)
		return EXPOSR_ERROR;
	drop_remote_of(e, node_id);
	int rc = EXPOSR_OK;
	for (size_t i = 0; i < count; i++) {
		if (!acceptable(e, &conns[i], node_id))
			continue;
		struct exposr_tunnel_conn *c = remote_conn(e, &conns[i], node_id, now);
		if (c == NULL) {
			rc = EXPOSR_ERROR;
			break;
		}
		tunnel_entry_insert(e, c);
	}
	tunnel_state_ensure_sweep_timer();
	tunnel_entry_settle(e, now);
	return rc;
}

static bool has_local(const struct tunnel_entry *e)
{
	for (const struct exposr_tunnel_conn *c = e->conns; c != NULL; c = c->next)
		if (c->local)
			return true;
	return false;
}

struct each_local {
	void (*fn)(void *arg, const char *tunnel_id);
	void *arg;
};

static bool visit_local(void *arg, const char *key, void *value)
{
	struct each_local *each = arg;
	if (has_local(value))
		each->fn(each->arg, key);
	return false;
}

void tunnel_state_each_local(void (*fn)(void *arg, const char *tunnel_id), void *arg)
{
	struct each_local each = {.fn = fn, .arg = arg};
	strmap_filter(ts.tunnels, visit_local, &each);
}

size_t tunnel_state_local_conns(const char *tunnel_id,
                                void (*fn)(void *arg, const struct tunnel_conn_view *c), void *arg)
{
	const struct tunnel_entry *e = strmap_get(ts.tunnels, tunnel_id);
	size_t n = 0;
	for (const struct exposr_tunnel_conn *c = e != NULL ? e->conns : NULL; c != NULL;
	     c = c->next) {
		if (!c->local)
			continue;
		struct tunnel_conn_view v = {
		        .connection_id = c->id,
		        .node = c->node,
		        .peer = c->peer,
		        .connected = c->connected,
		        .connected_at = c->connected_at,
		        .disconnected_at = c->connected ? 0 : c->disconnected_at,
		};
		fn(arg, &v);
		n++;
	}
	return n;
}

/* The next remote connected connection after the one chosen last, in id order, whose
 * node is usable; *seen tells whether there was any remote connected one at all. */
static struct exposr_tunnel_conn *next_remote(struct tunnel_entry *e,
                                              bool (*usable)(const char *node_id), bool *seen)
{
	struct exposr_tunnel_conn *first = NULL;
	for (struct exposr_tunnel_conn *c = e->conns; c != NULL; c = c->next) {
		if (c->local || !c->connected)
			continue;
		*seen = true;
		if (usable != NULL && !usable(c->node))
			continue;
		if (first == NULL)
			first = c;
		if (strcmp(c->id, e->last_remote) > 0)
			return c;
	}
	return first;
}

int tunnel_state_route(const char *tunnel_id, bool (*usable)(const char *node_id), bool *local,
                       char node_id[IDS_NODE_ID_LEN + 1])
{
	struct tunnel_entry *e = strmap_get(ts.tunnels, tunnel_id);
	*local = false;
	node_id[0] = '\0';
	if (e == NULL)
		return EXPOSR_NOT_FOUND;
	for (const struct exposr_tunnel_conn *c = e->conns; c != NULL; c = c->next) {
		if (c->local && c->connected) {
			/* open_stream does the local round-robin itself. */
			*local = true;
			return EXPOSR_OK;
		}
	}
	bool seen = false;
	struct exposr_tunnel_conn *c = next_remote(e, usable, &seen);
	if (c == NULL)
		return seen ? EXPOSR_ERROR : EXPOSR_NOT_FOUND;
	memcpy(e->last_remote, c->id, sizeof(e->last_remote));
	memcpy(node_id, c->node, IDS_NODE_ID_LEN + 1);
	return EXPOSR_OK;
}
