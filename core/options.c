/* The command line and EXPOSR_* environment: exposrd 0.12's options, each mapped
 * onto the YAML setting it stands for. */
#include "options.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cfg.h"
#include "log.h"
#include "options_help.h"

#define HELP_LEFT_WIDTH 40
#define HELP_LINE_WIDTH 90

enum opt_kind {
	OPT_STRING,
	OPT_INT,
	OPT_BOOL,
	OPT_CHOICE,      /* one of `choices` */
	OPT_SELECT,      /* comma list of `choices`: enables modules.<prefix><choice> */
	OPT_STORAGE_URL, /* scheme picks modules.storage-<scheme> */
	OPT_REDIS_URL,   /* storage and cluster bus on one Redis */
	OPT_CLUSTER,     /* auto, single-node, udp, redis */
	OPT_CONFIG,
	OPT_MODULE_DIR,
	OPT_HELP,
	OPT_SHOW_HIDDEN,
	OPT_VERSION,
};

struct option_def {
	const char *name;
	char short_name;
	enum opt_kind kind;
	const char *paths[3];   /* YAML settings it sets; for OPT_SELECT a prefix */
	const char *choices[5]; /* OPT_CHOICE, OPT_SELECT */
	bool hidden;
	const char *help;
};

#define PATHS(...)   .paths = {__VA_ARGS__}
#define CHOICES(...) .choices = {__VA_ARGS__}

/* Aliases come before the option they stand for, so the real one wins when both
 * are given. */
