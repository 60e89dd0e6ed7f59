/* Command line and environment: mapping onto YAML settings, precedence, errors. */
#include <criterion/criterion.h>

#include "capture.h"
#include "cfg.h"
#include "options.h"

/* The flags come from the modules present: the ones built beside these tests. */
static void use_built_modules(void)
{
	setenv("EXPOSR_MODULE_DIR", FIXTURE_DIR, 1);
}

TestSuite(options, .init = use_built_modules);

static const char *value_at(const struct exposr_cfg *root, const char *path)
{
	char *copy = strdup(path), *save = NULL, *last = NULL;
	const struct exposr_cfg *n = root;
	for (char *seg = strtok_r(copy, ".", &save); seg != NULL;
	     seg = strtok_r(NULL, ".", &save)) {
		if (last != NULL)
			n = cfg_api.child(n, last);
		last = seg;
	}
	const char *v = NULL;
	if (cfg_api.get_string(n, last, NULL, &v) != EXPOSR_OK)
		v = NULL;
	free(copy);
	return v;
}

static int parse(struct options *o, char **errors, int argc, ...)
{
	char *argv[32] = {"exposrd"};
	va_list ap;
	va_start(ap, argc);
	for (int i = 1; i <= argc; i++)
		argv[i] = va_arg(ap, char *);
	va_end(ap);
	FILE *tmp;
	int saved = capture_begin(&tmp);
	int rc = options_parse(argc + 1, argv, o);
	char *e = capture_end(tmp, saved);
	if (errors != NULL)
		*errors = e;
	else
		free(e);
	return rc;
}

Test(options, seed_quick_start_command_line)
{
	struct options o;
	cr_assert_eq(parse(&o, NULL, 5, "--api-url", "http://host.docker.internal:8080",
	                   "--allow-registration", "--http-ingress-domain",
	                   "http://localhost:8080"),
	             0);
	struct exposr_cfg *root = cfg_new_root();
	cr_assert_eq(options_apply(&o, root), 0);
	cr_assert_str_eq(value_at(root, "modules.api-v1.url"), "http://host.docker.internal:8080");
	cr_assert_str_eq(value_at(root, "modules.api-v1.allow-registration"), "true");
	cr_assert_str_eq(value_at(root, "modules.ingress-http.url"), "http://localhost:8080");
	cfg_free(root);
	options_free(&o);
}

Test(options, values_forms_and_short_flags)
{
	struct options o;
	cr_assert_eq(parse(&o, NULL, 5, "-p", "9000", "--admin-enable=false", "--log-level=debug",
	                   "--transport-max-connections=3"),
	             0);
	struct exposr_cfg *root = cfg_new_root();
	cr_assert_eq(options_apply(&o, root), 0);
	cr_assert_str_eq(value_at(root, "modules.api-v1.port"), "9000");
	cr_assert_str_eq(value_at(root, "modules.transport-ws.port"), "9000");
	cr_assert_str_eq(value_at(root, "modules.admin.enabled"), "false");
	cr_assert_str_eq(value_at(root, "log.level"), "debug");
	cr_assert_str_eq(value_at(root, "tunnels.max-connections"), "3");
	cfg_free(root);
	options_free(&o);
}

Test(options, bool_flag_followed_by_explicit_value)
{
	struct options o;
	cr_assert_eq(parse(&o, NULL, 2, "--allow-registration", "false"), 0);
	struct exposr_cfg *root = cfg_new_root();
	cr_assert_eq(options_apply(&o, root), 0);
	cr_assert_str_eq(value_at(root, "modules.api-v1.allow-registration"), "false");
	cfg_free(root);
	options_free(&o);
}

Test(options, selection_lists_enable_and_disable_modules)
{
	struct options o;
	cr_assert_eq(parse(&o, NULL, 4, "--transport", "ws", "--transport", "ssh"), 0);
	struct exposr_cfg *root = cfg_new_root();
	cr_assert_eq(options_apply(&o, root), 0);
	cr_assert_str_eq(value_at(root, "modules.transport-ws.enabled"), "true");
	cr_assert_str_eq(value_at(root, "modules.transport-ssh.enabled"), "true");
	cfg_free(root);
	options_free(&o);
	cr_assert_eq(parse(&o, NULL, 2, "--ingress", "sni"), 0);
	root = cfg_new_root();
	cr_assert_eq(options_apply(&o, root), 0);
	cr_assert_str_eq(value_at(root, "modules.ingress-http.enabled"), "false");
	cr_assert_str_eq(value_at(root, "modules.ingress-sni.enabled"), "true");
	cfg_free(root);
	options_free(&o);
}

