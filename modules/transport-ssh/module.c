/* The transport-ssh module: configuration, host key, the listening socket,
 * registration as transport "ssh" and what the API reports about it (docs/ssh.md §7.1). */
#include <netdb.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <event2/listener.h>
#include <openssl/ssl.h>

#include <exposr/module.h>
#include <exposr/registry.h>
#include <exposr/transport.h>
#include <whatwg_url.h>

#include "hostkey.h"
#include "ssh_conn.h"

struct ssh_settings {
	long port, keepalive_ms, login_timeout_ms;
	const char *bind, *host, *key, *key_file;
	bool allow_insecure_target;
};

#define AT(field) offsetof(struct ssh_settings, field)

/* --transport ssh enables the module. */
static const struct exposr_setting ssh_settings[] = {
        {.key = "port",
         .type = EXPOSR_SETTING_INT,
         .def = "2200",
         .min = 1,
         .max = 65535,
         .flag = "transport-ssh-port",
         .value_name = "PORT",
         .help = "SSH transport port",
         .offset = AT(port)},
        {.key = "bind",
         .type = EXPOSR_SETTING_STRING,
         .value_name = "ADDRESS",
         .def_help = "all addresses",
         .help = "address the SSH listener binds",
         .offset = AT(bind)},
        {.key = "host",
         .type = EXPOSR_SETTING_STRING,
         .flag = "transport-ssh-host",
         .flags = EXPOSR_SETTING_HIDDEN,
         .value_name = "HOST[:PORT]",
         .def_help = "the API request's host and --transport-ssh-port",
         .help = "host[:port] handed out for SSH",
         .offset = AT(host)},
        {.key = "key",
         .type = EXPOSR_SETTING_STRING,
         .flag = "transport-ssh-key",
         .flags = EXPOSR_SETTING_HIDDEN,
         .value_name = "KEY",
         .def_help = "the one in key-file, made at the first start",
         .help = "SSH host key: path, key text or base64 of it",
         .offset = AT(key)},
        /* Relative to the working directory. */
        {.key = "key-file",
         .type = EXPOSR_SETTING_STRING,
         .def = "exposrd-ssh-host-key",
         .value_name = "FILE",
         .help = "where a generated host key is kept when no key is given",
         .offset = AT(key_file)},
        {.key = "allow-insecure-target",
         .type = EXPOSR_SETTING_BOOL,
         .def = "false",
         .flag = "transport-ssh-allow-insecure-target",
         .flags = EXPOSR_SETTING_HIDDEN,
         .help = "do not verify TLS targets of SSH tunnels",
         .offset = AT(allow_insecure_target)},
        /* docs/ssh.md §7.2: 15 s. */
        {.key = "keepalive-interval",
         .type = EXPOSR_SETTING_INT,
         .def = "15000",
         .min = 100,
         .max = 3600 * 1000,
         .value_name = "MS",
         .help = "milliseconds between keep-alive requests",
         .offset = AT(keepalive_ms)},
        /* OpenSSH's sshd allows 120 s (LoginGraceTime); a tunnel client authenticates at
         * once. */
        {.key = "login-timeout",
         .type = EXPOSR_SETTING_INT,
         .def = "60000",
         .min = 100,
         .max = 3600 * 1000,
         .value_name = "MS",
         .help = "milliseconds a client gets to authenticate",
         .offset = AT(login_timeout_ms)},
        {0},
};

/* Fills the tunnel object's `transport.ssh` block (it holds `enabled` already). */
static void ssh_describe(void *self, const char *tunnel_id, const char *token, const char *base_url,
                         void *json_object)
{
	struct ssh_module *sm = self;
	cJSON *block = json_object;
	const char *host = sm->public_host;
	struct url_parts base;
	if (host[0] == '\0' && base_url != NULL && url_parse(base_url, &base))
		host = base.hostname;
	char url[1024];
	int n = snprintf(url, sizeof(url), "ssh://%s:%s@%s:%ld", tunnel_id, token, host,
	                 sm->public_port);
	if (n < 0 || (size_t)n >= sizeof(url))
		return;
	if (cJSON_AddStringToObject(block, "host", host) == NULL ||
	    cJSON_AddNumberToObject(block, "port", (double)sm->public_port) == NULL ||
	    cJSON_AddStringToObject(block, "username", tunnel_id) == NULL ||
	    cJSON_AddStringToObject(block, "password", token) == NULL ||
	    cJSON_AddStringToObject(block, "url", url) == NULL)
		return;
	cJSON_AddStringToObject(block, "fingerprint", sm->fingerprint);
}

