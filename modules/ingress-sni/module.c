/* The ingress-sni module (docs/ingress.md §6): settings, the certificate and its reload, the
 * TLS listener, lifecycle, and the ingress vtable the API asks for tunnel URLs. */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netdb.h>

#include <event2/listener.h>
#include <event2/util.h>

#include "sni.h"

void sni_log(struct sni *s, enum exposr_log_level level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	s->host->vlog(s->mod, level, fmt, ap);
	va_end(ap);
}

void sni_check_drained(struct sni *s)
{
	if (!s->stopping || s->drained || s->conn_count > 0 || s->splice_count > 0)
		return;
	s->drained = true;
	s->host->drained(s->mod);
}

/* host[:port]: the domain tunnels are named under and the port their URLs show. */
static int read_host(const struct exposr_config_api *c, const struct exposr_cfg *cfg,
                     const char *host, struct sni_settings *set)
{
	set->url_port = set->port;
	if (host == NULL || host[0] == '\0')
		return EXPOSR_OK;
	const char *colon = strrchr(host, ':');
	size_t len = colon != NULL ? (size_t)(colon - host) : strlen(host);
	char *end = NULL;
	long port = colon != NULL ? strtol(colon + 1, &end, 10) : set->port;
	if (len == 0 || len >= sizeof(set->host) || memchr(host, '/', len) != NULL ||
	    (colon != NULL && (end == colon + 1 || *end != '\0' || port < 1 || port > 65535))) {
		c->error(cfg, "host", "'%s' is not host[:port], e.g. example.com:443", host);
		return EXPOSR_ERROR;
	}
	for (size_t i = 0; i < len; i++)
		set->host[i] = (char)(host[i] >= 'A' && host[i] <= 'Z' ? host[i] + 32 : host[i]);
	set->host[len] = '\0';
	set->url_port = (int)port;
	return EXPOSR_OK;
}

/* What the table reads, before it is checked and narrowed into struct sni_settings. */
struct sni_table_values {
	long port, timeout, max_handshakes, reload;
	const char *bind, *host, *cert, *key, *ciphers;
	struct exposr_setting_list alpn;
};

#define AT(field) offsetof(struct sni_table_values, field)

/* --ingress sni enables the module. */
static const struct exposr_setting sni_table[] = {
        {.key = "port",
         .type = EXPOSR_SETTING_INT,
         .def = "4430",
         .min = 0,
         .max = 65535,
         .flag = "ingress-sni-port",
         .value_name = "PORT",
         .help = "SNI ingress port",
         .offset = AT(port)},
        {.key = "bind",
         .type = EXPOSR_SETTING_STRING,
         .def = "0.0.0.0",
         .value_name = "ADDRESS",
         .help = "address the SNI listener binds",
         .offset = AT(bind)},
        {.key = "host",
         .type = EXPOSR_SETTING_STRING,
         .flag = "ingress-sni-host",
         .flags = EXPOSR_SETTING_HIDDEN,
         .value_name = "HOST[:PORT]",
         .def_help = "the certificate's wildcard domain and --ingress-sni-port",
         .help = "host[:port] of the SNI ingress URLs",
         .offset = AT(host)},
        {.key = "cert",
         .type = EXPOSR_SETTING_STRING,
         .flag = "ingress-sni-cert",
         .flags = EXPOSR_SETTING_REQUIRED,
         .value_name = "FILE",
         .help = "the PEM certificate chain with a wildcard name",
         .offset = AT(cert)},
        {.key = "key",
         .type = EXPOSR_SETTING_STRING,
         .flag = "ingress-sni-key",
         .flags = EXPOSR_SETTING_REQUIRED,
         .value_name = "FILE",
         .help = "the PEM private key of the certificate",
         .offset = AT(key)},
        {.key = "ciphers",
         .type = EXPOSR_SETTING_STRING,
         .def = SNI_DEFAULT_CIPHERS,
         .value_name = "LIST",
         .def_help = "TLS 1.2 ECDHE AEAD suites",
         .help = "OpenSSL cipher list for TLS 1.2",
         .offset = AT(ciphers)},
        {.key = "alpn",
         .type = EXPOSR_SETTING_LIST,
         .def_help = "none",
         .help = "protocols offered to ALPN clients, in order",
         .offset = AT(alpn)},
        {.key = "handshake-timeout",
         .type = EXPOSR_SETTING_INT,
         .def = "10",
         .min = 1,
         .max = 3600,
         .value_name = "SECONDS",
         .help = "seconds from accept to the splice",
         .offset = AT(timeout)},
        {.key = "max-handshakes",
         .type = EXPOSR_SETTING_INT,
         .def = "1024",
         .min = 1,
         .max = 1000000,
         .help = "connections accepted but not yet spliced",
         .offset = AT(max_handshakes)},
        {.key = "reload-interval",
         .type = EXPOSR_SETTING_INT,
         .def = "5",
         .min = 1,
         .max = 86400,
         .value_name = "SECONDS",
         .help = "seconds between looks at the certificate files (0.12: 5)",
         .offset = AT(reload)},
        {0},
};

