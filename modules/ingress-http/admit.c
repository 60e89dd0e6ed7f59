/* The first request on a public connection: which tunnel its Host names (§5.2), the
 * checks of §5.3 in their order, the tunnel channel, then the hand-over to proxied.c. */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "errors.h"
#include "ingress_http.h"
#include "tunnel_lookup.h"

struct admission {
	LIST_ENTRY(admission) link;
	struct ingress *in;
	struct exposr_http_request *req;
	void *open_token; /* while the channel is being opened */
	struct ingress_tunnel tunnel;
};

static struct admission *admission_new(struct ingress *in, struct exposr_http_request *req)
{
	struct admission *a = calloc(1, sizeof(*a));
	if (a == NULL)
		return NULL;
	a->in = in;
	a->req = req;
	LIST_INSERT_HEAD(&in->admissions, a, link);
	in->admission_count++;
	return a;
}

/* The request has been answered, declined or taken over. */
static void admission_free(struct admission *a)
{
	struct ingress *in = a->in;
	LIST_REMOVE(a, link);
	in->admission_count--;
	free(a);
	ingress_check_drained(in);
}

static void admission_decline(struct admission *a)
{
	a->in->host->http->decline(a->req);
	admission_free(a);
}

/* A request that names a tunnel but cannot be carried: JSON through the listener for
 * ordinary requests, §5.3's raw answer on the socket for upgrades. */
static void admission_fail(struct admission *a, int status, const char *code)
{
	const struct exposr_host *host = a->in->host;
	struct exposr_http_request *req = a->req;
	ingress_log(a->in, EXPOSR_LOG_DEBUG, "%s %s for tunnel %s: %d %s", req->method, req->path,
	            a->tunnel.id, status, code);
	if (!req->upgrade) {
		error_respond(host, req, status, code);
		admission_free(a);
		return;
	}
	struct evbuffer *response = evbuffer_new();
	struct bufferevent *bev = host->http->takeover(req);
	if (bev != NULL) {
		if (response != NULL &&
		    error_format_raw(response, req->http_major, req->http_minor, status,
		                     host->http->reason(status), code) == EXPOSR_OK)
			error_send_and_close(host, bev, response);
		else
			bufferevent_free(bev);
	}
	if (response != NULL)
		evbuffer_free(response);
	host->http->release(req);
	admission_free(a);
}

static void on_channel(void *arg, int status, struct exposr_stream *channel, bool remote)
{
	struct admission *a = arg;
	struct ingress *in = a->in;
	a->open_token = NULL;
	a->tunnel.remote = remote;
	if (status == EXPOSR_AGAIN) {
		admission_fail(a, 429, ERR_REQUEST_LIMIT);
		return;
	}
	if (status != EXPOSR_OK || channel == NULL) {
		admission_fail(a, 502, ERR_TARGET_CON_FAILED);
		return;
	}
	proxied_start(in, a->req, channel, &a->tunnel);
	admission_free(a);
}

static void open_channel(struct admission *a)
{
	/* Another node is reached at this node's port, which every node shares (§8.6). */
	const struct exposr_reach_options opts = {.port = a->req->local_port};
	/* The direct peer: X-Forwarded-For of a request another node re-routed here cannot be
	 * told from one a client forged, so such a request names that node. */
	const struct exposr_origin origin = {.ip = a->req->remote_addr,
	                                     .port = a->req->remote_port};
	/* NULL: on_channel already ran and `a` may be gone. */
	void *token = a->in->host->tunnels->reach_from(a->tunnel.id, &opts, &origin, on_channel, a);
	if (token != NULL)
		a->open_token = token;
}

static const cJSON *json_path(const cJSON *node, const char *a, const char *b)
{
	node = cJSON_GetObjectItemCaseSensitive(node, a);
	return b != NULL ? cJSON_GetObjectItemCaseSensitive(node, b) : node;
}

