/* The command line and EXPOSR_* environment. The options that set one value come from
 * the settings tables of the core and of the modules present; the core adds those that
 * choose modules (--ingress, --transport, --storage-url, --redis-url, --cluster) and
 * explains exposrd 0.12's flags whose module is not installed. */
#include "options.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cfg.h"
#include "core_settings.h"
#include "options_legacy.h"
#include "paths.h"
#include "settings_table.h"

#define HELP_LEFT_WIDTH 40
#define HELP_LINE_WIDTH 90
#define MAX_TARGETS     4

enum special {
	SP_NONE,      /* sets the settings of its targets */
	SP_LEGACY,    /* a 0.12 flag of a module that is not installed */
	SP_SELECT,    /* comma list of `choices`: enables modules.<prefix><choice> */
	SP_STORAGE,   /* the URL's scheme picks modules.storage-<scheme> */
	SP_REDIS_URL, /* storage and cluster bus on one Redis */
	SP_CLUSTER,   /* auto, single-node, udp, redis */
	SP_CONFIG,
	SP_MODULE_DIR,
	SP_HELP,
	SP_SHOW_HIDDEN,
	SP_VERSION,
};

struct special_def {
	const char *name;
	char short_name;
	enum special kind;
	const char *prefix; /* SP_SELECT */
	const char *choices[5];
	bool hidden;
	const char *value_name, *def, *help;
};

static const struct special_def head_specials[] = {
        {"config",
         'c',
         SP_CONFIG,
         NULL,
         {0},
         false,
         "FILE",
         EXPOSR_CONFIG_FILE ", or config/exposrd.yaml from the build tree",
         "YAML configuration file"},
        {"module-dir",
         0,
         SP_MODULE_DIR,
         NULL,
         {0},
         false,
         "DIR",
         EXPOSR_MODULE_DIR ", or modules/ beside a built exposrd",
         "directory of module shared objects"},
};

/* After the settings' flags, so that what they imply (a bus URL, a cluster mode) comes
 * last, as in exposrd 0.12. */
static const struct special_def tail_specials[] = {
        {"ingress",
         0,
         SP_SELECT,
         "ingress-",
         {"http", "sni"},
         false,
         "LIST",
         "http",
         "ingress types to run (http, sni)"},
        {"transport",
         0,
         SP_SELECT,
         "transport-",
         {"ws", "ssh"},
         false,
         "LIST",
         "ws",
         "transports to run (ws, ssh)"},
        {"cluster",
         0,
         SP_CLUSTER,
         NULL,
         {"auto", "single-node", "udp", "redis"},
         false,
         "MODE",
         "auto",
         "cluster mode"},
        {"redis-url",
         0,
         SP_REDIS_URL,
         NULL,
         {0},
         true,
         "URL",
         NULL,
         "Redis for storage and cluster bus (deprecated)"},
        {"storage-url",
         0,
         SP_STORAGE,
         NULL,
         {0},
         false,
         "URL",
         "memory://",
         "memory://, redis://..., sqlite://<path>, postgres://..."},
        {"version", 'v', SP_VERSION, NULL, {0}, false, NULL, NULL, "print the version"},
        {"help", 'h', SP_HELP, NULL, {0}, false, NULL, NULL, "print this help"},
        {"show-hidden",
         0,
         SP_SHOW_HIDDEN,
         NULL,
         {0},
         false,
         NULL,
         NULL,
         "list hidden options in --help"},
};

struct target {
	const char *module; /* NULL: the core */
	const struct exposr_setting *setting;
};

struct flag {
	const char *name;
	char short_name;
	bool hidden;
	const char *alias_of; /* an old spelling: the flag it stands for */
	const struct special_def *special;
	const struct legacy_flag *legacy;
	struct target targets[MAX_TARGETS];
	size_t target_count;
};

static const char *const storage_schemes[][2] = {
        {"memory", "storage-memory"},     {"redis", "storage-redis"},
        {"rediss", "storage-redis"},      {"sqlite", "storage-sqlite"},
        {"postgres", "storage-postgres"}, {"postgresql", "storage-postgres"},
};
#define SCHEME_COUNT (sizeof(storage_schemes) / sizeof(storage_schemes[0]))

