/* The admin interface (docs/api.md §3.1): /ping for liveness, /health for readiness, and
 * /metrics, the core's metrics in the Prometheus text format. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include <exposr/module.h>

#include "common/path_match.h"
#include "common/request.h"
#include "common/respond.h"

/* Before the admin API (60), which shares the port by default (docs/api.md §3.3, D6). */
#define ADMIN_PRIORITY 50
/* Last on the port: whatever no admin route takes gets a text 404, as from koa. */
#define NOT_FOUND_PRIORITY 1000

struct admin {
	const struct exposr_host *host;
	int port;
};

enum admin_path { ADMIN_NONE, ADMIN_PING, ADMIN_HEALTH, ADMIN_METRICS };

static enum admin_path admin_path_of(const struct exposr_http_request *req)
{
	static const struct {
		const char *path;
		enum admin_path which;
	} paths[] = {{"/ping", ADMIN_PING}, {"/health", ADMIN_HEALTH}, {"/metrics", ADMIN_METRICS}};
	struct path_params params;
	if (req->upgrade || !request_method_is(req, "GET"))
		return ADMIN_NONE;
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		if (path_match(req->path, paths[i].path, &params) == PATH_MATCH)
			return paths[i].which;
	return ADMIN_NONE;
}

static bool admin_match(void *self, const struct exposr_http_request *req)
{
	(void)self;
	return admin_path_of(req) != ADMIN_NONE;
}

static void respond_metrics(struct admin *admin, struct exposr_http_request *req)
{
	static const struct exposr_http_header headers[] = {
	        {"Content-Type", "text/plain; version=0.0.4; charset=utf-8"},
	        {NULL, NULL},
	};
	struct evbuffer *text = evbuffer_new();
	if (text == NULL || admin->host->metrics->write_text(text) != EXPOSR_OK) {
		if (text != NULL)
			evbuffer_free(text);
		respond_text(admin->host, req, 500);
		return;
	}
	size_t len = evbuffer_get_length(text);
	admin->host->http->respond(req, 200, headers, (const char *)evbuffer_pullup(text, -1), len);
	evbuffer_free(text);
}

/* /ping: alive from the end of start-up on, shutdown included; /health: only while
 * fully running; /metrics: always. */
static void admin_handle(void *self, struct exposr_http_request *req)
{
	struct admin *admin = self;
	enum exposr_server_state state = admin->host->server_state();
	switch (admin_path_of(req)) {
	case ADMIN_METRICS:
		respond_metrics(admin, req);
		return;
	case ADMIN_PING:
		respond_text(admin->host, req, state != EXPOSR_SERVER_STARTING ? 200 : 404);
		return;
	case ADMIN_HEALTH:
		respond_text(admin->host, req, state == EXPOSR_SERVER_RUNNING ? 200 : 404);
		return;
	case ADMIN_NONE:
	default:
		respond_text(admin->host, req, 404);
		return;
	}
}

static void not_found(void *self, struct exposr_http_request *req)
{
	struct admin *admin = self;
	respond_text(admin->host, req, 404);
}

struct admin_settings {
	long port;
};

static const struct exposr_setting admin_settings[] = {
        {.key = "enabled",
         .type = EXPOSR_SETTING_BOOL,
         .def = "false",
         .flag = "admin-enable",
         .help = "admin interface (/ping, /health, /metrics)"},
        {.key = "port",
         .type = EXPOSR_SETTING_INT,
         .def = "8081",
         .min = 0,
         .max = 65535,
         .flag = "admin-port",
         .value_name = "PORT",
         .help = "admin interface port",
         .offset = offsetof(struct admin_settings, port)},
        {0},
};

static int admin_init(const struct exposr_host *host, struct exposr_module_handle *mod,
                      const struct exposr_cfg *cfg, void **state)
{
	struct admin_settings set;
	if (host->config->read(cfg, admin_settings, &set) != EXPOSR_OK)
		return EXPOSR_ERROR;
	struct admin *admin = calloc(1, sizeof(*admin));
	if (admin == NULL)
		return EXPOSR_ERROR;
	admin->host = host;
	admin->port = (int)set.port;
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
                     .description = "admin interface (/ping, /health, /metrics)",
                     .init = admin_init, .fini = admin_fini, .settings = admin_settings);
