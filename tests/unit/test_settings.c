/* Settings tables: types, bounds, defaults, required settings, unknown keys and the
 * origin every error names; the flags they give and the modules that are absent. */
#include <criterion/criterion.h>
#include <stddef.h>
#include <sys/stat.h>

#include "capture.h"
#include "cfg.h"
#include "core_settings.h"
#include "options.h"
#include "options_legacy.h"
#include "settings_table.h"

struct values {
	long port;
	bool on;
	const char *name, *mode;
	struct exposr_setting_list list;
	const char *nested;
};

#define AT(field) offsetof(struct values, field)

static const char *const modes[] = {"fast", "slow", NULL};

static const struct exposr_setting table[] = {
        {.key = "port",
         .type = EXPOSR_SETTING_INT,
         .def = "80",
         .min = 1,
         .max = 65535,
         .offset = AT(port)},
        {.key = "on", .type = EXPOSR_SETTING_BOOL, .def = "true", .offset = AT(on)},
        {.key = "name",
         .type = EXPOSR_SETTING_STRING,
         .flags = EXPOSR_SETTING_REQUIRED,
         .flag = "test-name",
         .help = "what it is called",
         .offset = AT(name)},
        {.key = "mode",
         .type = EXPOSR_SETTING_CHOICE,
         .def = "fast",
         .choices = modes,
         .value_name = "MODE",
         .offset = AT(mode)},
        {.key = "list", .type = EXPOSR_SETTING_LIST, .offset = AT(list)},
        {.key = "deep.er", .type = EXPOSR_SETTING_STRING, .def = "x", .offset = AT(nested)},
        {0},
};

static struct exposr_cfg *load(const char *yaml)
{
	char *path = write_temp(yaml, ".yaml");
	struct exposr_cfg *root = cfg_load_file(path);
	unlink(path);
	free(path);
	cr_assert_not_null(root);
	return root;
}

/* Reads `yaml` against the table: the status, and what was printed in *errors. */
static int read_text(const char *yaml, struct values *v, char **errors)
{
	struct exposr_cfg *root = load(yaml);
	FILE *tmp;
	int saved = capture_begin(&tmp);
	int rc = settings_read(root, "(top level)", table, "enabled", v);
	*errors = capture_end(tmp, saved);
	cfg_free(root);
	return rc;
}

Test(settings, defaults_and_values_of_every_type)
{
	struct values v;
	char *e;
	cr_assert_eq(read_text("name: n\n", &v, &e), EXPOSR_OK, "%s", e);
	free(e);
	cr_assert_eq(v.port, 80);
	cr_assert(v.on);
	cr_assert_str_eq(v.mode, "fast");
	cr_assert_eq(v.list.count, 0);
	cr_assert_str_eq(v.nested, "x");

	struct exposr_cfg *root = load("name: n\nport: 8080\non: no\nmode: slow\nlist: a, b\n"
	                               "deep:\n  er: y\nenabled: true\n");
	cr_assert_eq(settings_read(root, "(top level)", table, "enabled", &v), EXPOSR_OK);
	cr_assert_eq(v.port, 8080);
	cr_assert(!v.on);
	cr_assert_str_eq(v.mode, "slow");
	cr_assert_eq(v.list.count, 2);
	cr_assert_str_eq(v.list.items[1], "b");
	cr_assert_str_eq(v.nested, "y");
	cfg_free(root);
}