static enum special kind_of(const struct flag *f)
{
	return f->special != NULL ? f->special->kind : f->legacy != NULL ? SP_LEGACY : SP_NONE;
}

static bool is_boolean(const struct flag *f)
{
	if (f->legacy != NULL)
		return f->legacy->boolean;
	return f->target_count > 0 && f->targets[0].setting->type == EXPOSR_SETTING_BOOL;
}

static bool takes_value(const struct flag *f)
{
	enum special k = kind_of(f);
	return !is_boolean(f) && k != SP_HELP && k != SP_SHOW_HIDDEN && k != SP_VERSION;
}

static bool is_bool_word(const char *v)
{
	return strcasecmp(v, "true") == 0 || strcasecmp(v, "false") == 0;
}

/* ---- the flags of the modules present ---- */

static struct flag *find_flag(const struct options *o, const char *name, size_t len)
{
	for (size_t i = 0; i < o->flag_count; i++)
		if (strlen(o->flags[i].name) == len && strncmp(o->flags[i].name, name, len) == 0)
			return &o->flags[i];
	return NULL;
}

static struct flag *new_flag(struct options *o, const char *name, size_t *cap)
{
	if (o->flag_count == *cap) {
		size_t n = *cap != 0 ? *cap * 2 : 64;
		struct flag *f = realloc(o->flags, n * sizeof(*f));
		if (f == NULL) {
			fprintf(stderr, "exposrd: out of memory\n");
			return NULL;
		}
		o->flags = f;
		*cap = n;
	}
	struct flag *f = &o->flags[o->flag_count++];
	*f = (struct flag){.name = name};
	return f;
}

/* A flag several modules answer (--api-port) sets the setting of each. */
static int add_setting_flag(struct options *o, const char *name, const char *alias_of,
                            const struct target *t, size_t *cap)
{
	struct flag *f = find_flag(o, name, strlen(name));
	if (f == NULL) {
		if ((f = new_flag(o, name, cap)) == NULL)
			return -1;
		f->alias_of = alias_of;
		f->hidden = alias_of != NULL || (t->setting->flags & EXPOSR_SETTING_HIDDEN) != 0;
	}
	const char *module = t->module != NULL ? t->module : "the core";
	if (f->special != NULL || f->target_count == MAX_TARGETS ||
	    (f->target_count > 0 && f->targets[0].setting->type != t->setting->type)) {
		fprintf(stderr,
		        "exposrd: %s declares --%s, which is %s: remove it from one of them\n",
		        module, name,
		        f->special != NULL ? "the core's own" : "declared otherwise elsewhere");
		return -1;
	}
	f->targets[f->target_count++] = *t;
	if (alias_of == NULL && t->setting->short_flag != 0)
		f->short_name = t->setting->short_flag;
	return 0;
}

/* Old spellings come before the flag they stand for, so the real one wins when both
 * are given. */
static int add_table(struct options *o, const char *module, const struct exposr_setting *table,
                     size_t *cap)
{
	for (const struct exposr_setting *s = table; s != NULL && s->key != NULL; s++) {
		if (s->flag == NULL)
			continue;
		struct target t = {module, s};
		for (size_t i = 0; s->aliases != NULL && s->aliases[i] != NULL; i++)
			if (add_setting_flag(o, s->aliases[i], s->flag, &t, cap) != 0)
				return -1;
		if (add_setting_flag(o, s->flag, NULL, &t, cap) != 0)
			return -1;
	}
	return 0;
}

static int add_specials(struct options *o, const struct special_def *defs, size_t n, size_t *cap)
{
	for (size_t i = 0; i < n; i++) {
		struct flag *f = new_flag(o, defs[i].name, cap);
		if (f == NULL)
			return -1;
		f->special = &defs[i];
		f->short_name = defs[i].short_name;
		f->hidden = defs[i].hidden;
	}
	return 0;
}