static int read_settings(const struct exposr_host *host, const struct exposr_cfg *cfg,
                         struct sni_settings *set)
{
	const struct exposr_config_api *c = host->config;
	struct sni_table_values v;
	if (c->read(cfg, sni_table, &v) != EXPOSR_OK)
		return EXPOSR_ERROR;
	set->bind = v.bind;
	set->cert_file = v.cert;
	set->key_file = v.key;
	set->ciphers = v.ciphers;
	set->alpn = v.alpn.items;
	set->alpn_count = v.alpn.count;
	set->port = (int)v.port;
	set->handshake_timeout_s = (unsigned)v.timeout;
	set->max_handshakes = (unsigned)v.max_handshakes;
	set->reload_interval_s = (unsigned)v.reload;
	for (size_t i = 0; i < set->alpn_count; i++) {
		size_t len = strlen(set->alpn[i]);
		if (len == 0 || len > 255) {
			c->error(cfg, "alpn", "'%s' is not an ALPN protocol name (1-255 bytes)",
			         set->alpn[i]);
			return EXPOSR_ERROR;
		}
	}
	return read_host(c, cfg, v.host, set);
}

/* New handshakes take the new pair; open connections keep the context they hold. */
static void on_reload_timer(void *arg)
{
	struct sni *s = arg;
	if (!sni_cert_changed(&s->settings, &s->cert))
		return;
	struct sni_cert fresh;
	char why[512];
	if (sni_cert_load(&s->settings, &fresh, why, sizeof(why)) != EXPOSR_OK) {
		/* Logged once per change of the files: the stamps are taken anyway. */
		sni_log(s, EXPOSR_LOG_WARN, "keeping the current certificate: %s", why);
		sni_cert_restamp(&s->settings, &s->cert);
		return;
	}
	if (strcmp(fresh.domain, s->cert.domain) != 0) {
		sni_log(s, EXPOSR_LOG_WARN,
		        "keeping the current certificate: the new one names *.%s, not *.%s",
		        fresh.domain, s->cert.domain);
		s->cert.cert_stamp = fresh.cert_stamp;
		s->cert.key_stamp = fresh.key_stamp;
		sni_cert_free(&fresh);
		return;
	}
	sni_cert_free(&s->cert);
	s->cert = fresh;
	sni_log(s, EXPOSR_LOG_INFO, "certificate reloaded from %s", s->settings.cert_file);
}

/* `tcps://<id>.<domain>:<port>` (§2.7). */
static int tunnel_url(void *self, const char *tunnel_id, char *out, size_t out_size)
{
	const struct sni *s = self;
	int n = snprintf(out, out_size, "tcps://%s.%s:%d", tunnel_id, s->cert.domain,
	                 s->settings.url_port);
	return n > 0 && (size_t)n < out_size ? EXPOSR_OK : EXPOSR_ERROR;
}

static const struct exposr_ingress_vtable ingress_vtable = {
        .size = sizeof(struct exposr_ingress_vtable),
        .tunnel_url = tunnel_url,
};

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *addr, int len,
                      void *arg)
{
	(void)l;
	char ip[SNI_PEER_IP_SIZE], port[8];
	bool known = getnameinfo(addr, (socklen_t)len, ip, sizeof(ip), port, sizeof(port),
	                         NI_NUMERICHOST | NI_NUMERICSERV) == 0;
	const struct exposr_origin peer = {.ip = ip, .port = known ? atoi(port) : 0};
	sni_conn_accept(arg, fd, known ? &peer : NULL);
}