static const struct exposr_transport_vtable ssh_transport_vt = {
        .size = sizeof(struct exposr_transport_vtable),
        .describe = ssh_describe,
};

void ssh_module_check_drained(struct ssh_module *sm)
{
	if (sm->drain_pending && LIST_EMPTY(&sm->conns)) {
		sm->drain_pending = false;
		sm->host->drained(sm->mod);
	}
}

static void on_accept(struct evconnlistener *evl, evutil_socket_t fd, struct sockaddr *addr,
                      int addr_len, void *arg)
{
	(void)evl;
	struct ssh_module *sm = arg;
	char peer[SSH_PEER_SIZE] = "";
	if (getnameinfo(addr, (socklen_t)addr_len, peer, sizeof(peer), NULL, 0, NI_NUMERICHOST) !=
	    0)
		snprintf(peer, sizeof(peer), "unknown");
	ssh_conn_accept(sm, fd, peer);
}

static int listen_on(struct ssh_module *sm)
{
	struct addrinfo hints = {.ai_flags = AI_PASSIVE | AI_NUMERICSERV,
	                         .ai_socktype = SOCK_STREAM};
	struct addrinfo *found;
	char service[16];
	snprintf(service, sizeof(service), "%ld", sm->port);
	int rc = getaddrinfo(sm->bind_address != NULL ? sm->bind_address : "::", service, &hints,
	                     &found);
	if (rc != 0 && sm->bind_address == NULL)
		rc = getaddrinfo("0.0.0.0", service, &hints, &found);
	if (rc != 0) {
		ssh_log(sm, EXPOSR_LOG_ERROR, "cannot resolve %s: %s", sm->bind_address,
		        gai_strerror(rc));
		return EXPOSR_ERROR;
	}
	sm->listener = evconnlistener_new_bind(sm->host->event_base(), on_accept, sm,
	                                       LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE |
	                                               LEV_OPT_CLOSE_ON_EXEC,
	                                       -1, found->ai_addr, (int)found->ai_addrlen);
	freeaddrinfo(found);
	if (sm->listener == NULL) {
		ssh_log(sm, EXPOSR_LOG_ERROR, "cannot listen on port %ld", sm->port);
		return EXPOSR_ERROR;
	}
	return EXPOSR_OK;
}

/* `host`: "host[:port]" handed out in the API's ssh URL. */
static int parse_public_host(struct ssh_module *sm, const struct exposr_cfg *cfg, const char *value)
{
	char text[300];
	struct url_parts u;
	int n = snprintf(text, sizeof(text), "ssh://%s", value);
	if (n < 0 || (size_t)n >= sizeof(text) || !url_parse(text, &u) || u.hostname[0] == '\0' ||
	    u.userinfo[0] != '\0' || u.rest[0] != '\0') {
		sm->host->config->error(cfg, "host", "expected host[:port], got \"%s\"", value);
		return EXPOSR_ERROR;
	}
	snprintf(sm->public_host, sizeof(sm->public_host), "%s", u.hostname);
	if (u.port[0] != '\0')
		sm->public_port = strtol(u.port, NULL, 10);
	return EXPOSR_OK;
}

static ssh_key load_key(struct ssh_module *sm, const struct exposr_cfg *cfg, const char *key,
                        const char *key_file)
{
	char err[256];
	if (key != NULL) {
		ssh_key k = hostkey_from_setting(key, err, sizeof(err));
		if (k == NULL)
			sm->host->config->error(cfg, "key", "%s", err);
		return k;
	}
	bool generated;
	ssh_key k = hostkey_from_file(key_file, &generated, err, sizeof(err));
	if (k == NULL)
		sm->host->config->error(cfg, "key-file", "%s", err);
	else if (generated)
		ssh_log(sm, EXPOSR_LOG_INFO, "generated a new SSH host key in %s", key_file);
	return k;
}

static int setup_bind(struct ssh_module *sm, ssh_key key)
{
	char banner[64];
	snprintf(banner, sizeof(banner), "exposr/%s", sm->host->server_version);
	sm->bind = ssh_bind_new();
	if (sm->bind == NULL ||
	    ssh_bind_options_set(sm->bind, SSH_BIND_OPTIONS_IMPORT_KEY, key) != SSH_OK ||
	    ssh_bind_options_set(sm->bind, SSH_BIND_OPTIONS_BANNER, banner) != SSH_OK) {
		ssh_log(sm, EXPOSR_LOG_ERROR, "cannot set up libssh: %s",
		        sm->bind != NULL ? ssh_get_error(sm->bind) : "out of memory");
		return EXPOSR_ERROR;
	}
	ssh_bind_set_blocking(sm->bind, 0);
	return EXPOSR_OK;
}