static int build_flags(struct options *o)
{
	size_t cap = 0;
	if (add_specials(o, head_specials, sizeof(head_specials) / sizeof(head_specials[0]),
	                 &cap) != 0 ||
	    add_table(o, NULL, core_settings_table, &cap) != 0)
		return -1;
	for (size_t i = 0; i < o->catalog.count; i++) {
		const struct catalog_entry *e = &o->catalog.entries[i];
		if (add_table(o, e->name, catalog_settings(e->desc), &cap) != 0)
			return -1;
	}
	for (size_t i = 0; i < options_legacy_count; i++) {
		const struct legacy_flag *l = &options_legacy[i];
		if (find_flag(o, l->name, strlen(l->name)) != NULL)
			continue;
		struct flag *f = new_flag(o, l->name, &cap);
		if (f == NULL)
			return -1;
		f->legacy = l;
		f->hidden = true;
	}
	return add_specials(o, tail_specials, sizeof(tail_specials) / sizeof(tail_specials[0]),
	                    &cap);
}

/* ---- checking values ---- */

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

static bool in_choices(const struct special_def *d, const char *v)
{
	for (size_t i = 0; i < 5 && d->choices[i] != NULL; i++)
		if (strcmp(d->choices[i], v) == 0)
			return true;
	return false;
}

/* A value that asks for a module this installation lacks is refused by name. */
static int need_module(const struct options *o, const char *source, const char *value,
                       const char *module)
{
	if (catalog_find(&o->catalog, module) != NULL)
		return 0;
	fprintf(stderr, "exposrd: %s %s: module %s is not installed\n", source, value, module);
	return -1;
}

static int check_select(const struct options *o, const struct flag *f, const char *source,
                        const char *v)
{
	char *copy = strdup(v), *save = NULL;
	int rc = copy != NULL ? 0 : -1;
	for (char *p = copy ? strtok_r(copy, ",", &save) : NULL; p != NULL && rc == 0;
	     p = strtok_r(NULL, ",", &save)) {
		while (isspace((unsigned char)*p))
			p++;
		char module[64];
		snprintf(module, sizeof(module), "%s%s", f->special->prefix, p);
		if (!in_choices(f->special, p)) {
			fprintf(stderr, "exposrd: %s: unknown %s '%s'\n", source, f->name, p);
			rc = -1;
		} else {
			rc = need_module(o, source, p, module);
		}
	}
	free(copy);
	return rc;
}

static int check_special(const struct options *o, const struct flag *f, const char *source,
                         const char *v)
{
	const struct special_def *d = f->special;
	switch (d->kind) {
	case SP_SELECT:
		return check_select(o, f, source, v);
	case SP_CLUSTER:
		if (!in_choices(d, v)) {
			fprintf(stderr, "exposrd: %s: '%s' is not one of %s, %s, %s, %s\n", source,
			        v, d->choices[0], d->choices[1], d->choices[2], d->choices[3]);
			return -1;
		}
		if (strcmp(v, "udp") == 0 || strcmp(v, "redis") == 0) {
			char module[32];
			snprintf(module, sizeof(module), "cluster-%s", v);
			return need_module(o, source, v, module);
		}
		return 0;
	case SP_STORAGE:
		if (storage_module(v) == NULL) {
			fprintf(stderr,
			        "exposrd: %s: unsupported storage URL '%s' (memory://, redis://, "
			        "sqlite://, postgres://)\n",
			        source, v);
			return -1;
		}
		return need_module(o, source, v, storage_module(v));
	case SP_REDIS_URL:
		return need_module(o, source, v, "cluster-redis");
	default:
		return 0;
	}
}

/* Checks a value from the command line or the environment; `source` is "--name" or
 * "EXPOSR_NAME". */
static int check_value(const struct options *o, const struct flag *f, const char *source,
                       const char *v)
{
	if (f->special != NULL)
		return check_special(o, f, source, v);
	if (f->legacy != NULL && f->legacy->boolean && !is_bool_word(v)) {
		fprintf(stderr, "exposrd: %s: '%s' is not a boolean (true or false)\n", source, v);
		return -1;
	}
	if (f->legacy != NULL)
		return 0;
	for (size_t i = 0; i < f->target_count; i++)
		if (settings_check_text(f->targets[i].setting, source, v) != 0)
			return -1;
	return 0;
}

