/* tcpip-forward: read (and maybe update) the tunnel's target, then answer. */
#include "forward_req.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include <common/tunnel_object.h>
#include <whatwg_url.h>

#include "forward.h"
#include "tls_target.h"

struct forward_req {
	struct ssh_conn *c;
	ssh_message msg;
	char address[SSH_BIND_ADDR_SIZE];
	long port;
	struct forward_result res;
};

static void finish(struct forward_req *r, bool ok)
{
	struct ssh_conn *c = r->c;
	c->pending--;
	if (c->phase == CONN_OPEN) {
		if (ok) {
			/* Channels name the forward as OpenSSH registered it (§7.4). */
			memcpy(c->forward.address, r->address, sizeof(r->address));
			c->forward.port = r->port != 0 ? r->port : r->res.allocated;
			struct url_parts u;
			c->forward.tls_host[0] = '\0';
			if (url_parse(r->res.url, &u) && tls_scheme(u.scheme))
				snprintf(c->forward.tls_host, sizeof(c->forward.tls_host), "%s",
				         u.hostname);
			c->has_forward = true;
			ssh_message_global_request_reply_success(r->msg,
			                                         (uint16_t)r->res.allocated);
			ssh_log(c->sm, EXPOSR_LOG_INFO, "tunnel %s: forwarding %s:%ld to %s",
			        c->tunnel_id, r->address, c->forward.port, r->res.url);
		} else {
			ssh_log(c->sm, EXPOSR_LOG_DEBUG,
			        "tunnel %s: tcpip-forward %s:%ld refused: no target port",
			        c->tunnel_id, r->address, r->port);
			ssh_message_reply_default(r->msg);
		}
	}
	ssh_message_free(r->msg);
	free(r);
	ssh_conn_kick(c);
}

/* Under the tunnel's lock: the same rule on the freshest record. */
static int apply_target(void *arg, cJSON *record)
{
	struct forward_req *r = arg;
	cJSON *target = cJSON_GetObjectItemCaseSensitive(record, "target");
	if (!cJSON_IsObject(target) ||
	    forward_apply(record_string(record, "target.url"), r->address, r->port, &r->res) != 0)
		return EXPOSR_ERROR;
	cJSON *url = cJSON_CreateString(r->res.url);
	if (url == NULL)
		return EXPOSR_ERROR;
	cJSON_DeleteItemFromObjectCaseSensitive(target, "url");
	if (!cJSON_AddItemToObject(target, "url", url)) {
		cJSON_Delete(url);
		return EXPOSR_ERROR;
	}
	return EXPOSR_OK;
}

static void on_updated(void *arg, int status, const cJSON *record)
{
	(void)record;
	struct forward_req *r = arg;
	finish(r, status == EXPOSR_OK && r->res.allocated != 0);
}

static void on_record(void *arg, int status, const cJSON *record)
{
	struct forward_req *r = arg;
	struct ssh_conn *c = r->c;
	if (status != EXPOSR_OK || c->phase != CONN_OPEN ||
	    forward_apply(record_string(record, "target.url"), r->address, r->port, &r->res) != 0 ||
	    r->res.allocated == 0) {
		finish(r, false);
		return;
	}
	if (!r->res.changed) {
		finish(r, true);
		return;
	}
	c->sm->host->tunnels->update(c->tunnel_id, apply_target, r, on_updated, r);
}

void forward_request(struct ssh_conn *c, ssh_message msg)
{
	const char *address = ssh_message_global_request_address(msg);
	int port = ssh_message_global_request_port(msg);
	if (address == NULL)
		address = "";
	if (port < 0 || port > FORWARD_PORT_MAX || strlen(address) >= SSH_BIND_ADDR_SIZE) {
		ssh_log(c->sm, EXPOSR_LOG_DEBUG, "tunnel %s: tcpip-forward for port %d refused",
		        c->tunnel_id, port);
		ssh_message_reply_default(msg);
		ssh_message_free(msg);
		return;
	}
	struct forward_req *r = calloc(1, sizeof(*r));
	if (r == NULL) {
		ssh_message_reply_default(msg);
		ssh_message_free(msg);
		return;
	}
	r->c = c;
	r->msg = msg;
	strcpy(r->address, address);
	r->port = port;
	c->pending++;
	c->sm->host->tunnels->get(c->tunnel_id, on_record, r);
}