static const struct option_def defs[] = {
        {"config", 'c', OPT_CONFIG, {0}, {0}, false, "YAML configuration file"},
        {"module-dir", 0, OPT_MODULE_DIR, {0}, {0}, false, "directory of module shared objects"},
        {"bind-address",
         0,
         OPT_STRING,
         PATHS("http.bind"),
         {0},
         false,
         "address every listener binds"},
        {"ingress", 0, OPT_SELECT, PATHS("modules.ingress-"), CHOICES("http", "sni"), false,
         "ingress types to run (http, sni)"},
        {"http-ingress-domain",
         0,
         OPT_STRING,
         PATHS("modules.ingress-http.url"),
         {0},
         true,
         "alias of --ingress-http-url"},
        {"ingress-http-domain",
         0,
         OPT_STRING,
         PATHS("modules.ingress-http.url"),
         {0},
         true,
         "alias of --ingress-http-url"},
        {"ingress-http-url",
         0,
         OPT_STRING,
         PATHS("modules.ingress-http.url"),
         {0},
         false,
         "base URL of the HTTP ingress; tunnel <id> is <id>.<host>"},
        {"ingress-http-port",
         0,
         OPT_INT,
         PATHS("modules.ingress-http.port"),
         {0},
         true,
         "HTTP ingress port"},
        {"ingress-http-agent-idle-timeout",
         0,
         OPT_INT,
         PATHS("modules.ingress-http.idle-timeout"),
         {0},
         true,
         "seconds an idle ingress connection is kept"},
        {"ingress-sni-port",
         0,
         OPT_INT,
         PATHS("modules.ingress-sni.port"),
         {0},
         false,
         "SNI ingress port"},
        {"ingress-sni-host",
         0,
         OPT_STRING,
         PATHS("modules.ingress-sni.host"),
         {0},
         true,
         "host[:port] of the SNI ingress URLs"},
        {"ingress-sni-cert",
         0,
         OPT_STRING,
         PATHS("modules.ingress-sni.cert"),
         {0},
         false,
         "PEM certificate chain with a wildcard name"},
        {"ingress-sni-key",
         0,
         OPT_STRING,
         PATHS("modules.ingress-sni.key"),
         {0},
         false,
         "PEM private key of the certificate"},
        {"transport", 0, OPT_SELECT, PATHS("modules.transport-"), CHOICES("ws", "ssh"), false,
         "transports to run (ws, ssh)"},
        {"transport-max-connections",
         0,
         OPT_INT,
         PATHS("tunnels.max-connections"),
         {0},
         false,
         "transport connections per tunnel, cluster-wide"},
        {"transport-ssh-port",
         0,
         OPT_INT,
         PATHS("modules.transport-ssh.port"),
         {0},
         false,
         "SSH transport port"},
        {"transport-ssh-host",
         0,
         OPT_STRING,
         PATHS("modules.transport-ssh.host"),
         {0},
         true,
         "host[:port] handed out for SSH"},
        {"transport-ssh-key",
         0,
         OPT_STRING,
         PATHS("modules.transport-ssh.key"),
         {0},
         true,
         "SSH host key: path, key text or base64 of it"},
        {"transport-ssh-allow-insecure-target",
         0,
         OPT_BOOL,
         PATHS("modules.transport-ssh.allow-insecure-target"),
         {0},
         true,
         "do not verify TLS targets of SSH tunnels"},
        {"admin-enable",
         0,
         OPT_BOOL,
         PATHS("modules.admin.enabled"),
         {0},
         false,
         "admin interface (/ping, /health)"},
        {"admin-port", 0, OPT_INT, PATHS("modules.admin.port"), {0}, false, "admin interface port"},
        {"admin-api-enable",
         0,
         OPT_BOOL,
         PATHS("modules.admin-api.enabled"),
         {0},
         false,
         "admin API"},
        {"admin-api-port",
         0,
         OPT_INT,
         PATHS("modules.admin-api.port"),
         {0},
         false,
         "admin API port"},
        {"admin-api-key",
         0,
         OPT_STRING,
         PATHS("modules.admin-api.key"),
         {0},
         false,
         "admin API key"},
        {"admin-api-allow-access-without-key",
         0,
         OPT_BOOL,
         PATHS("modules.admin-api.allow-access-without-key"),
         {0},
         true,
         "admin API without a key"},
        {"api-url",
         0,
         OPT_STRING,
         PATHS("modules.api-v1.url"),
         {0},
         false,
         "answer the API only for this host"},
        {"api-port",
         'p',
         OPT_INT,
         PATHS("modules.api-v1.port", "modules.transport-ws.port"),
         {0},
         false,
         "API and websocket endpoint port"},
        {"allow-registration",
         0,
         OPT_BOOL,
         PATHS("modules.api-v1.allow-registration"),
         {0},
         false,
         "allow POST /v1/account"},
        {"cluster",
         0,
         OPT_CLUSTER,
         {0},
         CHOICES("auto", "single-node", "udp", "redis"),
         false,
         "cluster mode"},
        {"cluster-key",
         0,
         OPT_STRING,
         PATHS("cluster.key"),
         {0},
         false,
         "key that signs cluster messages"},
        {"cluster-advertise-address",
         0,
         OPT_STRING,
         PATHS("cluster.advertise-address"),
         {0},
         false,
         "IP address other nodes reach this one at"},
        {"cluster-udp-discovery", 0, OPT_CHOICE, PATHS("modules.cluster-udp.discovery"),
         CHOICES("auto", "multicast", "kubernetes"), false, "UDP peer discovery"},
        {"cluster-udp-port",
         0,
         OPT_INT,
         PATHS("modules.cluster-udp.port"),
         {0},
         false,
         "UDP cluster port"},
        {"cluster-udp-discovery-multicast-group",
         0,
         OPT_STRING,
         PATHS("modules.cluster-udp.multicast-group"),
         {0},
         true,
         "multicast group"},
        {"cluster-udp-discovery-kubernetes-service",
         0,
         OPT_STRING,
         PATHS("modules.cluster-udp.kubernetes-service"),
         {0},
         true,
         "headless service"},
        {"cluster-udp-discovery-kubernetes-namespace",
         0,
         OPT_STRING,
         PATHS("modules.cluster-udp.kubernetes-namespace"),
         {0},
         true,
         "namespace"},
        {"cluster-udp-discovery-kubernetes-service-env",
         0,
         OPT_STRING,
         PATHS("modules.cluster-udp.kubernetes-service-env"),
         {0},
         true,
         "variable naming the service"},
        {"cluster-udp-discovery-kubernetes-namespace-env",
         0,
         OPT_STRING,
         PATHS("modules.cluster-udp.kubernetes-namespace-env"),
         {0},
         true,
         "variable naming the namespace"},
        {"cluster-udp-discovery-kubernetes-cluster-domain",
         0,
         OPT_STRING,
         PATHS("modules.cluster-udp.kubernetes-cluster-domain"),
         {0},
         true,
         "cluster domain"},
        {"cluster-redis-url",
         0,
         OPT_STRING,
         PATHS("modules.cluster-redis.url"),
         {0},
         false,
         "Redis for the cluster bus"},
        {"redis-url",
         0,
         OPT_REDIS_URL,
         {0},
         {0},
         true,
         "Redis for storage and cluster bus (deprecated)"},
        {"storage-url",
         0,
         OPT_STORAGE_URL,
         {0},
         {0},
         false,
         "memory://, redis://..., sqlite://<path>, postgres://..."},
        {"storage-pgsql-connection-pool-size",
         0,
         OPT_INT,
         PATHS("modules.storage-postgres.pool-size"),
         {0},
         true,
         "PostgreSQL pool size"},
        {"log-level", 0, OPT_CHOICE, PATHS("log.level"),
         CHOICES("all", "trace", "debug", "info", NULL), false,
         "all, trace, debug, info, warn, error, fatal, off"},
        {"log-format", 0, OPT_CHOICE, PATHS("log.format"), CHOICES("text", "json"), false,
         "text or json"},
        {"version", 'v', OPT_VERSION, {0}, {0}, false, "print the version"},
        {"help", 'h', OPT_HELP, {0}, {0}, false, "print this help"},
        {"show-hidden", 0, OPT_SHOW_HIDDEN, {0}, {0}, false, "list hidden options in --help"},
};

