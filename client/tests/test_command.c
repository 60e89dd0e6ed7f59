/* Command words and the PATCH bodies of the settings. */
#include <criterion/criterion.h>

#include "command.h"
#include "connect.h"

/* A NULL-terminated list of words, and how many. */
#define WORDS(...) ((char *[]){__VA_ARGS__, NULL})

static int count(char **w)
{
	int n = 0;
	while (w[n] != NULL)
		n++;
	return n;
}

static struct command c;

static void cleanup(void)
{
	command_free(&c);
}

TestSuite(command, .fini = cleanup);

Test(command, connect_with_id_and_target)
{
	char **w = WORDS("tunnel", "connect", "demo", "http://localhost:3000");
	char err[256] = "";
	cr_assert_eq(command_parse(count(w), w, &c, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(c.kind, CMD_TUNNEL_CONNECT);
	cr_assert_str_eq(c.id, "demo");
	cr_assert_str_eq(c.target, "http://localhost:3000/");
	cr_assert_eq(c.nsettings, 0);
}

Test(command, connect_target_only_and_settings)
{
	char **w = WORDS("tunnel", "connect", "http://localhost:3000", "ingress-http", "off");
	char err[256] = "";
	cr_assert_eq(command_parse(count(w), w, &c, err, sizeof(err)), 0, "%s", err);
	cr_assert_null(c.id);
	cr_assert_str_eq(c.target, "http://localhost:3000/");
	cr_assert_eq(c.nsettings, 1);
	cr_assert_eq(command_find(&c, "ingress-http"), 0);
	cr_assert_str_eq(c.settings[0].body, "{\"ingress\":{\"http\":{\"enabled\":false}}}");
}

Test(command, connect_nothing_or_id_only)
{
	char **w = WORDS("tunnel", "connect");
	char err[256] = "";
	cr_assert_eq(command_parse(count(w), w, &c, err, sizeof(err)), 0, "%s", err);
	cr_assert_null(c.id);
	cr_assert_null(c.target);
	command_free(&c);
	char **w2 = WORDS("tunnel", "connect", "demo");
	cr_assert_eq(command_parse(count(w2), w2, &c, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(c.id, "demo");
}

Test(command, configure_every_setting)
{
	char **w = WORDS("tunnel", "configure", "demo", "set", "target-url", "tcp://db:5432",
	                 "ingress-http", "yes", "ingress-http-altnames", "a.example,b.example",
	                 "transport-ws", "1", "ingress-sni", "disabled", "transport-ssh", "on");
	char err[256] = "";
	cr_assert_eq(command_parse(count(w), w, &c, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(c.kind, CMD_TUNNEL_CONFIGURE);
	cr_assert_eq(c.nsettings, 6);
	const char *want[] = {
	        "{\"target\":{\"url\":\"tcp://db:5432\"}}",
	        "{\"ingress\":{\"http\":{\"enabled\":true}}}",
	        "{\"ingress\":{\"http\":{\"alt_names\":[\"a.example\",\"b.example\"]}}}",
	        "{\"transport\":{\"ws\":{\"enabled\":true}}}",
	        "{\"ingress\":{\"sni\":{\"enabled\":false}}}",
	        "{\"transport\":{\"ssh\":{\"enabled\":true}}}",
	};
	for (int i = 0; i < 6; i++)
		cr_assert_str_eq(c.settings[i].body, want[i]);
}

Test(command, the_other_tunnel_commands)
{
	const char *words[] = {"info", "disconnect", "delete"};
	enum command_kind kinds[] = {CMD_TUNNEL_INFO, CMD_TUNNEL_DISCONNECT, CMD_TUNNEL_DELETE};
	for (int i = 0; i < 3; i++) {
		char *w[] = {"tunnel", (char *)words[i], "demo", NULL};
		char err[256] = "";
		cr_assert_eq(command_parse(3, w, &c, err, sizeof(err)), 0, "%s", err);
		cr_assert_eq(c.kind, kinds[i]);
		cr_assert_str_eq(c.id, "demo");
		command_free(&c);
	}
	char **create = WORDS("tunnel", "create");
	char err[256] = "";
	cr_assert_eq(command_parse(count(create), create, &c, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(c.kind, CMD_TUNNEL_CREATE);
	cr_assert_null(c.id);
	command_free(&c);
	char **account = WORDS("account", "create");
	cr_assert_eq(command_parse(count(account), account, &c, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(c.kind, CMD_ACCOUNT_CREATE);
}

Test(command, errors_say_what_is_wrong)
{
	struct {
		char *words[6];
		const char *err;
	} cases[] = {
	        {{NULL}, "no command given (exposr --help lists them)"},
	        {{"frob"}, "unknown command \"frob\" (account, tunnel)"},
	        {{"account", "delete"}, "unknown command \"account delete\" (account create)"},
	        {{"tunnel", "open"},
	         "unknown command \"tunnel open\" (create, configure, connect, info, disconnect, "
	         "delete)"},
	        {{"tunnel", "info"}, "tunnel info: a tunnel id is needed"},
	        {{"tunnel", "info", "a", "b"}, "tunnel info: unexpected \"b\""},
	        {{"tunnel", "configure", "demo"},
	         "tunnel configure: nothing to set (OPTION VALUE)"},
	        {{"tunnel", "configure", "demo", "ingress-http"},
	         "option \"ingress-http\" needs a value"},
	        {{"tunnel", "configure", "demo", "ingress-http", "maybe"},
	         "ingress-http: \"maybe\" is not true or false"},
	        {{"tunnel", "configure", "demo", "colour", "red"},
	         "unknown option \"colour\" (target-url, ingress-http, ingress-http-altnames, "
	         "ingress-sni, transport-ws, transport-ssh)"},
	        {{"tunnel", "connect", "demo", "ftp://x"}, "unsupported URL scheme: ftp://x"},
	        {{"tunnel", "info", "../account"}, "\"../account\" is not a tunnel id"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int n = 0;
		while (cases[i].words[n] != NULL)
			n++;
		char err[256] = "";
		cr_assert_eq(command_parse(n, cases[i].words, &c, err, sizeof(err)), -1, "case %zu",
		             i);
		cr_assert_str_eq(err, cases[i].err);
		command_free(&c);
	}
}

Test(command, backoff_grows_to_five_seconds)
{
	double d = CONNECT_BACKOFF_FIRST_MS;
	d = connect_next_backoff(d, 0.0);
	cr_assert_float_eq(d, 1100.0, 0.001);
	cr_assert_float_eq(connect_next_backoff(1000.0, 0.999999), 1150.0, 0.01);
	int steps = 0;
	for (d = CONNECT_BACKOFF_FIRST_MS; d < CONNECT_BACKOFF_MAX_MS; steps++)
		d = connect_next_backoff(d, 0.5);
	cr_assert_float_eq(d, CONNECT_BACKOFF_MAX_MS, 0.001);
	cr_assert_eq(connect_next_backoff(d, 0.9), CONNECT_BACKOFF_MAX_MS);
	cr_assert(steps > 10 && steps < 20, "%d steps", steps);
}
