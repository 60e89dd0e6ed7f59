/* tunnel:announce (docs/cluster.md §8.2, §8.3): this node's connections, every 5 s and right
 * after they change, and what the other nodes announce of theirs. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "cluster.h"
#include "cluster_announce.h"
#include "cluster_tunnels.h"
#include "log.h"
#include "strmap.h"
#include "timer.h"
#include "tunnel_state.h"

static struct strmap *dirty; /* tunnel id -> &dirty_marker: to announce soon */
static char dirty_marker;
static struct exposr_timer *flush_timer;

/* ---- building announcements ---- */

struct conns_ctx {
	cJSON *list;
	bool failed;
};

static bool add_time(cJSON *obj, const char *key, int64_t ms)
{
	return cJSON_AddNumberToObject(obj, key, (double)ms) != NULL;
}

/* {"connection_id","node","peer","connected","connected_at"[,"disconnected_at"]} */
static void add_conn(void *arg, const struct tunnel_conn_view *v)
{
	struct conns_ctx *ctx = arg;
	cJSON *o = cJSON_CreateObject();
	if (o == NULL || !cJSON_AddItemToArray(ctx->list, o)) {
		cJSON_Delete(o);
		ctx->failed = true;
		return;
	}
	if (cJSON_AddStringToObject(o, "connection_id", v->connection_id) == NULL ||
	    cJSON_AddStringToObject(o, "node", v->node) == NULL ||
	    cJSON_AddStringToObject(o, "peer", v->peer) == NULL ||
	    cJSON_AddBoolToObject(o, "connected", v->connected) == NULL ||
	    !add_time(o, "connected_at", v->connected_at) ||
	    (v->disconnected_at != 0 && !add_time(o, "disconnected_at", v->disconnected_at)))
		ctx->failed = true;
}

/* The tunnel's entry of an announcement; NULL when it has no local connection (or
 * memory ran out). */
static cJSON *tunnel_item(const char *tunnel_id)
{
	cJSON *item = cJSON_CreateObject();
	struct conns_ctx ctx = {0};
	if (item == NULL || cJSON_AddStringToObject(item, "tunnel_id", tunnel_id) == NULL ||
	    (ctx.list = cJSON_AddArrayToObject(item, "connections")) == NULL ||
	    tunnel_state_local_conns(tunnel_id, add_conn, &ctx) == 0 || ctx.failed) {
		if (ctx.failed)
			log_msg("cluster", EXPOSR_LOG_WARN,
			        "tunnel %s: cannot build its announcement", tunnel_id);
		cJSON_Delete(item);
		return NULL;
	}
	return item;
}

/* Collects tunnel entries and publishes them CLUSTER_ANNOUNCE_BATCH at a time. */
struct announcer {
	cJSON *batch;
	size_t count;
};

static void announcer_flush(struct announcer *a)
{
	if (a->batch != NULL && a->count > 0)
		cluster_publish(EVENT_ANNOUNCE, a->batch);
	cJSON_Delete(a->batch);
	a->batch = NULL;
	a->count = 0;
}

/* Publishing reads no connection state and changes none: safe inside the walks. */
static void announcer_add(void *arg, const char *tunnel_id)
{
	struct announcer *a = arg;
	cJSON *item = tunnel_item(tunnel_id);
	if (item == NULL)
		return;
	if (a->batch == NULL && (a->batch = cJSON_CreateArray()) == NULL) {
		cJSON_Delete(item);
		return;
	}
	if (!cJSON_AddItemToArray(a->batch, item)) {
		cJSON_Delete(item);
		return;
	}
	if (++a->count == CLUSTER_ANNOUNCE_BATCH)
		announcer_flush(a);
}

void cluster_announce_all(void)
{
	struct announcer a = {0};
	tunnel_state_each_local(announcer_add, &a);
	announcer_flush(&a);
}

/* ---- announcing changes ---- */