#define DEF_COUNT (sizeof(defs) / sizeof(defs[0]))

static const char *const storage_schemes[][2] = {
        {"memory", "storage-memory"},     {"redis", "storage-redis"},
        {"rediss", "storage-redis"},      {"sqlite", "storage-sqlite"},
        {"postgres", "storage-postgres"}, {"postgresql", "storage-postgres"},
};
#define SCHEME_COUNT (sizeof(storage_schemes) / sizeof(storage_schemes[0]))

static bool takes_value(enum opt_kind kind)
{
	return kind != OPT_BOOL && kind != OPT_HELP && kind != OPT_SHOW_HIDDEN &&
	       kind != OPT_VERSION;
}

static bool is_bool_word(const char *v)
{
	return strcasecmp(v, "true") == 0 || strcasecmp(v, "false") == 0;
}

static bool in_choices(const struct option_def *d, const char *v)
{
	for (size_t i = 0; i < 5 && d->choices[i] != NULL; i++)
		if (strcmp(d->choices[i], v) == 0)
			return true;
	return false;
}

static const char *storage_module(const char *url)
{
	const char *colon = strchr(url, ':');
	if (colon == NULL)
		return NULL;
	for (size_t i = 0; i < SCHEME_COUNT; i++)
		if (strlen(storage_schemes[i][0]) == (size_t)(colon - url) &&
		    strncmp(url, storage_schemes[i][0], (size_t)(colon - url)) == 0)
			return storage_schemes[i][1];
	return NULL;
}

/* Checks a value's type; `source` is "--name" or "EXPOSR_NAME". */
static int validate(const struct option_def *d, const char *source, const char *v)
{
	switch (d->kind) {
	case OPT_INT: {
		char *end;
		errno = 0;
		long n = strtol(v, &end, 10);
		if (v[0] == '\0' || *end != '\0' || errno != 0 || n < 0) {
			fprintf(stderr, "exposrd: %s: '%s' is not a non-negative integer\n", source,
			        v);
			return -1;
		}
		return 0;
	}
	case OPT_BOOL:
		if (!is_bool_word(v)) {
			fprintf(stderr, "exposrd: %s: '%s' is not a boolean (true or false)\n",
			        source, v);
			return -1;
		}
		return 0;
	case OPT_CHOICE:
		if (d->paths[0] != NULL && strcmp(d->paths[0], "log.level") == 0) {
			if (log_level_parse(v) < 0) {
				fprintf(stderr, "exposrd: %s: unknown level '%s' (%s)\n", source, v,
				        d->help);
				return -1;
			}
			return 0;
		}
		/* fall through */
	case OPT_CLUSTER:
		if (!in_choices(d, v)) {
			fprintf(stderr, "exposrd: %s: '%s' is not one of %s%s%s%s%s%s%s\n", source,
			        v, d->choices[0], d->choices[1] ? ", " : "",
			        d->choices[1] ? d->choices[1] : "", d->choices[2] ? ", " : "",
			        d->choices[2] ? d->choices[2] : "", d->choices[3] ? ", " : "",
			        d->choices[3] ? d->choices[3] : "");
			return -1;
		}
		return 0;
	case OPT_SELECT: {
		char *copy = strdup(v), *save = NULL;
		int rc = copy != NULL ? 0 : -1;
		for (char *p = copy ? strtok_r(copy, ",", &save) : NULL; p != NULL && rc == 0;
		     p = strtok_r(NULL, ",", &save)) {
			while (isspace((unsigned char)*p))
				p++;
			if (!in_choices(d, p)) {
				fprintf(stderr, "exposrd: %s: unknown %s '%s'\n", source, d->name,
				        p);
				rc = -1;
			}
		}
		free(copy);
		return rc;
	}
	case OPT_STORAGE_URL:
		if (storage_module(v) == NULL) {
			fprintf(stderr,
			        "exposrd: %s: unsupported storage URL '%s' (memory://, redis://, "
			        "sqlite://, postgres://)\n",
			        source, v);
			return -1;
		}
		return 0;
	default:
		return 0;
	}
}