static int sni_init(const struct exposr_host *host, struct exposr_module_handle *mod,
                    const struct exposr_cfg *cfg, void **state)
{
	struct sni *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return EXPOSR_ERROR;
	s->host = host;
	s->mod = mod;
	char why[512];
	if (read_settings(host, cfg, &s->settings) != EXPOSR_OK)
		goto fail;
	if (sni_cert_load(&s->settings, &s->cert, why, sizeof(why)) != EXPOSR_OK) {
		host->log(mod, EXPOSR_LOG_ERROR, "%s", why);
		goto fail;
	}
	s->handshakes_gauge =
	        host->metrics->get("exposrd_ingress_sni_handshakes", EXPOSR_METRIC_GAUGE,
	                           "SNI connections accepted and not yet spliced");
	s->splices_gauge =
	        host->metrics->get("exposrd_ingress_sni_connections", EXPOSR_METRIC_GAUGE,
	                           "SNI connections spliced to a tunnel");
	if (host->registry->add_ingress(mod, "sni", &ingress_vtable, s) != EXPOSR_OK)
		goto fail;
	*state = s;
	return EXPOSR_OK;
fail:
	sni_cert_free(&s->cert);
	free(s);
	return EXPOSR_ERROR;
}

static int sni_start(void *state)
{
	struct sni *s = state;
	struct sni_settings *set = &s->settings;
	struct sockaddr_storage ss;
	int len = (int)sizeof(ss);
	char addr[300];
	snprintf(addr, sizeof(addr), strchr(set->bind, ':') != NULL ? "[%s]:%d" : "%s:%d",
	         set->bind, set->port);
	if (evutil_parse_sockaddr_port(addr, (struct sockaddr *)&ss, &len) != 0) {
		sni_log(s, EXPOSR_LOG_ERROR, "bind address '%s' is not an IP address", set->bind);
		return EXPOSR_ERROR;
	}
	s->listener = evconnlistener_new_bind(s->host->event_base(), on_accept, s,
	                                      LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE |
	                                              LEV_OPT_CLOSE_ON_EXEC,
	                                      -1, (struct sockaddr *)&ss, len);
	if (s->listener == NULL) {
		sni_log(s, EXPOSR_LOG_ERROR, "cannot listen on %s: %s", addr,
		        evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
		return EXPOSR_ERROR;
	}
	s->reload_timer = s->host->timer_add(s->mod, (uint64_t)set->reload_interval_s * 1000, true,
	                                     on_reload_timer, s);
	if (s->reload_timer == NULL)
		return EXPOSR_ERROR;
	sni_log(s, EXPOSR_LOG_INFO, "SNI ingress on %s for *.%s", addr, s->cert.domain);
	return EXPOSR_OK;
}

static int sni_stop(void *state)
{
	struct sni *s = state;
	s->stopping = true;
	if (s->listener != NULL)
		evconnlistener_free(s->listener);
	s->listener = NULL;
	/* Counted as drained here, not through host->drained() from inside stop(). */
	s->drained = true;
	sni_conns_close_idle(s);
	if (s->conn_count == 0 && s->splice_count == 0)
		return EXPOSR_OK;
	s->drained = false;
	return EXPOSR_AGAIN;
}

static void sni_fini(void *state)
{
	struct sni *s = state;
	if (s == NULL)
		return;
	s->drained = true;
	if (s->listener != NULL)
		evconnlistener_free(s->listener);
	if (s->reload_timer != NULL)
		s->host->timer_cancel(s->reload_timer);
	sni_conns_free_all(s);
	if (s->splice_count > 0)
		sni_log(s, EXPOSR_LOG_WARN, "%zu SNI connections still open at exit",
		        s->splice_count);
	sni_cert_free(&s->cert);
	free(s);
}

EXPOSR_MODULE_DEFINE(.name = "ingress-sni", .version = "0.1.0",
                     .description = "SNI ingress: TLS connections to tunnels by server name",
                     .init = sni_init, .start = sni_start, .stop = sni_stop, .fini = sni_fini,
                     .settings = sni_table);