static bool announce_dirty(void *arg, const char *key, void *value)
{
	(void)value;
	announcer_add(arg, key);
	return false;
}

static void flush_dirty(void *arg)
{
	(void)arg;
	flush_timer = NULL;
	struct strmap *changed = dirty;
	dirty = NULL;
	struct announcer a = {0};
	strmap_filter(changed, announce_dirty, &a);
	announcer_flush(&a);
	strmap_free(changed, NULL);
}

void cluster_announce_changed(const char *tunnel_id)
{
	if (dirty == NULL && (dirty = strmap_new()) == NULL)
		return; /* the periodic announcement will tell */
	if (strmap_put(dirty, tunnel_id, &dirty_marker) != EXPOSR_OK)
		return;
	if (flush_timer == NULL &&
	    (flush_timer = timer_add(NULL, 0, false, flush_dirty, NULL)) == NULL)
		log_msg("cluster", EXPOSR_LOG_WARN, "cannot schedule an announcement");
}

/* ---- learning ---- */

/* A time in ms since the epoch, 0 when absent; false when it is there but not one. */
static bool time_or_zero(const cJSON *obj, const char *key, int64_t *out)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(obj, key);
	*out = 0;
	return n == NULL || cJSON_IsNull(n) || cluster_json_int(n, 0, CLUSTER_MAX_INT, out);
}

static const char *string_or_null(const cJSON *obj, const char *key)
{
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(obj, key);
	return cJSON_IsString(s) ? s->valuestring : NULL;
}

static void learn_tunnel(const cJSON *item, const char *node_id, int64_t now)
{
	const char *tunnel_id = string_or_null(item, "tunnel_id");
	const cJSON *conns = cJSON_GetObjectItemCaseSensitive(item, "connections");
	if (tunnel_id == NULL || (conns != NULL && !cJSON_IsArray(conns))) {
		log_msg("cluster", EXPOSR_LOG_DEBUG, "ignored a malformed announcement from %s",
		        node_id);
		return;
	}
	int size = cJSON_GetArraySize(conns);
	struct tunnel_conn_view *views = calloc(size > 0 ? (size_t)size : 1, sizeof(*views));
	if (views == NULL)
		return;
	size_t n = 0;
	const cJSON *c;
	cJSON_ArrayForEach(c, conns)
	{
		if (!cJSON_IsObject(c) || string_or_null(c, "connection_id") == NULL)
			continue;
		struct tunnel_conn_view *v = &views[n++];
		*v = (struct tunnel_conn_view){
		        .connection_id = string_or_null(c, "connection_id"),
		        .node = string_or_null(c, "node"),
		        .peer = string_or_null(c, "peer"),
		        .connected = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "connected")),
		};
		if (!time_or_zero(c, "connected_at", &v->connected_at) ||
		    !time_or_zero(c, "disconnected_at", &v->disconnected_at)) {
			log_msg("cluster", EXPOSR_LOG_DEBUG,
			        "ignored an announcement of %s from %s: a time out of range",
			        tunnel_id, node_id);
			free(views);
			return;
		}
	}
	if (tunnel_state_learn(tunnel_id, node_id, views, n, now) != EXPOSR_OK)
		log_msg("cluster", EXPOSR_LOG_WARN, "tunnel %s: cannot learn what %s announced",
		        tunnel_id, node_id);
	free(views);
}

void cluster_announce_on_message(const struct cluster_message *m, int64_t now)
{
	if (!cJSON_IsArray(m->message)) {
		log_msg("cluster", EXPOSR_LOG_DEBUG, "ignored an announcement from %s: not a list",
		        m->node_id);
		return;
	}
	const cJSON *item;
	cJSON_ArrayForEach(item, m->message)
	{
		learn_tunnel(item, m->node_id, now);
	}
}

void cluster_announce_free(void)
{
	timer_cancel(flush_timer);
	flush_timer = NULL;
	strmap_free(dirty, NULL);
	dirty = NULL;
}