Test(options, storage_url_and_redis_url_pick_modules)
{
	struct options o;
	cr_assert_eq(parse(&o, NULL, 2, "--storage-url", "sqlite:///var/lib/x.db"), 0);
	struct exposr_cfg *root = cfg_new_root();
	cr_assert_eq(options_apply(&o, root), 0);
	cr_assert_str_eq(value_at(root, "modules.storage-sqlite.enabled"), "true");
	cr_assert_str_eq(value_at(root, "modules.storage-sqlite.url"), "sqlite:///var/lib/x.db");
	cr_assert_str_eq(value_at(root, "modules.storage-memory.enabled"), "false");
	cfg_free(root);
	options_free(&o);

	cr_assert_eq(parse(&o, NULL, 2, "--redis-url", "redis://127.0.0.1:6379"), 0);
	root = cfg_new_root();
	cr_assert_eq(options_apply(&o, root), 0);
	cr_assert_str_eq(value_at(root, "modules.storage-redis.enabled"), "true");
	cr_assert_str_eq(value_at(root, "modules.storage-redis.url"), "redis://127.0.0.1:6379");
	cr_assert_str_eq(value_at(root, "modules.cluster-redis.enabled"), "true");
	cr_assert_str_eq(value_at(root, "modules.cluster-redis.url"), "redis://127.0.0.1:6379");
	cfg_free(root);
	options_free(&o);
}

Test(options, redis_storage_url_alone_gives_the_cluster_the_same_redis)
{
	struct options o;
	cr_assert_eq(parse(&o, NULL, 2, "--storage-url", "redis://10.0.0.9:6379/2"), 0);
	struct exposr_cfg *root = cfg_new_root();
	cr_assert_eq(options_apply(&o, root), 0);
	cr_assert_str_eq(value_at(root, "modules.storage-redis.url"), "redis://10.0.0.9:6379/2");
	cr_assert_str_eq(value_at(root, "modules.cluster-redis.enabled"), "true");
	cr_assert_str_eq(value_at(root, "modules.cluster-redis.url"), "redis://10.0.0.9:6379/2");
	cfg_free(root);
	options_free(&o);
	cr_assert_eq(parse(&o, NULL, 4, "--storage-url", "redis://a", "--cluster-redis-url",
	                   "redis://b"),
	             0);
	root = cfg_new_root();
	cr_assert_eq(options_apply(&o, root), 0);
	cr_assert_str_eq(value_at(root, "modules.cluster-redis.url"), "redis://b");
	cfg_free(root);
	options_free(&o);
}

Test(options, explicit_cluster_mode_wins_over_auto)
{
	struct options o;
	cr_assert_eq(parse(&o, NULL, 4, "--redis-url", "redis://r", "--cluster", "single-node"), 0);
	struct exposr_cfg *root = cfg_new_root();
	cr_assert_eq(options_apply(&o, root), 0);
	cr_assert_str_eq(value_at(root, "modules.cluster-redis.enabled"), "false");
	cfg_free(root);
	options_free(&o);
}

Test(options, flag_beats_environment_beats_yaml)
{
	char *path = write_temp("modules:\n  api-v1:\n    port: 7000\n    url: http://yaml\n"
	                        "  ingress-http:\n    url: http://yaml-ingress\n",
	                        ".yaml");
	setenv("EXPOSR_API_PORT", "7100", 1);
	setenv("EXPOSR_API_URL", "http://env", 1);
	struct options o;
	cr_assert_eq(parse(&o, NULL, 2, "--api-port", "7200"), 0);
	struct exposr_cfg *root = cfg_load_file(path);
	cr_assert_eq(options_apply(&o, root), 0);
	cr_assert_str_eq(value_at(root, "modules.api-v1.port"), "7200");
	cr_assert_str_eq(value_at(root, "modules.api-v1.url"), "http://env");
	cr_assert_str_eq(value_at(root, "modules.ingress-http.url"), "http://yaml-ingress");
	unsetenv("EXPOSR_API_PORT");
	unsetenv("EXPOSR_API_URL");
	cfg_free(root);
	options_free(&o);
	unlink(path);
	free(path);
}