/* Made at the first TLS target: loading the system's CAs costs megabytes a server
 * without such targets need not spend. */
struct ssl_ctx_st *ssh_module_tls(struct ssh_module *sm)
{
	if (sm->tls != NULL)
		return sm->tls;
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	if (ctx == NULL || SSL_CTX_set_default_verify_paths(ctx) != 1) {
		ssh_log(sm, EXPOSR_LOG_ERROR, "cannot set up TLS for targets");
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_verify(ctx, sm->allow_insecure_target ? SSL_VERIFY_NONE : SSL_VERIFY_PEER,
	                   NULL);
	sm->tls = ctx;
	return ctx;
}

static void module_free(struct ssh_module *sm)
{
	if (sm->listener != NULL)
		evconnlistener_free(sm->listener);
	if (sm->bind != NULL)
		ssh_bind_free(sm->bind);
	if (sm->tls != NULL)
		SSL_CTX_free(sm->tls);
	free(sm);
}

static int ssh_init_module(const struct exposr_host *host, struct exposr_module_handle *mod,
                           const struct exposr_cfg *cfg, void **state)
{
	struct ssh_settings set;
	if (host->config->read(cfg, ssh_settings, &set) != EXPOSR_OK)
		return EXPOSR_ERROR;
	struct ssh_module *sm = calloc(1, sizeof(*sm));
	if (sm == NULL)
		return EXPOSR_ERROR;
	sm->host = host;
	sm->mod = mod;
	sm->port = set.port;
	sm->bind_address = set.bind;
	sm->allow_insecure_target = set.allow_insecure_target;
	sm->keepalive_ms = set.keepalive_ms;
	sm->login_timeout_ms = set.login_timeout_ms;
	sm->public_port = sm->port;
	if (set.host != NULL && parse_public_host(sm, cfg, set.host) != EXPOSR_OK) {
		free(sm);
		return EXPOSR_ERROR;
	}
	ssh_key k = load_key(sm, cfg, set.key, set.key_file);
	if (k == NULL) {
		free(sm);
		return EXPOSR_ERROR;
	}
	int rc = hostkey_fingerprint(k, sm->fingerprint, sizeof(sm->fingerprint));
	if (rc == 0)
		rc = setup_bind(sm, k); /* the bind takes the key, also on failure */
	else
		ssh_key_free(k);
	if (rc != 0 || listen_on(sm) != EXPOSR_OK) {
		module_free(sm);
		return EXPOSR_ERROR;
	}
	sm->conns_open = host->metrics->get("exposrd_transport_ssh_connections",
	                                    EXPOSR_METRIC_GAUGE, "SSH transport connections open");
	sm->channels_open =
	        host->metrics->get("exposrd_transport_ssh_channels", EXPOSR_METRIC_GAUGE,
	                           "Forwarded SSH channels open or not yet freed");
	if (host->registry->add_transport(mod, "ssh", &ssh_transport_vt, sm) != EXPOSR_OK) {
		module_free(sm);
		return EXPOSR_ERROR;
	}
	ssh_log(sm, EXPOSR_LOG_INFO, "listening on port %ld, host key %s", sm->port,
	        sm->fingerprint);
	*state = sm;
	return EXPOSR_OK;
}

/* Shutdown: every connection ends with the server. */
static int ssh_stop(void *state)
{
	struct ssh_module *sm = state;
	sm->stopping = true;
	if (sm->listener != NULL) {
		evconnlistener_free(sm->listener);
		sm->listener = NULL;
	}
	ssh_conns_close_all(sm);
	if (LIST_EMPTY(&sm->conns))
		return EXPOSR_OK;
	sm->drain_pending = true;
	return EXPOSR_AGAIN;
}

static void ssh_fini(void *state)
{
	struct ssh_module *sm = state;
	sm->drain_pending = false;
	ssh_conns_free_all(sm);
	module_free(sm);
}

EXPOSR_MODULE_DEFINE(.name = "transport-ssh", .version = "1.0",
                     .description = "SSH transport (ssh -R with stock OpenSSH)",
                     .init = ssh_init_module, .stop = ssh_stop, .fini = ssh_fini,
                     .settings = ssh_settings);