static const struct option_def *find_long(const char *name, size_t len)
{
	for (size_t i = 0; i < DEF_COUNT; i++)
		if (strlen(defs[i].name) == len && strncmp(defs[i].name, name, len) == 0)
			return &defs[i];
	return NULL;
}

static const struct option_def *find_short(char c)
{
	for (size_t i = 0; i < DEF_COUNT; i++)
		if (defs[i].short_name == c)
			return &defs[i];
	return NULL;
}

/* A repeated list option accumulates; anything else: the last one counts. */
static int store(struct options *out, const struct option_def *d, const char *v)
{
	char **slot = &out->values[d - defs];
	char *nv;
	if (d->kind == OPT_SELECT && *slot != NULL) {
		if (asprintf(&nv, "%s,%s", *slot, v) < 0)
			return -1;
	} else if ((nv = strdup(v)) == NULL) {
		return -1;
	}
	free(*slot);
	*slot = nv;
	switch (d->kind) {
	case OPT_CONFIG:
		out->config_file = nv;
		break;
	case OPT_MODULE_DIR:
		out->module_dir = nv;
		break;
	case OPT_HELP:
		out->help = true;
		break;
	case OPT_SHOW_HIDDEN:
		out->show_hidden = true;
		break;
	case OPT_VERSION:
		out->version = true;
		break;
	default:
		break;
	}
	return 0;
}

int options_parse(int argc, char **argv, struct options *out)
{
	memset(out, 0, sizeof(*out));
	out->values = calloc(DEF_COUNT, sizeof(*out->values));
	if (out->values == NULL)
		return -1;
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		const struct option_def *d = NULL;
		const char *value = NULL;
		if (strncmp(arg, "--", 2) == 0 && arg[2] != '\0') {
			const char *eq = strchr(arg + 2, '=');
			size_t len = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);
			d = find_long(arg + 2, len);
			value = eq ? eq + 1 : NULL;
		} else if (arg[0] == '-' && arg[1] != '\0' && arg[2] == '\0') {
			d = find_short(arg[1]);
		} else {
			fprintf(stderr, "exposrd: unexpected argument '%s' (see --help)\n", arg);
			return -1;
		}
		if (d == NULL) {
			fprintf(stderr, "exposrd: unknown option '%s' (see --help)\n", arg);
			return -1;
		}
		if (value == NULL && takes_value(d->kind)) {
			if (i + 1 >= argc) {
				fprintf(stderr, "exposrd: %s needs a value\n", arg);
				return -1;
			}
			value = argv[++i];
		} else if (value == NULL) {
			/* A boolean may be followed by an explicit true/false. */
			value = d->kind == OPT_BOOL && i + 1 < argc && is_bool_word(argv[i + 1])
			                ? argv[++i]
			                : "true";
		}
		char source[96];
		snprintf(source, sizeof(source), "--%s", d->name);
		if (validate(d, source, value) != 0 || store(out, d, value) != 0)
			return -1;
	}
	/* --config and --module-dir may come from the environment too. */
	for (size_t i = 0; i < DEF_COUNT; i++) {
		if (defs[i].kind != OPT_CONFIG && defs[i].kind != OPT_MODULE_DIR)
			continue;
		const char *env =
		        getenv(defs[i].kind == OPT_CONFIG ? "EXPOSR_CONFIG" : "EXPOSR_MODULE_DIR");
		if (out->values[i] == NULL && env != NULL && env[0] != '\0' &&
		    store(out, &defs[i], env) != 0)
			return -1;
	}
	return 0;
}

