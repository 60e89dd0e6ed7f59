/* The admin interface (protocol.md §3.1): /ping for liveness, /health for readiness. */
#include <stdlib.h>
#include <string.h>

#include <exposr/module.h>

#include "common/path_match.h"
#include "common/request.h"
#include "common/respond.h"

#define ADMIN_DEFAULT_PORT 8081
/* Before the admin API (60), which shares the port by default (protocol.md §3.3, D6). */
#define ADMIN_PRIORITY 50
/* Last on the port: whatever no admin route takes gets a text 404, as from koa. */
#define NOT_FOUND_PRIORITY 1000

struct admin {
	const struct exposr_host *host;
	int port;
};

static bool is_probe(const struct exposr_http_request *req, bool *ping)
{
	struct path_params params;
	if (!request_method_is(req, "GET"))
		return false;
	if (path_match(req->path, "/ping", &params) == PATH_MATCH) {
		*ping = true;
		return true;
	}
	if (path_match(req->path, "/health", &params) == PATH_MATCH) {
		*ping = false;
		return true;
	}
	return false;
}

static bool admin_match(void *self, const struct exposr_http_request *req)
{
	(void)self;
	bool ping;
	return !req->upgrade && is_probe(req, &ping);
}

/* /ping: alive from the end of start-up on, shutdown included; /health: only while
 * fully running. */
static void admin_handle(void *self, struct exposr_http_request *req)
{
	struct admin *admin = self;
	enum exposr_server_state state = admin->host->server_state();
	bool ping = false;
	bool up = is_probe(req, &ping) &&
	          (ping ? state != EXPOSR_SERVER_STARTING : state == EXPOSR_SERVER_RUNNING);
	respond_text(admin->host, req, up ? 200 : 404);
}

static void not_found(void *self, struct exposr_http_request *req)
{
	struct admin *admin = self;
	respond_text(admin->host, req, 404);
}

static int admin_init(const struct exposr_host *host, struct exposr_module_handle *mod,
                      const struct exposr_cfg *cfg, void **state)
{
	static const char *const keys[] = {"enabled", "port", NULL};
	long port;
	if (host->config->check_keys(cfg, keys) != EXPOSR_OK ||
	    host->config->get_int(cfg, "port", ADMIN_DEFAULT_PORT, 0, 65535, &port) != EXPOSR_OK)
		return EXPOSR_ERROR;
	struct admin *admin = calloc(1, sizeof(*admin));
	if (admin == NULL)
		return EXPOSR_ERROR;
	admin->host = host;
	admin->port = (int)port;
	struct exposr_http_route probes = {.name = "admin",
	                                   .port = admin->port,
	                                   .priority = ADMIN_PRIORITY,
	                                   .match = admin_match,
	                                   .handle = admin_handle,
	                                   .self = admin};
	struct exposr_http_route rest = {.name = "admin-not-found",
	                                 .port = admin->port,
	                                 .priority = NOT_FOUND_PRIORITY,
	                                 .handle = not_found,
	                                 .self = admin};
	if (host->http->route_add(mod, &probes) != EXPOSR_OK ||
	    host->http->route_add(mod, &rest) != EXPOSR_OK) {
		free(admin);
		return EXPOSR_ERROR;
	}
	host->log(mod, EXPOSR_LOG_INFO, "admin interface on port %d", admin->port);
	*state = admin;
	return EXPOSR_OK;
}

static void admin_fini(void *state)
{
	free(state);
}

EXPOSR_MODULE_DEFINE(.name = "admin", .version = "1.0.0",
                     .description = "admin interface (/ping, /health)", .init = admin_init,
                     .fini = admin_fini);