/* ---- the command line ---- */

static struct flag *find_short(const struct options *o, char c)
{
	for (size_t i = 0; i < o->flag_count; i++)
		if (o->flags[i].short_name == c)
			return &o->flags[i];
	return NULL;
}

/* A repeated list option accumulates; anything else: the last one counts. */
static int store(struct options *out, const struct flag *f, const char *v)
{
	char **slot = &out->values[f - out->flags];
	char *nv;
	if (kind_of(f) == SP_SELECT && *slot != NULL) {
		if (asprintf(&nv, "%s,%s", *slot, v) < 0)
			return -1;
	} else if ((nv = strdup(v)) == NULL) {
		return -1;
	}
	free(*slot);
	*slot = nv;
	switch (kind_of(f)) {
	case SP_CONFIG:
		out->config_file = nv;
		break;
	case SP_MODULE_DIR:
		out->module_dir = nv;
		break;
	case SP_HELP:
		out->help = true;
		break;
	case SP_SHOW_HIDDEN:
		out->show_hidden = true;
		break;
	case SP_VERSION:
		out->version = true;
		break;
	default:
		break;
	}
	return 0;
}

/* The flags depend on the module directory, so it is known first. */
static const char *module_dir_of(int argc, char **argv)
{
	const char *dir = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--module-dir") == 0 && i + 1 < argc)
			dir = argv[++i];
		else if (strncmp(argv[i], "--module-dir=", 13) == 0)
			dir = argv[i] + 13;
	}
	const char *env = getenv("EXPOSR_MODULE_DIR");
	if (dir == NULL && env != NULL && env[0] != '\0')
		dir = env;
	return dir != NULL ? dir : paths_default_module_dir();
}

static int parse_one(struct options *out, int argc, char **argv, int *i)
{
	const char *arg = argv[*i];
	struct flag *f = NULL;
	const char *value = NULL;
	if (strncmp(arg, "--", 2) == 0 && arg[2] != '\0') {
		const char *eq = strchr(arg + 2, '=');
		size_t len = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);
		f = find_flag(out, arg + 2, len);
		value = eq ? eq + 1 : NULL;
	} else if (arg[0] == '-' && arg[1] != '\0' && arg[2] == '\0') {
		f = find_short(out, arg[1]);
	} else {
		fprintf(stderr, "exposrd: unexpected argument '%s' (see --help)\n", arg);
		return -1;
	}
	if (f == NULL) {
		fprintf(stderr, "exposrd: unknown option '%s' (see --help)\n", arg);
		return -1;
	}
	if (value == NULL && takes_value(f)) {
		if (*i + 1 >= argc) {
			fprintf(stderr, "exposrd: %s needs a value\n", arg);
			return -1;
		}
		value = argv[++*i];
	} else if (value == NULL) {
		/* A boolean may be followed by an explicit true/false. */
		value = is_boolean(f) && *i + 1 < argc && is_bool_word(argv[*i + 1]) ? argv[++*i]
		                                                                     : "true";
	}
	char source[96];
	snprintf(source, sizeof(source), "--%s", f->name);
	if (check_value(out, f, source, value) != 0 || store(out, f, value) != 0)
		return -1;
	return 0;
}

int options_parse(int argc, char **argv, struct options *out)
{
	memset(out, 0, sizeof(*out));
	out->module_dir = module_dir_of(argc, argv);
	if (catalog_scan(out->module_dir, &out->catalog) == 0 && build_flags(out) != 0)
		return -1; /* it said why */
	if (out->flags == NULL ||
	    (out->values = calloc(out->flag_count, sizeof(*out->values))) == NULL) {
		fprintf(stderr, "exposrd: out of memory\n");
		return -1;
	}
	for (int i = 1; i < argc; i++)
		if (parse_one(out, argc, argv, &i) != 0)
			return -1;
	const char *env = getenv("EXPOSR_CONFIG");
	if (out->config_file == NULL && env != NULL && env[0] != '\0')
		out->config_file = env;
	return 0;
}

/* ---- onto the YAML tree ---- */

