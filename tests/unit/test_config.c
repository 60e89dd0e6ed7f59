/* The configuration tree: YAML loading, typed getters, errors with locations. */
#include <criterion/criterion.h>

#include "capture.h"
#include "cfg.h"

static struct exposr_cfg *load_text(const char *yaml, char **errors)
{
	char *path = write_temp(yaml, ".yaml");
	FILE *tmp;
	int saved = capture_begin(&tmp);
	struct exposr_cfg *root = cfg_load_file(path);
	char *out = capture_end(tmp, saved);
	/* Error lines name the file; tests compare against a stable name. */
	char *at = strstr(out, path);
	if (at != NULL) {
		char *fixed;
		if (asprintf(&fixed, "%.*sFILE%s", (int)(at - out), out, at + strlen(path)) < 0)
			abort();
		free(out);
		out = fixed;
	}
	unlink(path);
	free(path);
	if (errors != NULL)
		*errors = out;
	else
		free(out);
	return root;
}

static char *run_getter_error(int (*fn)(const struct exposr_cfg *), const struct exposr_cfg *n)
{
	FILE *tmp;
	int saved = capture_begin(&tmp);
	cr_assert_eq(fn(n), EXPOSR_ERROR);
	return capture_end(tmp, saved);
}

Test(config, reads_scalars_lists_and_nested_mappings)
{
	struct exposr_cfg *root = load_text("log:\n  level: debug\n"
	                                    "modules:\n  api-v1:\n    port: 8080\n"
	                                    "    allow-registration: yes\n"
	                                    "    names: [a, b, c]\n    csv: \"x, y\"\n",
	                                    NULL);
	cr_assert_not_null(root);
	const struct exposr_cfg *api = cfg_api.child(cfg_api.child(root, "modules"), "api-v1");
	cr_assert_str_eq(cfg_api.path(api), "modules.api-v1");
	long port;
	bool reg;
	const char *level;
	cr_assert_eq(cfg_api.get_int(api, "port", 1, 0, 65535, &port), EXPOSR_OK);
	cr_assert_eq(port, 8080);
	cr_assert_eq(cfg_api.get_bool(api, "allow-registration", false, &reg), EXPOSR_OK);
	cr_assert(reg);
	cr_assert_eq(cfg_api.get_string(cfg_api.child(root, "log"), "level", NULL, &level), 0);
	cr_assert_str_eq(level, "debug");
	const char *const *list;
	size_t n;
	cr_assert_eq(cfg_api.get_string_list(api, "names", &list, &n), EXPOSR_OK);
	cr_assert_eq(n, 3);
	cr_assert_str_eq(list[2], "c");
	cr_assert_eq(cfg_api.get_string_list(api, "csv", &list, &n), EXPOSR_OK);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(list[0], "x");
	cr_assert_str_eq(list[1], "y");
	cfg_free(root);
}

Test(config, absent_keys_give_defaults)
{
	struct exposr_cfg *root = load_text("a: 1\n", NULL);
	long v;
	bool b;
	const char *s;
	cr_assert_eq(cfg_api.get_int(root, "missing", 42, 0, 100, &v), EXPOSR_OK);
	cr_assert_eq(v, 42);
	cr_assert_eq(cfg_api.get_bool(root, "missing", true, &b), EXPOSR_OK);
	cr_assert(b);
	cr_assert_eq(cfg_api.get_string(root, "missing", "dflt", &s), EXPOSR_OK);
	cr_assert_str_eq(s, "dflt");
	cr_assert_null(cfg_api.child(root, "missing"));
	cr_assert_eq(cfg_api.type(NULL), EXPOSR_CFG_NONE);
	cfg_free(root);
}

Test(config, empty_file_is_an_empty_mapping)
{
	struct exposr_cfg *root = load_text("", NULL);
	cr_assert_not_null(root);
	cr_assert_eq(cfg_count(root), 0);
	cfg_free(root);
}

Test(config, syntax_error_reports_line_and_column)
{
	char *errors;
	struct exposr_cfg *root = load_text("log:\n  level: info\n bad: [unclosed\n", &errors);
	cr_assert_null(root);
	cr_assert(strncmp(errors, "FILE:3:", 7) == 0, "got: %s", errors);
	free(errors);
}

Test(config, duplicate_key_is_an_error)
{
	char *errors;
	struct exposr_cfg *root = load_text("log:\n  level: info\n  level: debug\n", &errors);
	cr_assert_null(root);
	cr_assert_str_eq(errors, "FILE:3:3: log.level: duplicate key\n");
	free(errors);
}

Test(config, aliases_are_refused_before_they_expand)
{
	char *errors;
	cr_assert_null(load_text("log: &l\n  level: info\nother: *l\n", &errors));
	cr_assert_str_eq(errors, "FILE:1:6: this node is used again through an alias: YAML aliases "
	                         "are not supported\n");
	free(errors);
	/* Nested aliases, 2^30 nodes when expanded: refused at once, in bounded memory. */
	char yaml[1024] = "a0: &a0 [x, x]\n";
	for (int i = 1; i <= 30; i++) {
		size_t len = strlen(yaml);
		snprintf(yaml + len, sizeof(yaml) - len, "a%d: &a%d [*a%d, *a%d]\n", i, i, i - 1,
		         i - 1);
	}
	cr_assert_null(load_text(yaml, &errors));
	cr_assert(strstr(errors, "YAML aliases are not supported") != NULL, "got: %s", errors);
	free(errors);
}