/* Host, Referer and Origin follow an http(s) target (§5.5); other targets leave them. */
static void read_target(const cJSON *record, struct ingress_target *target)
{
	const cJSON *url = json_path(record, "target", "url");
	struct url_parts parts;
	memset(target, 0, sizeof(*target));
	if (!cJSON_IsString(url) || !url_parse(url->valuestring, &parts) ||
	    (strcmp(parts.scheme, "http") != 0 && strcmp(parts.scheme, "https") != 0))
		return;
	target->rewrite = true;
	strcpy(target->scheme, parts.scheme);
	strcpy(target->hostname, parts.hostname);
	strcpy(target->port, parts.port);
}

static void on_record(void *arg, int status, const struct cJSON *record)
{
	struct admission *a = arg;
	const struct exposr_host *host = a->in->host;
	struct exposr_http_request *req = a->req;
	if (status == EXPOSR_NOT_FOUND) {
		admission_fail(a, 404, ERR_TUNNEL_NOT_FOUND);
		return;
	}
	if (status != EXPOSR_OK || record == NULL) {
		ingress_log(a->in, EXPOSR_LOG_WARN, "cannot read tunnel %s", a->tunnel.id);
		admission_fail(a, 500, ERR_UNKNOWN);
		return;
	}
	bool enabled = cJSON_IsTrue(
	        cJSON_GetObjectItemCaseSensitive(json_path(record, "ingress", "http"), "enabled"));
	read_target(record, &a->tunnel.target);
	struct exposr_tunnel_state state = {0};
	host->tunnels->state(a->tunnel.id, &state);
	/* 0.12 answers upgrades 502 here, ordinary requests 503 (a quirk clients see). */
	if (!state.connected)
		admission_fail(a, req->upgrade ? 502 : 503, ERR_TUNNEL_NOT_CONNECTED);
	else if (!enabled)
		admission_fail(a, 403, ERR_HTTP_INGRESS_DISABLED);
	else if (tunnel_loop_detected(req, host->node_id()))
		admission_fail(a, 508, ERR_REQUEST_LOOP);
	else
		open_channel(a);
}

static void on_alt_name(void *arg, int status, const char *tunnel_id)
{
	struct admission *a = arg;
	if (status == EXPOSR_OK && tunnel_id != NULL && strlen(tunnel_id) < sizeof(a->tunnel.id)) {
		strcpy(a->tunnel.id, tunnel_id);
		a->in->host->tunnels->get(a->tunnel.id, on_record, a);
		return;
	}
	if (status != EXPOSR_OK && status != EXPOSR_NOT_FOUND)
		ingress_log(a->in, EXPOSR_LOG_WARN, "alt-name lookup of %s failed", a->tunnel.host);
	admission_decline(a);
}

void admission_handle(void *self, struct exposr_http_request *req)
{
	struct ingress *in = self;
	const struct exposr_host *host = in->host;
	char name[INGRESS_NAME_MAX];
	if (!tunnel_host_of(host->http->header(req, "Host"), name, sizeof(name))) {
		host->http->decline(req);
		return;
	}
	struct admission *a = admission_new(in, req);
	if (a == NULL) {
		host->http->respond(req, 500, NULL, NULL, 0);
		return;
	}
	strcpy(a->tunnel.host, name);
	if (tunnel_id_from_subdomain(name, in->settings.domain, a->tunnel.id, sizeof(a->tunnel.id)))
		host->tunnels->get(a->tunnel.id, on_record, a);
	else if (tunnel_alt_name_candidate(name))
		host->tunnels->lookup_alt_name("http", name, on_alt_name, a);
	else
		admission_decline(a);
}

void admissions_abort_all(struct ingress *in)
{
	while (!LIST_EMPTY(&in->admissions)) {
		struct admission *a = LIST_FIRST(&in->admissions);
		if (a->open_token != NULL)
			in->host->tunnels->cancel_reach(a->open_token);
		in->host->http->respond(a->req, 503, NULL, NULL, 0);
		admission_free(a);
	}
}