Test(settings, every_error_names_the_line_and_column_of_its_value)
{
	static const char *const cases[][2] = {
	        {"name: n\nport: 0\n", ":2:7: port: 0 is out of range (1 to 65535)\n"},
	        {"name: n\nport: eighty\n", ":2:7: port: 'eighty' is not an integer\n"},
	        {"name: n\non: maybe\n", ":2:5: on: 'maybe' is not a boolean (true or false)\n"},
	        {"name: n\nmode: warp\n", ":2:7: mode: unknown mode 'warp' (fast, slow)\n"},
	        {"name: n\ntypo: 1\n", ":2:7: typo: unknown key\n"},
	        {"name: n\ndeep:\n  typo: 1\n", ":3:9: deep.typo: unknown key\n"},
	        {"name: n\ndeep: 5\n", ":2:7: deep: must be a mapping\n"},
	        {"port: 8\n",
	         ":1:1: name: required: what it is called (set name or --test-name)\n"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct values v;
		char *e;
		cr_assert_eq(read_text(cases[i][0], &v, &e), EXPOSR_ERROR, "%s", cases[i][0]);
		cr_assert(strstr(e, cases[i][1]) != NULL, "%s: %s", cases[i][0], e);
		free(e);
	}
}

Test(settings, a_value_set_by_a_flag_is_blamed_on_the_flag)
{
	struct exposr_cfg *root = load("name: n\nport: 8080\n");
	cr_assert_eq(cfg_set(root, "port", "70000", "--test-port"), 0);
	struct values v;
	FILE *tmp;
	int saved = capture_begin(&tmp);
	cr_assert_eq(settings_read(root, "(top level)", table, NULL, &v), EXPOSR_ERROR);
	char *e = capture_end(tmp, saved);
	cr_assert_str_eq(e, "--test-port: port: 70000 is out of range (1 to 65535)\n");
	free(e);
	cfg_free(root);
}

Test(settings, a_missing_subtree_is_named_by_where)
{
	FILE *tmp;
	int saved = capture_begin(&tmp);
	cr_assert_eq(settings_read(NULL, "modules.m", table, "enabled", NULL), EXPOSR_ERROR);
	char *e = capture_end(tmp, saved);
	cr_assert_str_eq(e, "exposrd: modules.m.name: required: what it is called (set it or "
	                    "--test-name)\n");
	free(e);
}

Test(settings, flag_values_are_checked_with_the_setting)
{
	static const char *const cases[][3] = {
	        {"port", "http", "exposrd: --p: 'http' is not a non-negative integer\n"},
	        {"port", "70000", "exposrd: --p: 70000 is out of range (1 to 65535)\n"},
	        {"on", "yes", "exposrd: --p: 'yes' is not a boolean (true or false)\n"},
	        {"mode", "warp", "exposrd: --p: unknown mode 'warp' (fast, slow)\n"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct exposr_setting *s = table;
		while (strcmp(s->key, cases[i][0]) != 0)
			s++;
		FILE *tmp;
		int saved = capture_begin(&tmp);
		cr_assert_eq(settings_check_text(s, "--p", cases[i][1]), EXPOSR_ERROR);
		char *e = capture_end(tmp, saved);
		cr_assert_str_eq(e, cases[i][2]);
		free(e);
		cr_assert_eq(settings_check_text(s, "--p", s->def != NULL ? s->def : "x"),
		             EXPOSR_OK);
	}
}

Test(settings, the_core_table_reads_its_sections_once)
{
	struct exposr_cfg *root = load("tunnels:\n  max-connections: 5\ncluster:\n  key: k\n"
	                               "modules: {}\n");
	struct core_settings cs;
	cr_assert_eq(core_settings_read(root, &cs), EXPOSR_OK);
	cr_assert_eq(cs.max_connections, 5);
	cr_assert_str_eq(cs.cluster_key, "k");
	cr_assert_str_eq(cs.log_level, "info");
	cr_assert_eq(cs.shutdown_timeout_s, 10);
	cfg_free(root);
}

/* ---- flags from the modules present ---- */

static char module_dir[] = "/tmp/exposr-modules-XXXXXX";

/* A module directory with only transport-ws and storage-memory in it. */
static void few_modules(void)
{
	cr_assert_not_null(mkdtemp(module_dir));
	static const char *const present[] = {"transport-ws", "storage-memory"};
	for (size_t i = 0; i < 2; i++) {
		char from[512], to[512];
		snprintf(from, sizeof(from), "%s/%s.so", FIXTURE_DIR, present[i]);
		snprintf(to, sizeof(to), "%s/%s.so", module_dir, present[i]);
		cr_assert_eq(symlink(from, to), 0);
	}
	setenv("EXPOSR_MODULE_DIR", module_dir, 1);
}

static void remove_modules(void)
{
	static const char *const present[] = {"transport-ws", "storage-memory"};
	for (size_t i = 0; i < 2; i++) {
		char to[512];
		snprintf(to, sizeof(to), "%s/%s.so", module_dir, present[i]);
		unlink(to);
	}
	rmdir(module_dir);
	unsetenv("EXPOSR_MODULE_DIR");
}

static int parse(struct options *o, char **errors, int argc, char **args)
{
	char *argv[8] = {"exposrd"};
	for (int i = 0; i < argc; i++)
		argv[i + 1] = args[i];
	FILE *tmp;
	int saved = capture_begin(&tmp);
	int rc = options_parse(argc + 1, argv, o);
	*errors = capture_end(tmp, saved);
	return rc;
}

Test(settings, choosing_a_module_not_installed_is_an_error_naming_it, .init = few_modules,
     .fini = remove_modules)
{
	static const char *const cases[][3] = {
	        {"--transport", "ssh",
	         "exposrd: --transport ssh: module transport-ssh is not installed\n"},
	        {"--ingress", "http",
	         "exposrd: --ingress http: module ingress-http is not installed\n"},
	        {"--cluster", "redis",
	         "exposrd: --cluster redis: module cluster-redis is not installed\n"},
	        {"--storage-url", "sqlite://x.db",
	         "exposrd: --storage-url sqlite://x.db: module storage-sqlite is not installed\n"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct options o;
		char *e;
		cr_assert_eq(parse(&o, &e, 2, (char *[]){(char *)cases[i][0], (char *)cases[i][1]}),
		             -1);
		cr_assert_str_eq(e, cases[i][2]);
		free(e);
		options_free(&o);
	}
}

Test(settings, an_option_of_a_module_not_installed_is_accepted_and_ignored, .init = few_modules,
     .fini = remove_modules)
{
	struct options o;
	char *e;
	cr_assert_eq(parse(&o, &e, 3, (char *[]){"--transport-ssh-port", "22", "-p"}), -1);
	cr_assert_str_eq(e, "exposrd: -p needs a value\n");
	free(e);
	options_free(&o);
	cr_assert_eq(parse(&o, &e, 4, (char *[]){"--transport-ssh-port", "22", "-p", "9000"}), 0);
	free(e);
	struct exposr_cfg *root = cfg_new_root();
	FILE *tmp;
	int saved = capture_begin(&tmp);
	cr_assert_eq(options_apply(&o, root), 0);
	e = capture_end(tmp, saved);
	cr_assert_str_eq(e, "exposrd: --transport-ssh-port: module transport-ssh is not installed; "
	                    "the option is ignored\n");
	free(e);
	/* -p is still transport-ws's port; api-v1, absent, gets nothing. */
	const struct exposr_cfg *modules = cfg_api.child(root, "modules");
	const char *port;
	cr_assert_eq(
	        cfg_api.get_string(cfg_api.child(modules, "transport-ws"), "port", NULL, &port),
	        EXPOSR_OK);
	cr_assert_str_eq(port, "9000");
	cr_assert_null(cfg_api.child(modules, "api-v1"));
	cr_assert_null(cfg_api.child(modules, "transport-ssh"));
	cfg_free(root);
	options_free(&o);
}

Test(settings, a_module_not_installed_contributes_no_flag_to_help, .init = few_modules,
     .fini = remove_modules)
{
	struct options o;
	char *e;
	cr_assert_eq(parse(&o, &e, 0, NULL), 0);
	free(e);
	char *buf;
	size_t len;
	FILE *out = open_memstream(&buf, &len);
	options_print_help(&o, out, false);
	fclose(out);
	cr_assert(strstr(buf, "--ingress-http-url URL") == NULL, "%s", buf);
	cr_assert(strstr(buf, "--admin-port") == NULL, "%s", buf);
	cr_assert(strstr(buf, "-p, --api-port PORT") != NULL, "%s", buf);
	free(buf);
	out = open_memstream(&buf, &len);
	options_print_help(&o, out, true);
	fclose(out);
	cr_assert(strstr(buf, "--ingress-http-url VALUE") != NULL, "%s", buf);
	cr_assert(strstr(buf, "module ingress-http is not installed") != NULL, "%s", buf);
	free(buf);
	options_free(&o);
}

/* The list that explains absent modules' flags agrees with the modules' own tables. */
Test(settings, legacy_flags_name_the_module_that_declares_them)
{
	struct catalog c;
	cr_assert_eq(catalog_scan(FIXTURE_DIR, &c), 0);
	cr_assert_gt(c.count, 8);
	for (size_t i = 0; i < options_legacy_count; i++) {
		const struct legacy_flag *l = &options_legacy[i];
		for (size_t m = 0; m < c.count; m++) {
			const struct exposr_setting *s = catalog_settings(c.entries[m].desc);
			for (; s != NULL && s->key != NULL; s++) {
				bool named = s->flag != NULL && strcmp(s->flag, l->name) == 0;
				for (size_t a = 0; s->aliases != NULL && s->aliases[a] != NULL; a++)
					named = named || strcmp(s->aliases[a], l->name) == 0;
				/* --api-port is api-v1's, and transport-ws answers it too. */
				cr_assert(!named || strcmp(c.entries[m].name, l->module) == 0 ||
				                  strcmp(l->name, "api-port") == 0,
				          "--%s: %s declares it, the list says %s", l->name,
				          c.entries[m].name, l->module);
				cr_assert(!named || (s->type == EXPOSR_SETTING_BOOL) == l->boolean,
				          "--%s: boolean or not", l->name);
			}
		}
	}
	catalog_free(&c);
}
