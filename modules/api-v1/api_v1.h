/* The public REST API v1 (docs/api.md §2): module state and the per-request context. */
#ifndef EXPOSR_API_V1_H
#define EXPOSR_API_V1_H

#include <exposr/host.h>

#include "common/call.h"
#include "tunnel_patch.h"
#include "whatwg_url.h"

struct cJSON;
struct cname_resolver;
struct tunnel_update;

#define API_V1_MAX_BODY (64 * 1024)
/* After the HTTP ingress (10), which must see tunnel hosts first. */
#define API_V1_PRIORITY 100
/* Room for any tunnel id the regex accepts (65 characters). */
#define TUNNEL_ID_MAX 80

struct api_v1 {
	const struct exposr_host *host;
	struct exposr_module_handle *mod;
	int port;
	/* --api-url's "hostname[:port]"; "" when the API answers every host. */
	char filter_host[URL_HOSTNAME_MAX + 8];
	bool allow_registration;
	struct cname_resolver *resolver;
	struct call_tracker calls; /* requests waiting for a service */
};

/* One request between its arrival and its answer. */
struct api_call {
	struct call call; /* first: answered through call_json() & co, which free it */
	struct api_v1 *api;
	char tunnel_id[TUNNEL_ID_MAX];
	char account_id[EXPOSR_ACCOUNT_ID_LEN + 1]; /* the authenticated account */
	bool is_put;
	struct tunnel_patch patch;
	struct tunnel_update *update;
};

struct api_call *api_call_new(struct api_v1 *api, struct exposr_http_request *req,
                              const struct url_parts *base);
/* Whether the tunnel `record` belongs to the authenticated account. */
bool api_call_owns(const struct api_call *call, const struct cJSON *record);

/* The route, registered on the listener of api->port. */
bool api_match(void *self, const struct exposr_http_request *req);
void api_handle(void *self, struct exposr_http_request *req);

/* Authorization: Bearer <token> → call->account_id, then `next`; or 401. */
void api_authenticate(struct api_call *call, void (*next)(struct api_call *call));

/* Routes (docs/api.md §2.2–2.6). */
void route_register(struct api_call *call);
void route_token(struct api_call *call, const char *account);
void route_tunnel(struct api_call *call, const char *tunnel_id, bool disconnect);

#endif
