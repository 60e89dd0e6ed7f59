/* Disconnect events and re-routing choices of the cluster (docs/api.md §2.6, docs/cluster.md §8.2,
 * §8.6). */
#include "cluster_tunnels.h"

#include <cjson/cJSON.h>
#include <string.h>

#include "cluster.h"
#include "cluster_nodes.h"
#include "log.h"
#include "tunnel_state.h"

static void publish_disconnect(const char *tunnel_id)
{
	cJSON *message = cJSON_CreateObject();
	if (message == NULL || cJSON_AddStringToObject(message, "tunnel_id", tunnel_id) == NULL ||
	    cluster_publish(EVENT_DISCONNECT, message) != EXPOSR_OK)
		log_msg("cluster", EXPOSR_LOG_DEBUG,
		        "tunnel %s: disconnect not sent to the cluster", tunnel_id);
	cJSON_Delete(message);
}

void cluster_disconnect_tunnel(const char *tunnel_id, enum exposr_disconnect_reason reason)
{
	if (tunnel_id == NULL)
		return;
	/* This node's connections hear the real reason now; its own message, when it
	 * comes back, only reaches connections that came since. */
	tunnel_state_kick(tunnel_id, reason);
	publish_disconnect(tunnel_id);
}

void cluster_tunnels_disconnect(const char *tunnel_id, enum exposr_disconnect_reason reason,
                                exposr_done_cb cb, void *arg)
{
	if (tunnel_id == NULL) {
		cb(arg, EXPOSR_OK);
		return;
	}
	publish_disconnect(tunnel_id);
	tunnel_state_disconnect(tunnel_id, reason, cb, arg);
}

void cluster_tunnels_on_disconnect(const struct cluster_message *m)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(m->message, "tunnel_id");
	if (!cJSON_IsString(id)) {
		log_msg("cluster", EXPOSR_LOG_DEBUG,
		        "tunnel:disconnect from %s without a tunnel_id", m->node_id);
		return;
	}
	/* The message says nothing of why: an API disconnect is what 0.12 means by it. */
	tunnel_state_kick_new(id->valuestring, EXPOSR_DISCONNECT_REQUESTED);
}

static bool node_usable(const char *node_id)
{
	const struct cluster_node *n = cluster_nodes_find(node_id);
	return n != NULL && n->ip[0] != '\0' && strlen(n->ip) < EXPOSR_ROUTE_IP_MAX &&
	       !cluster_node_stale(n, cluster_now());
}

int cluster_tunnels_route(const char *tunnel_id, struct exposr_tunnel_route *out)
{
	memset(out, 0, sizeof(*out));
	if (tunnel_id == NULL)
		return EXPOSR_NOT_FOUND;
	bool local = false;
	char node[IDS_NODE_ID_LEN + 1];
	int rc = tunnel_state_route(tunnel_id, node_usable, &local, node);
	if (rc != EXPOSR_OK)
		return rc;
	if (local) {
		out->local = true;
		return EXPOSR_OK;
	}
	const struct cluster_node *n = cluster_nodes_find(node);
	if (n == NULL)
		return EXPOSR_ERROR; /* node_usable just said otherwise: cannot happen */
	memcpy(out->node_id, n->id, sizeof(out->node_id));
	strcpy(out->ip, n->ip);
	return EXPOSR_OK;
}
