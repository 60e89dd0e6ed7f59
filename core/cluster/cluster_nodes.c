/* The nodes this node has heard of (docs/cluster.md §8.5). */
#include "cluster_nodes.h"

#include <stdlib.h>
#include <string.h>

#include "strmap.h"

static struct strmap *nodes; /* id -> struct cluster_node */

static void node_free(void *value)
{
	struct cluster_node *n = value;
	if (n == NULL)
		return;
	free(n->host);
	free(n->ip);
	free(n);
}

struct cluster_node *cluster_nodes_find(const char *id)
{
	return id != NULL ? strmap_get(nodes, id) : NULL;
}

/* Both strings or neither: a node is never left half updated. */
static int replace_strings(struct cluster_node *n, const char *host, const char *ip)
{
	char *h = strdup(host != NULL ? host : "");
	char *i = strdup(ip != NULL ? ip : "");
	if (h == NULL || i == NULL) {
		free(h);
		free(i);
		return EXPOSR_ERROR;
	}
	free(n->host);
	free(n->ip);
	n->host = h;
	n->ip = i;
	return EXPOSR_OK;
}

struct cluster_node *cluster_nodes_add(const char *id, const char *host, const char *ip,
                                       int64_t alive_at)
{
	if (id == NULL || strlen(id) != IDS_NODE_ID_LEN)
		return NULL;
	if (nodes == NULL && (nodes = strmap_new()) == NULL)
		return NULL;
	struct cluster_node *n = calloc(1, sizeof(*n));
	if (n == NULL)
		return NULL;
	memcpy(n->id, id, IDS_NODE_ID_LEN + 1);
	n->alive_at = alive_at;
	if (replace_strings(n, host, ip) != EXPOSR_OK || strmap_put(nodes, id, n) != EXPOSR_OK) {
		node_free(n);
		return NULL;
	}
	return n;
}

int cluster_nodes_update(struct cluster_node *n, const char *host, const char *ip, int64_t alive_at)
{
	/* A heartbeat delayed behind a newer one must not make the node look older. */
	if (alive_at > n->alive_at)
		n->alive_at = alive_at;
	if (strcmp(n->host, host != NULL ? host : "") == 0 &&
	    strcmp(n->ip, ip != NULL ? ip : "") == 0)
		return EXPOSR_OK;
	return replace_strings(n, host, ip);
}

void cluster_nodes_remove(const char *id)
{
	node_free(strmap_remove(nodes, id));
}

/* now - alive_at > limit, without the subtraction that could overflow. */
static bool silent_longer_than(int64_t alive_at, int64_t now, int64_t limit)
{
	return now > alive_at && (uint64_t)now - (uint64_t)alive_at > (uint64_t)limit;
}

bool cluster_node_stale(const struct cluster_node *n, int64_t now)
{
	return silent_longer_than(n->alive_at, now, CLUSTER_NODE_STALE_MS);
}

static bool forget_silent(void *arg, const char *key, void *value)
{
	(void)key;
	int64_t now = *(const int64_t *)arg;
	struct cluster_node *n = value;
	if (!silent_longer_than(n->alive_at, now, CLUSTER_NODE_FORGET_MS))
		return false;
	node_free(n);
	return true;
}

void cluster_nodes_sweep(int64_t now)
{
	strmap_filter(nodes, forget_silent, &now);
}

size_t cluster_nodes_count(void)
{
	return strmap_count(nodes);
}

struct each {
	const char *skip_id;
	int64_t now;
	void (*fn)(void *arg, const struct exposr_cluster_node *n);
	void *arg;
};

static bool visit(void *arg, const char *key, void *value)
{
	struct each *each = arg;
	const struct cluster_node *n = value;
	if (each->skip_id != NULL && strcmp(key, each->skip_id) == 0)
		return false;
	struct exposr_cluster_node view = {
	        .node_id = n->id,
	        .host = n->host,
	        .ip = n->ip,
	        .alive_at = n->alive_at,
	        .alive_age = silent_longer_than(n->alive_at, each->now, 0)
	                             ? (int64_t)((uint64_t)each->now - (uint64_t)n->alive_at)
	                             : 0,
	        .stale = cluster_node_stale(n, each->now),
	        .self = false,
	};
	each->fn(each->arg, &view);
	return false;
}

void cluster_nodes_each(const char *skip_id, int64_t now,
                        void (*fn)(void *arg, const struct exposr_cluster_node *n), void *arg)
{
	struct each each = {.skip_id = skip_id, .now = now, .fn = fn, .arg = arg};
	strmap_filter(nodes, visit, &each);
}

void cluster_nodes_free(void)
{
	strmap_free(nodes, node_free);
	nodes = NULL;
}