static int set_module(struct exposr_cfg *root, const char *module, const char *key, const char *v,
                      const char *source)
{
	char path[160];
	snprintf(path, sizeof(path), "modules.%s.%s", module, key);
	return cfg_set(root, path, v, source);
}

static int set_targets(struct exposr_cfg *root, const struct flag *f, const char *v,
                       const char *source)
{
	for (size_t i = 0; i < f->target_count; i++) {
		const struct target *t = &f->targets[i];
		int rc = t->module != NULL ? set_module(root, t->module, t->setting->key, v, source)
		                           : cfg_set(root, t->setting->key, v, source);
		if (rc != 0)
			return -1;
	}
	return 0;
}

static int apply_select(struct exposr_cfg *root, const struct special_def *d, const char *v,
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
		snprintf(module, sizeof(module), "%s%s", d->prefix, d->choices[i]);
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
static const char *resolve_auto(const struct options *o, const char *const values[])
{
	for (size_t i = 0; i < o->flag_count; i++) {
		if (values[i] == NULL)
			continue;
		if (kind_of(&o->flags[i]) == SP_REDIS_URL)
			return "redis";
		if (kind_of(&o->flags[i]) == SP_STORAGE) {
			const char *m = storage_module(values[i]);
			if (strcmp(m, "storage-redis") == 0)
				return "redis";
			if (strcmp(m, "storage-postgres") == 0)
				return "udp";
		}
	}
	return NULL;
}

static int apply_one(const struct options *o, struct exposr_cfg *root, const struct flag *f,
                     const char *v, const char *source, const char *const values[])
{
	switch (kind_of(f)) {
	case SP_NONE:
		return set_targets(root, f, v, source);
	case SP_LEGACY:
		/* An option for a module this installation lacks cannot matter: it is said
		 * once and exposrd runs on. Choosing that module is an error (check_special). */
		fprintf(stderr, "exposrd: %s: module %s is not installed; the option is ignored\n",
		        source, f->legacy->module);
		return 0;
	case SP_SELECT:
		return apply_select(root, f->special, v, source);
	case SP_STORAGE:
		return apply_storage(root, v, source);
	case SP_REDIS_URL:
		/* A storage URL other than memory:// keeps its storage. */
		for (size_t i = 0; i < o->flag_count; i++)
			if (kind_of(&o->flags[i]) == SP_STORAGE && values[i] != NULL &&
			    strcmp(storage_module(values[i]), "storage-memory") != 0)
				return set_module(root, "cluster-redis", "url", v, source);
		if (apply_storage(root, v, source) != 0)
			return -1;
		return set_module(root, "cluster-redis", "url", v, source);
	case SP_CLUSTER: {
		const char *mode = strcmp(v, "auto") == 0 ? resolve_auto(o, values) : v;
		return mode != NULL ? apply_cluster(root, mode, source) : 0;
	}
	default:
		return 0;
	}
}

/* One layer (environment or command line) in flag order, after which the cluster mode
 * `auto` is resolved if the layer implied one. */
static int apply_layer(const struct options *o, struct exposr_cfg *root, const char *const values[],
                       bool env)
{
	bool cluster_given = false;
	for (size_t i = 0; i < o->flag_count; i++) {
		if (values[i] == NULL)
			continue;
		const struct flag *f = &o->flags[i];
		char source[96];
		if (env)
			settings_env_name(f->name, source, sizeof(source));
		else
			snprintf(source, sizeof(source), "--%s", f->name);
		if (env && check_value(o, f, source, values[i]) != 0)
			return -1;
		if (apply_one(o, root, f, values[i], source, values) != 0)
			return -1;
		cluster_given = cluster_given || kind_of(f) == SP_CLUSTER;
	}
	const char *implied = cluster_given ? NULL : resolve_auto(o, values);
	return implied != NULL ? apply_cluster(root, implied, env ? "environment" : "command line")
	                       : 0;
}

int options_apply(const struct options *opts, struct exposr_cfg *root)
{
	const char **env_values = calloc(opts->flag_count + 1, sizeof(*env_values));
	if (env_values == NULL)
		return -1;
	for (size_t i = 0; i < opts->flag_count; i++) {
		const struct flag *f = &opts->flags[i];
		enum special k = kind_of(f);
		char name[96];
		settings_env_name(f->name, name, sizeof(name));
		const char *v = getenv(name);
		bool usable = v != NULL && v[0] != '\0' && (takes_value(f) || is_boolean(f));
		env_values[i] = usable && k != SP_CONFIG && k != SP_MODULE_DIR ? v : NULL;
	}
	int rc = apply_layer(opts, root, env_values, true);
	free(env_values);
	if (rc != 0)
		return -1;
	return apply_layer(opts, root, (const char *const *)opts->values, false);
}

/* ---- --help ---- */

static void help_line(FILE *out, const struct flag *f, const char *value, const char *help,
                      const char *def)
{
	char left[128];
	if (f->short_name != 0)
		snprintf(left, sizeof(left), "-%c, --%s %s", f->short_name, f->name, value);
	else
		snprintf(left, sizeof(left), "    --%s %s", f->name, value);
	/* A long option and its value get a line of their own. */
	if (strlen(left) > HELP_LEFT_WIDTH)
		fprintf(out, "  %s\n", left);
	int col = fprintf(out, "  %-*s %s", HELP_LEFT_WIDTH,
	                  strlen(left) > HELP_LEFT_WIDTH ? "" : left, help);
	if (def != NULL) {
		/* A default that would make the line long goes under the description. */
		if (col + (int)strlen(def) > HELP_LINE_WIDTH)
			fprintf(out, "\n  %-*s", HELP_LEFT_WIDTH, "");
		fprintf(out, " (default: %s)", def);
	}
	fputc('\n', out);
}

static void help_flag(FILE *out, const struct flag *f)
{
	if (f->special != NULL) {
		const struct special_def *d = f->special;
		help_line(out, f, d->value_name != NULL ? d->value_name : "", d->help, d->def);
		return;
	}
	const struct exposr_setting *s = f->targets[0].setting;
	char alias[128];
	const char *help = s->help;
	if (f->alias_of != NULL) {
		snprintf(alias, sizeof(alias), "alias of --%s", f->alias_of);
		help = alias;
	}
	help_line(out, f, settings_value_name(s), help,
	          f->alias_of != NULL ? NULL : settings_default_text(s));
}

void options_print_help(const struct options *opts, FILE *out, bool show_hidden)
{
	fprintf(out,
	        "Usage: exposrd [options]\n\n"
	        "Every option can also be set as EXPOSR_<NAME> in the environment\n"
	        "(e.g. --ingress-http-url -> EXPOSR_INGRESS_HTTP_URL) and in the YAML file.\n"
	        "Precedence: command line > environment > YAML file > defaults.\n"
	        "The options of a module are listed when it is in %s.\n\n",
	        opts->module_dir);
	for (size_t i = 0; i < opts->flag_count; i++) {
		const struct flag *f = &opts->flags[i];
		if (f->legacy == NULL && (!f->hidden || show_hidden))
			help_flag(out, f);
	}
	if (!show_hidden)
		return;
	fprintf(out, "\nexposrd 0.12 options of modules not installed (accepted and ignored):\n");
	for (size_t i = 0; i < opts->flag_count; i++) {
		const struct flag *f = &opts->flags[i];
		if (f->legacy == NULL)
			continue;
		char why[96];
		snprintf(why, sizeof(why), "module %s is not installed", f->legacy->module);
		help_line(out, f, f->legacy->boolean ? "[true|false]" : "VALUE", why, NULL);
	}
}

void options_unload_modules(struct options *opts)
{
	catalog_free(&opts->catalog);
	/* The flags point into the descriptors just unloaded. */
	free(opts->flags);
	opts->flags = NULL;
}

void options_free(struct options *opts)
{
	if (opts->values != NULL)
		for (size_t i = 0; i < opts->flag_count; i++)
			free(opts->values[i]);
	free(opts->values);
	free(opts->flags);
	catalog_free(&opts->catalog);
	memset(opts, 0, sizeof(*opts));
}