Test(options, config_file_from_environment)
{
	setenv("EXPOSR_CONFIG", "/etc/other.yaml", 1);
	struct options o;
	cr_assert_eq(parse(&o, NULL, 0), 0);
	cr_assert_str_eq(o.config_file, "/etc/other.yaml");
	options_free(&o);
	cr_assert_eq(parse(&o, NULL, 2, "--config", "/x.yaml"), 0);
	cr_assert_str_eq(o.config_file, "/x.yaml");
	options_free(&o);
	unsetenv("EXPOSR_CONFIG");
}

Test(options, bad_environment_value_is_reported)
{
	setenv("EXPOSR_TRANSPORT_MAX_CONNECTIONS", "many", 1);
	struct options o;
	cr_assert_eq(parse(&o, NULL, 0), 0);
	struct exposr_cfg *root = cfg_new_root();
	FILE *tmp;
	int saved = capture_begin(&tmp);
	cr_assert_eq(options_apply(&o, root), -1);
	char *e = capture_end(tmp, saved);
	cr_assert_str_eq(e, "exposrd: EXPOSR_TRANSPORT_MAX_CONNECTIONS: 'many' is not a "
	                    "non-negative integer\n");
	free(e);
	unsetenv("EXPOSR_TRANSPORT_MAX_CONNECTIONS");
	cfg_free(root);
	options_free(&o);
}

struct bad_case {
	const char *args[3];
	int argc;
	const char *error;
};

Test(options, bad_command_lines_give_one_error_line)
{
	static const struct bad_case cases[] = {
	        {{"--nope"}, 1, "exposrd: unknown option '--nope' (see --help)\n"},
	        {{"-x"}, 1, "exposrd: unknown option '-x' (see --help)\n"},
	        {{"stray"}, 1, "exposrd: unexpected argument 'stray' (see --help)\n"},
	        {{"--api-port"}, 1, "exposrd: --api-port needs a value\n"},
	        {{"--api-port", "http"},
	         2,
	         "exposrd: --api-port: 'http' is not a non-negative integer\n"},
	        {{"--admin-enable=maybe"},
	         1,
	         "exposrd: --admin-enable: 'maybe' is not a boolean (true or false)\n"},
	        {{"--transport", "ws,carrier-pigeon"},
	         2,
	         "exposrd: --transport: unknown transport 'carrier-pigeon'\n"},
	        {{"--cluster", "mesh"},
	         2,
	         "exposrd: --cluster: 'mesh' is not one of auto, single-node, udp, redis\n"},
	        {{"--storage-url", "ftp://x"},
	         2,
	         "exposrd: --storage-url: unsupported storage URL 'ftp://x' (memory://, redis://, "
	         "sqlite://, postgres://)\n"},
	        {{"--log-level", "loud"},
	         2,
	         "exposrd: --log-level: unknown level 'loud' (all, trace, debug, info, warn, "
	         "error, "
	         "fatal, off)\n"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct options o;
		char *e;
		int rc = cases[i].argc == 1 ? parse(&o, &e, 1, cases[i].args[0])
		                            : parse(&o, &e, 2, cases[i].args[0], cases[i].args[1]);
		cr_assert_eq(rc, -1, "case %zu", i);
		cr_assert_str_eq(e, cases[i].error);
		free(e);
		options_free(&o);
	}
}

Test(options, help_lists_options_and_hides_hidden_ones)
{
	char *buf;
	size_t len;
	struct options o;
	cr_assert_eq(parse(&o, NULL, 0), 0);
	FILE *out = open_memstream(&buf, &len);
	options_print_help(&o, out, false);
	fclose(out);
	cr_assert(strstr(buf, "--ingress-http-url") != NULL);
	cr_assert(strstr(buf, "--redis-url") == NULL);
	free(buf);
	out = open_memstream(&buf, &len);
	options_print_help(&o, out, true);
	fclose(out);
	cr_assert(strstr(buf, "--redis-url") != NULL);
	free(buf);
	options_free(&o);
}