Test(config, top_level_must_be_a_mapping)
{
	char *errors;
	cr_assert_null(load_text("- a\n- b\n", &errors));
	cr_assert_str_eq(errors, "FILE:1:1: (top level): must be a mapping\n");
	free(errors);
}

Test(config, missing_file_names_the_file)
{
	FILE *tmp;
	int saved = capture_begin(&tmp);
	cr_assert_null(cfg_load_file("/nonexistent/exposrd.yaml"));
	char *errors = capture_end(tmp, saved);
	cr_assert_str_eq(
	        errors,
	        "/nonexistent/exposrd.yaml: cannot read config: No such file or directory\n");
	free(errors);
}

static const struct exposr_cfg *bad_node;
static int get_int_port(const struct exposr_cfg *n)
{
	long v;
	return cfg_api.get_int(n, "port", 0, 1, 65535, &v);
}
static int get_bool_flag(const struct exposr_cfg *n)
{
	bool v;
	return cfg_api.get_bool(n, "flag", false, &v);
}
static int get_string_map(const struct exposr_cfg *n)
{
	const char *v;
	return cfg_api.get_string(n, "map", NULL, &v);
}
static int check_known(const struct exposr_cfg *n)
{
	static const char *const keys[] = {"port", "flag", "map", NULL};
	return cfg_api.check_keys(n, keys);
}

Test(config, type_errors_name_file_line_column_and_path)
{
	struct exposr_cfg *root = load_text("modules:\n  m:\n    port: eighty\n    flag: maybe\n"
	                                    "    map: {a: 1}\n    typo: 1\n",
	                                    NULL);
	bad_node = cfg_api.child(cfg_api.child(root, "modules"), "m");
	char *e = run_getter_error(get_int_port, bad_node);
	cr_assert(strstr(e, ":3:11: modules.m.port: 'eighty' is not an integer\n") != NULL, "%s",
	          e);
	free(e);
	e = run_getter_error(get_bool_flag, bad_node);
	cr_assert(strstr(e, ":4:11: modules.m.flag: 'maybe' is not a boolean") != NULL, "%s", e);
	free(e);
	e = run_getter_error(get_string_map, bad_node);
	cr_assert(strstr(e, ":5:10: modules.m.map: must be a single value\n") != NULL, "%s", e);
	free(e);
	e = run_getter_error(check_known, bad_node);
	cr_assert(strstr(e, ":6:11: modules.m.typo: unknown key\n") != NULL, "%s", e);
	free(e);
	cfg_free(root);
}

Test(config, range_errors)
{
	struct exposr_cfg *root = load_text("port: 70000\n", NULL);
	char *e = run_getter_error(get_int_port, root);
	cr_assert(strstr(e, ":1:7: port: 70000 is out of range (1 to 65535)\n") != NULL, "%s", e);
	free(e);
	cfg_free(root);
}

Test(config, set_overrides_and_names_its_origin)
{
	struct exposr_cfg *root = load_text("modules:\n  api-v1:\n    port: 8080\n", NULL);
	cr_assert_eq(cfg_set(root, "modules.api-v1.port", "9090", "--api-port"), EXPOSR_OK);
	cr_assert_eq(cfg_set(root, "modules.new-mod.url", "http://x", "EXPOSR_URL"), EXPOSR_OK);
	const struct exposr_cfg *mods = cfg_api.child(root, "modules");
	long port;
	cr_assert_eq(cfg_api.get_int(cfg_api.child(mods, "api-v1"), "port", 0, 0, 65535, &port), 0);
	cr_assert_eq(port, 9090);
	cr_assert(cfg_from_file(cfg_api.child(mods, "api-v1")));
	cr_assert_not(cfg_from_file(cfg_api.child(mods, "new-mod")));
	cr_assert_eq(cfg_set(root, "modules.api-v1.port", "x", "--api-port"), EXPOSR_OK);
	bad_node = cfg_api.child(mods, "api-v1");
	char *e = run_getter_error(get_int_port, bad_node);
	cr_assert_str_eq(e, "--api-port: modules.api-v1.port: 'x' is not an integer\n");
	free(e);
	cfg_free(root);
}

Test(config, set_through_a_scalar_fails)
{
	struct exposr_cfg *root = load_text("log: quiet\n", NULL);
	FILE *tmp;
	int saved = capture_begin(&tmp);
	cr_assert_eq(cfg_set(root, "log.level", "info", "--log-level"), EXPOSR_ERROR);
	char *e = capture_end(tmp, saved);
	cr_assert(strstr(e, ":1:6: log: must be a mapping to hold level (set by --log-level)") !=
	                  NULL,
	          "%s", e);
	free(e);
	cfg_free(root);
}
