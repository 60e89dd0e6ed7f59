/* GET /v1/admin/cluster: the nodes this node knows (docs/api.md §3.2, docs/cluster.md §8.5), from
 * the core's cluster service. */
#include <cjson/cJSON.h>

#include "admin_api.h"
#include "iso_time.h"

struct node_list {
	cJSON *nodes;
	bool failed;
};

static bool add_node(cJSON *nodes, const struct exposr_cluster_node *n)
{
	char alive_at[ISO_TIME_LEN];
	iso_time_format(n->alive_at, alive_at);
	cJSON *node = cJSON_CreateObject();
	if (node == NULL || !cJSON_AddItemToArray(nodes, node)) {
		cJSON_Delete(node);
		return false;
	}
	return cJSON_AddStringToObject(node, "node_id", n->node_id) != NULL &&
	       cJSON_AddStringToObject(node, "host", n->host) != NULL &&
	       cJSON_AddStringToObject(node, "ip", n->ip) != NULL &&
	       cJSON_AddStringToObject(node, "alive_at", alive_at) != NULL &&
	       cJSON_AddNumberToObject(node, "alive_age", (double)n->alive_age) != NULL &&
	       cJSON_AddBoolToObject(node, "is_stale", n->stale) != NULL;
}

static void on_node(void *arg, const struct exposr_cluster_node *n)
{
	struct node_list *list = arg;
	if (!list->failed && !add_node(list->nodes, n))
		list->failed = true;
}

void admin_cluster(struct admin_call *call)
{
	const struct exposr_host *host = call->api->host;
	struct node_list list = {0};
	cJSON *body = cJSON_CreateObject();
	if (body == NULL || (list.nodes = cJSON_AddArrayToObject(body, "nodes")) == NULL) {
		cJSON_Delete(body);
		call_text(&call->call, 500);
		return;
	}
	host->cluster->nodes(on_node, &list);
	if (list.failed) {
		cJSON_Delete(body);
		body = NULL;
	}
	call_json(&call->call, 200, body);
}
