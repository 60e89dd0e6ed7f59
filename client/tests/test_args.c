/* The command line and the EXPOSR_* environment. */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "args.h"
#include "client_log.h"

#define ARGV(...) ((char *[]){"exposr", __VA_ARGS__, NULL})

static int parse(int argc, char **argv, struct args *a, char *err)
{
	return args_parse(argc, argv, a, err, 256);
}

static void clear_env(void)
{
	unsetenv("EXPOSR_SERVER");
	unsetenv("EXPOSR_ACCOUNT");
	unsetenv("EXPOSR_NON_INTERACTIVE");
	unsetenv("EXPOSR_LOG_LEVEL");
	unsetenv("EXPOSR_TRANSPORT_MAX_CONNECTIONS");
	unsetenv("EXPOSR_INSECURE");
}

TestSuite(args, .init = clear_env);

Test(args, the_0_10_command_line)
{
	char **argv = ARGV("-s", "http://h:8080", "-a", "ABCD-EFGH", "--non-interactive", "tunnel",
	                   "connect", "demo", "http://localhost:3000",
	                   "--transport-max-connections", "1", "--log-level", "debug");
	struct args a;
	char err[256] = "";
	cr_assert_eq(parse(14, argv, &a, err), 0, "%s", err);
	cr_assert_str_eq(a.server, "http://h:8080");
	cr_assert_str_eq(a.account, "ABCD-EFGH");
	cr_assert(a.non_interactive);
	cr_assert_eq(a.max_connections, 1);
	cr_assert_eq(a.log_level, LOG_DEBUG);
	cr_assert_eq(a.npos, 4);
	cr_assert_str_eq(a.pos[0], "tunnel");
	cr_assert_str_eq(a.pos[3], "http://localhost:3000");
}

Test(args, defaults)
{
	char **argv = ARGV("account", "create");
	struct args a;
	char err[256];
	cr_assert_eq(parse(3, argv, &a, err), 0);
	cr_assert_str_eq(a.server, "http://localhost:8080");
	cr_assert_null(a.account);
	cr_assert_not(a.non_interactive);
	cr_assert_eq(a.log_level, LOG_INFO);
	cr_assert_eq(a.max_connections, 0);
}

Test(args, environment_and_command_line_wins)
{
	setenv("EXPOSR_SERVER", "http://env:1", 1);
	setenv("EXPOSR_ACCOUNT", "ENVACCOUNT", 1);
	setenv("EXPOSR_NON_INTERACTIVE", "true", 1);
	setenv("EXPOSR_LOG_LEVEL", "warn", 1);
	setenv("EXPOSR_TRANSPORT_MAX_CONNECTIONS", "3", 1);
	char **argv = ARGV("-s", "http://cli:2", "tunnel", "info", "x");
	struct args a;
	char err[256] = "";
	cr_assert_eq(parse(6, argv, &a, err), 0, "%s", err);
	cr_assert_str_eq(a.server, "http://cli:2");
	cr_assert_str_eq(a.account, "ENVACCOUNT");
	cr_assert(a.non_interactive);
	cr_assert_eq(a.log_level, LOG_WARN);
	cr_assert_eq(a.max_connections, 3);
}

Test(args, bad_values_say_which)
{
	struct args a;
	char err[256];
	char **level = ARGV("--log-level", "loud", "account", "create");
	cr_assert_eq(parse(5, level, &a, err), -1);
	cr_assert_str_eq(err, "--log-level: \"loud\" is not a log level (all, trace, debug, info, "
	                      "warn, error, fatal, off)");
	char **max = ARGV("--transport-max-connections", "0", "account", "create");
	cr_assert_eq(parse(5, max, &a, err), -1);
	cr_assert_str_eq(err, "--transport-max-connections: \"0\" is not a number from 1 to 1024");
	char **unknown = ARGV("--frobnicate", "account", "create");
	cr_assert_eq(parse(4, unknown, &a, err), -1);
	cr_assert_str_eq(err, "unknown option or missing value: --frobnicate");
	char **missing = ARGV("account", "create", "-s");
	cr_assert_eq(parse(4, missing, &a, err), -1);
	cr_assert_str_eq(err, "unknown option or missing value: -s");
	setenv("EXPOSR_INSECURE", "maybe", 1);
	char **env = ARGV("account", "create");
	cr_assert_eq(parse(3, env, &a, err), -1);
	cr_assert_str_eq(err, "EXPOSR_INSECURE: \"maybe\" is not true or false");
}

Test(args, booleans_as_the_client_reads_them)
{
	const char *yes[] = {"true", "1", "on", "yes", "enable", "enabled", "TRUE"};
	const char *no[] = {"false", "0", "off", "no", "disable", "disabled", "Off"};
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		cr_assert_eq(args_bool(yes[i]), 1, "%s", yes[i]);
		cr_assert_eq(args_bool(no[i]), 0, "%s", no[i]);
	}
	cr_assert_eq(args_bool("2"), -1);
	cr_assert_eq(args_bool(""), -1);
}

Test(args, help_and_version)
{
	struct args a;
	char err[256];
	char **argv = ARGV("--help", "--version");
	cr_assert_eq(parse(3, argv, &a, err), 0);
	cr_assert(a.help);
	cr_assert(a.version);
	cr_assert_eq(a.npos, 0);
}
