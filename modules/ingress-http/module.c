/* The ingress-http module: settings, lifecycle, its route on the shared listener and the
 * ingress vtable the API asks for tunnel URLs. */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingress_http.h"

void ingress_log(struct ingress *in, enum exposr_log_level level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	in->host->vlog(in->mod, level, fmt, ap);
	va_end(ap);
}

void ingress_check_drained(struct ingress *in)
{
	if (!in->stopping || in->drained || in->conn_count > 0 || in->admission_count > 0 ||
	    in->splice_count > 0)
		return;
	in->drained = true;
	in->host->drained(in->mod);
}

struct ingress_table_values {
	const char *url;
	long port, idle, head, max_head;
};

#define AT(field) offsetof(struct ingress_table_values, field)

/* --ingress http enables the module. */
static const struct exposr_setting ingress_table[] = {
        {.key = "url",
         .type = EXPOSR_SETTING_STRING,
         .flag = "ingress-http-url",
         .aliases = (const char *const[]){"http-ingress-domain", "ingress-http-domain", NULL},
         .flags = EXPOSR_SETTING_REQUIRED,
         .value_name = "URL",
         .def_help = "http://localhost:8080, from the default exposrd.yaml",
         .help = "base URL of the HTTP ingress; tunnel <id> is <id>.<host>",
         .offset = AT(url)},
        {.key = "port",
         .type = EXPOSR_SETTING_INT,
         .def = "8080",
         .min = 0,
         .max = 65535,
         .flag = "ingress-http-port",
         .flags = EXPOSR_SETTING_HIDDEN,
         .value_name = "PORT",
         .help = "HTTP ingress port",
         .offset = AT(port)},
        /* Deprecated: the listener's limits apply; set here, they override them on
         * the connections the ingress carries. Absent: 0. */
        {.key = "idle-timeout",
         .type = EXPOSR_SETTING_INT,
         .min = 1,
         .max = 86400,
         .flag = "ingress-http-agent-idle-timeout",
         .flags = EXPOSR_SETTING_HIDDEN,
         .value_name = "SECONDS",
         .def_help = "http.idle-timeout",
         .help = "deprecated: overrides http.idle-timeout on proxied connections",
         .offset = AT(idle)},
        {.key = "head-timeout",
         .type = EXPOSR_SETTING_INT,
         .min = 1,
         .max = 3600,
         .value_name = "SECONDS",
         .def_help = "http.head-timeout",
         .help = "deprecated: overrides http.head-timeout on proxied connections",
         .offset = AT(head)},
        {.key = "max-head-size",
         .type = EXPOSR_SETTING_INT,
         .min = 1024,
         .max = 1 << 20,
         .value_name = "BYTES",
         .def_help = "http.max-head-size",
         .help = "deprecated: overrides http.max-head-size on proxied connections",
         .offset = AT(max_head)},
        {0},
};

static int read_settings(const struct exposr_host *host, const struct exposr_cfg *cfg,
                         struct ingress_settings *s)
{
	const struct exposr_config_api *c = host->config;
	struct ingress_table_values v;
	if (c->read(cfg, ingress_table, &v) != EXPOSR_OK)
		return EXPOSR_ERROR;
	if (!url_parse(v.url, &s->url) || s->url.hostname[0] == '\0') {
		c->error(cfg, "url", "'%s' is not a URL such as https://example.com", v.url);
		return EXPOSR_ERROR;
	}
	/* A wildcard domain names the same tunnels as the bare one. */
	const char *domain = s->url.hostname;
	if (strncmp(domain, "*.", 2) == 0)
		domain += 2;
	snprintf(s->domain, sizeof(s->domain), "%s", domain);
	strcpy(s->url.rest, "/");
	s->port = (int)v.port;
	s->idle_timeout_ms = (unsigned)v.idle * 1000;
	s->head_timeout_ms = (unsigned)v.head * 1000;
	s->max_head_size = (size_t)v.max_head;
	return EXPOSR_OK;
}

/* `<scheme>://<id>.<domain>[:port]/`, as a WHATWG URL serialises it. */
static int tunnel_url(void *self, const char *tunnel_id, char *out, size_t out_size)
{
	const struct ingress *in = self;
	const struct url_parts *u = &in->settings.url;
	int n = snprintf(out, out_size, "%s://%s.%s%s%s/", u->scheme, tunnel_id,
	                 in->settings.domain, u->port[0] != '\0' ? ":" : "", u->port);
	return n > 0 && (size_t)n < out_size ? EXPOSR_OK : EXPOSR_ERROR;
}

static const struct exposr_ingress_vtable ingress_vtable = {
        .size = sizeof(struct exposr_ingress_vtable),
        .tunnel_url = tunnel_url,
};

static int ingress_init(const struct exposr_host *host, struct exposr_module_handle *mod,
                        const struct exposr_cfg *cfg, void **state)
{
	struct ingress *in = calloc(1, sizeof(*in));
	if (in == NULL)
		return EXPOSR_ERROR;
	in->host = host;
	in->mod = mod;
	in->conns_gauge =
	        host->metrics->get("exposrd_ingress_http_connections", EXPOSR_METRIC_GAUGE,
	                           "Public HTTP connections proxied through a tunnel");
	in->splices_gauge =
	        host->metrics->get("exposrd_ingress_http_upgraded", EXPOSR_METRIC_GAUGE,
	                           "Upgraded public connections spliced raw to a tunnel");
	if (read_settings(host, cfg, &in->settings) != EXPOSR_OK)
		goto fail;
	/* Priority 10: the ingress sees every request on its port before the API and the
	 * websocket endpoint, and declines those whose Host names no tunnel (§5.1). */
	struct exposr_http_route route = {
	        .name = "ingress-http",
	        .port = in->settings.port,
	        .priority = 10,
	        .max_body = 0,
	        .handle = admission_handle,
	        .self = in,
	};
	if (host->registry->add_ingress(mod, "http", &ingress_vtable, in) != EXPOSR_OK ||
	    host->http->route_add(mod, &route) != EXPOSR_OK)
		goto fail;
	*state = in;
	return EXPOSR_OK;
fail:
	free(in);
	return EXPOSR_ERROR;
}

static int ingress_stop(void *state)
{
	struct ingress *in = state;
	in->stopping = true;
	/* Counted as drained here, not through host->drained() from inside stop(). */
	in->drained = true;
	proxied_stop_all(in);
	if (in->conn_count == 0 && in->admission_count == 0 && in->splice_count == 0)
		return EXPOSR_OK;
	in->drained = false;
	return EXPOSR_AGAIN;
}

static void ingress_fini(void *state)
{
	struct ingress *in = state;
	if (in == NULL)
		return;
	/* Nothing is reported any more while everything goes. */
	in->drained = true;
	admissions_abort_all(in);
	proxied_close_all(in);
	if (in->splice_count > 0)
		ingress_log(in, EXPOSR_LOG_WARN, "%zu upgraded connections still open at exit",
		            in->splice_count);
	free(in);
}

EXPOSR_MODULE_DEFINE(.name = "ingress-http", .version = "0.1.0",
                     .description = "HTTP ingress: public requests to tunnels by Host",
                     .init = ingress_init, .stop = ingress_stop, .fini = ingress_fini,
                     .settings = ingress_table);