static int set_all(struct exposr_cfg *root, const struct option_def *d, const char *v,
                   const char *source)
{
	for (size_t i = 0; i < 3 && d->paths[i] != NULL; i++)
		if (cfg_set(root, d->paths[i], v, source) != 0)
			return -1;
	return 0;
}

static int set_module(struct exposr_cfg *root, const char *module, const char *key, const char *v,
                      const char *source)
{
	char path[128];
	snprintf(path, sizeof(path), "modules.%s.%s", module, key);
	return cfg_set(root, path, v, source);
}

static int apply_select(struct exposr_cfg *root, const struct option_def *d, const char *v,
                        const char *source)
{
	for (size_t i = 0; i < 5 && d->choices[i] != NULL; i++) {
		bool on = false;
		char *copy = strdup(v), *save = NULL;
		if (copy == NULL)
			return -1;
		for (char *p = strtok_r(copy, ",", &save); p != NULL;
		     p = strtok_r(NULL, ",", &save)) {
			while (isspace((unsigned char)*p))
				p++;
			on = on || strcmp(p, d->choices[i]) == 0;
		}
		free(copy);
		char module[64];
		snprintf(module, sizeof(module), "%s%s", d->paths[0] + strlen("modules."),
		         d->choices[i]);
		if (set_module(root, module, "enabled", on ? "true" : "false", source) != 0)
			return -1;
	}
	return 0;
}

static int apply_storage(struct exposr_cfg *root, const char *url, const char *source)
{
	const char *chosen = storage_module(url);
	for (size_t i = 0; i < SCHEME_COUNT; i++) {
		const char *module = storage_schemes[i][1];
		if (i > 0 && strcmp(module, storage_schemes[i - 1][1]) == 0)
			continue;
		if (set_module(root, module, "enabled",
		               strcmp(module, chosen) == 0 ? "true" : "false", source) != 0)
			return -1;
	}
	if (strcmp(chosen, "storage-memory") == 0)
		return 0;
	if (set_module(root, chosen, "url", url, source) != 0)
		return -1;
	/* The cluster bus of `auto` uses the storage's Redis unless it was given its own. */
	const struct exposr_cfg *bus = cfg_api.child(
	        cfg_api.child(cfg_api.child(root, "modules"), "cluster-redis"), "url");
	if (strcmp(chosen, "storage-redis") == 0 && bus == NULL)
		return set_module(root, "cluster-redis", "url", url, source);
	return 0;
}

static int apply_cluster(struct exposr_cfg *root, const char *mode, const char *source)
{
	bool redis = strcmp(mode, "redis") == 0, udp = strcmp(mode, "udp") == 0;
	if (set_module(root, "cluster-redis", "enabled", redis ? "true" : "false", source) != 0 ||
	    set_module(root, "cluster-udp", "enabled", udp ? "true" : "false", source) != 0)
		return -1;
	return 0;
}

/* exposrd's `auto`: the cluster follows the storage that several nodes can share. */
static const char *resolve_auto(const char *const values[])
{
	for (size_t i = 0; i < DEF_COUNT; i++) {
		if (values[i] == NULL)
			continue;
		if (defs[i].kind == OPT_REDIS_URL)
			return "redis";
		if (defs[i].kind == OPT_STORAGE_URL) {
			const char *m = storage_module(values[i]);
			if (strcmp(m, "storage-redis") == 0)
				return "redis";
			if (strcmp(m, "storage-postgres") == 0)
				return "udp";
		}
	}
	return NULL;
}

static int apply_one(struct exposr_cfg *root, const struct option_def *d, const char *v,
                     const char *source, const char *const values[])
{
	switch (d->kind) {
	case OPT_STRING:
	case OPT_INT:
	case OPT_BOOL:
	case OPT_CHOICE:
		return set_all(root, d, v, source);
	case OPT_SELECT:
		return apply_select(root, d, v, source);
	case OPT_STORAGE_URL:
		return apply_storage(root, v, source);
	case OPT_REDIS_URL:
		/* A storage URL other than memory:// keeps its storage. */
		for (size_t i = 0; i < DEF_COUNT; i++)
			if (defs[i].kind == OPT_STORAGE_URL && values[i] != NULL &&
			    strcmp(storage_module(values[i]), "storage-memory") != 0)
				return set_module(root, "cluster-redis", "url", v, source);
		if (apply_storage(root, v, source) != 0)
			return -1;
		return set_module(root, "cluster-redis", "url", v, source);
	case OPT_CLUSTER: {
		const char *mode = strcmp(v, "auto") == 0 ? resolve_auto(values) : v;
		return mode != NULL ? apply_cluster(root, mode, source) : 0;
	}
	default:
		return 0;
	}
}

