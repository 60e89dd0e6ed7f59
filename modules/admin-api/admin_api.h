/* The admin API (docs/api.md §3.2): module state and the per-request context. */
#ifndef EXPOSR_ADMIN_API_H
#define EXPOSR_ADMIN_API_H

#include <exposr/host.h>

#include "common/call.h"
#include "whatwg_url.h"

struct cJSON;

#define ADMIN_API_MAX_BODY (64 * 1024)
/* After the admin interface's /ping and /health (50) on a shared port (D6). */
#define ADMIN_API_PRIORITY 60
/* Last on the port: anything no admin route takes gets a text 404, as from koa. */
#define ADMIN_API_NOT_FOUND_PRIORITY 1000
#define ADMIN_LIST_DEFAULT           25
#define ADMIN_LIST_MAX               100
#define TUNNEL_ID_MAX                80

enum admin_access {
	ADMIN_ACCESS_KEY,    /* Authorization must carry base64(key) */
	ADMIN_ACCESS_OPEN,   /* allow-access-without-key and no key */
	ADMIN_ACCESS_CLOSED, /* no key: every admin route answers 404 */
};

struct admin_api {
	const struct exposr_host *host;
	struct exposr_module_handle *mod;
	int port;
	enum admin_access access;
	char *key;
	size_t key_len;
	struct call_tracker calls;
};

struct admin_call {
	struct call call; /* first: answered through call_json() & co, which free it */
	struct admin_api *api;
	char account_id[EXPOSR_ACCOUNT_ID_LEN + 1];
	char tunnel_id[TUNNEL_ID_MAX];
	char *reason; /* of a disable request */
	/* A verbose tunnel list, filled one tunnel at a time. */
	struct cJSON *ids;
	const struct cJSON *next_id;
	struct cJSON *tunnels;
	char *cursor;
};

bool admin_match(void *self, const struct exposr_http_request *req);
bool admin_not_found_match(void *self, const struct exposr_http_request *req);
void admin_handle(void *self, struct exposr_http_request *req);
void admin_not_found(void *self, struct exposr_http_request *req);

/* The routes; each answers the call. `param` is the path parameter, or NULL. */
void admin_account_create(struct admin_call *call);
void admin_account_get(struct admin_call *call, const char *account);
void admin_account_delete(struct admin_call *call, const char *account);
void admin_account_disable(struct admin_call *call, const char *account);
void admin_account_list(struct admin_call *call);
void admin_tunnel_get(struct admin_call *call, const char *tunnel_id);
void admin_tunnel_delete(struct admin_call *call, const char *tunnel_id);
void admin_tunnel_disconnect(struct admin_call *call, const char *tunnel_id);
void admin_tunnel_list(struct admin_call *call);
void admin_cluster(struct admin_call *call);

/* cursor, count, verbose from the query string (Joi's messages); false: answered 400. */
bool admin_list_query(struct admin_call *call, const char **cursor, size_t *count, bool *verbose,
                      char **cursor_copy);

#endif