static void env_name(const struct option_def *d, char *out, size_t size)
{
	size_t n = (size_t)snprintf(out, size, "EXPOSR_");
	for (const char *p = d->name; *p != '\0' && n + 1 < size; p++)
		out[n++] = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
	out[n] = '\0';
}

/* One layer (environment or command line) in table order, after which the cluster
 * mode `auto` is resolved if the layer implied one. */
static int apply_layer(struct exposr_cfg *root, const char *const values[], bool env)
{
	bool cluster_given = false;
	for (size_t i = 0; i < DEF_COUNT; i++) {
		if (values[i] == NULL)
			continue;
		char source[96];
		if (env)
			env_name(&defs[i], source, sizeof(source));
		else
			snprintf(source, sizeof(source), "--%s", defs[i].name);
		if (env && validate(&defs[i], source, values[i]) != 0)
			return -1;
		if (apply_one(root, &defs[i], values[i], source, values) != 0)
			return -1;
		cluster_given = cluster_given || defs[i].kind == OPT_CLUSTER;
	}
	const char *implied = cluster_given ? NULL : resolve_auto(values);
	return implied != NULL ? apply_cluster(root, implied, env ? "environment" : "command line")
	                       : 0;
}

int options_apply(const struct options *opts, struct exposr_cfg *root)
{
	const char *env_values[DEF_COUNT];
	for (size_t i = 0; i < DEF_COUNT; i++) {
		char name[96];
		env_name(&defs[i], name, sizeof(name));
		const char *v = getenv(name);
		bool usable = v != NULL && v[0] != '\0' && takes_value(defs[i].kind);
		usable = usable || (v != NULL && defs[i].kind == OPT_BOOL && v[0] != '\0');
		env_values[i] =
		        usable && defs[i].kind != OPT_CONFIG && defs[i].kind != OPT_MODULE_DIR
		                ? v
		                : NULL;
	}
	if (apply_layer(root, env_values, true) != 0)
		return -1;
	return apply_layer(root, (const char *const *)opts->values, false);
}

void options_print_help(FILE *out, bool show_hidden)
{
	fprintf(out, "Usage: exposrd [options]\n\n"
	             "Every option can also be set as EXPOSR_<NAME> in the environment\n"
	             "(e.g. --ingress-http-url -> EXPOSR_INGRESS_HTTP_URL) and in the YAML file.\n"
	             "Precedence: command line > environment > YAML file > defaults.\n\n");
	for (size_t i = 0; i < DEF_COUNT; i++) {
		const struct option_def *d = &defs[i];
		if (d->hidden && !show_hidden)
			continue;
		const struct option_help *h = options_help_find(d->name);
		const char *value = h != NULL && h->value != NULL ? h->value : "";
		char left[128];
		if (d->short_name != 0)
			snprintf(left, sizeof(left), "-%c, --%s %s", d->short_name, d->name, value);
		else
			snprintf(left, sizeof(left), "    --%s %s", d->name, value);
		/* A long option and its value get a line of their own. */
		if (strlen(left) > HELP_LEFT_WIDTH)
			fprintf(out, "  %s\n", left);
		int col = fprintf(out, "  %-*s %s", HELP_LEFT_WIDTH,
		                  strlen(left) > HELP_LEFT_WIDTH ? "" : left, d->help);
		if (h != NULL && h->fallback != NULL) {
			/* A default that would make the line long goes under the description. */
			if (col + (int)strlen(h->fallback) > HELP_LINE_WIDTH)
				fprintf(out, "\n  %-*s", HELP_LEFT_WIDTH, "");
			fprintf(out, " (default: %s)", h->fallback);
		}
		fputc('\n', out);
	}
}

void options_free(struct options *opts)
{
	if (opts->values != NULL)
		for (size_t i = 0; i < DEF_COUNT; i++)
			free(opts->values[i]);
	free(opts->values);
	opts->values = NULL;
}
