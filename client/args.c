/* Options and environment (see args.h). */
#include "args.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "client_log.h"

const char args_usage[] =
        "Usage: exposr [options] <command>\n"
        "\n"
        "Commands:\n"
        "  account create                      register an account, print its number\n"
        "  tunnel create [ID] [OPTION VALUE]...  create a tunnel (a random id without ID)\n"
        "  tunnel configure ID [set] OPTION VALUE [OPTION VALUE]...\n"
        "                                      change a tunnel: target-url URL,\n"
        "                                      ingress-http BOOL, ingress-http-altnames A,B,\n"
        "                                      ingress-sni BOOL, transport-ws BOOL,\n"
        "                                      transport-ssh BOOL\n"
        "  tunnel connect [ID] [TARGET-URL] [OPTION VALUE]...\n"
        "                                      create the account and tunnel as needed,\n"
        "                                      set the target, and carry its traffic\n"
        "  tunnel info ID                      show a tunnel\n"
        "  tunnel disconnect ID                disconnect a tunnel's clients\n"
        "  tunnel delete ID                    delete a tunnel\n"
        "\n"
        "Options (each also as EXPOSR_<NAME>, e.g. EXPOSR_SERVER):\n"
        "  -s, --server URL                    exposr server (default http://localhost:8080)\n"
        "  -a, --account ACCOUNT               account number (tunnel connect registers one\n"
        "                                      when none is given)\n"
        "      --non-interactive               plain log lines, no status line\n"
        "      --log-level LEVEL               all, trace, debug, info, warn, error, fatal,\n"
        "                                      off (default info)\n"
        "      --transport-max-connections N   at most N websockets (default: the server's\n"
        "                                      limit)\n"
        "      --insecure                      do not verify https/tls targets' certificates\n"
        "  -v, --version                       print the version\n"
        "  -h, --help                          this text\n"
        "\n"
        "Target URLs: http://, https://, tcp://HOST:PORT, tls://HOST:PORT.\n";

enum {
	OPT_NON_INTERACTIVE = 256,
	OPT_LOG_LEVEL,
	OPT_MAX_CONNECTIONS,
	OPT_INSECURE,
};

static const struct option options[] = {
        {"server", required_argument, NULL, 's'},
        {"account", required_argument, NULL, 'a'},
        {"non-interactive", no_argument, NULL, OPT_NON_INTERACTIVE},
        {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
        {"transport-max-connections", required_argument, NULL, OPT_MAX_CONNECTIONS},
        {"insecure", no_argument, NULL, OPT_INSECURE},
        {"version", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
};

int args_bool(const char *s)
{
	static const char *const yes[] = {"true", "1", "on", "yes", "enable", "enabled"};
	static const char *const no[] = {"false", "0", "off", "no", "disable", "disabled"};
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(s, yes[i]) == 0)
			return 1;
		if (strcasecmp(s, no[i]) == 0)
			return 0;
	}
	return -1;
}

static int set(struct args *a, int opt, const char *value, const char *name, char *err,
               size_t errlen)
{
	char *end;
	int b;
	switch (opt) {
	case 's':
		a->server = value;
		return 0;
	case 'a':
		a->account = value;
		return 0;
	case OPT_LOG_LEVEL:
		a->log_level = log_level_parse(value);
		if (a->log_level >= 0)
			return 0;
		snprintf(err, errlen,
		         "%s: \"%s\" is not a log level (all, trace, debug, info, warn, error, "
		         "fatal, off)",
		         name, value);
		return -1;
	case OPT_MAX_CONNECTIONS: {
		long n = strtol(value, &end, 10);
		if (*value == '\0' || *end != '\0' || n < 1 || n > 1024) {
			snprintf(err, errlen, "%s: \"%s\" is not a number from 1 to 1024", name,
			         value);
			return -1;
		}
		a->max_connections = (int)n;
		return 0;
	}
	case OPT_NON_INTERACTIVE:
	case OPT_INSECURE:
		/* Flags: an environment variable says true or false. */
		b = value != NULL ? args_bool(value) : 1;
		if (b < 0) {
			snprintf(err, errlen, "%s: \"%s\" is not true or false", name, value);
			return -1;
		}
		if (opt == OPT_NON_INTERACTIVE)
			a->non_interactive = b;
		else
			a->insecure = b;
		return 0;
	default:
		return 0;
	}
}

static const char *option_name(int val)
{
	static char name[48];
	for (const struct option *o = options; o->name != NULL; o++)
		if (o->val == val)
			snprintf(name, sizeof(name), "--%s", o->name);
	return name;
}

static int from_environment(struct args *a, char *err, size_t errlen)
{
	for (const struct option *o = options; o->name != NULL; o++) {
		if (o->val == 'v' || o->val == 'h')
			continue;
		char env[64] = "EXPOSR_";
		size_t n = strlen(env);
		for (const char *p = o->name; *p && n + 1 < sizeof(env); p++)
			env[n++] = *p == '-' ? '_' : (char)(*p - 'a' + 'A');
		env[n] = '\0';
		const char *value = getenv(env);
		if (value != NULL && set(a, o->val, value, env, err, errlen) != 0)
			return -1;
	}
	return 0;
}

int args_parse(int argc, char **argv, struct args *a, char *err, size_t errlen)
{
	memset(a, 0, sizeof(*a));
	a->log_level = LOG_INFO;
	a->server = "http://localhost:8080";
	if (from_environment(a, err, errlen) != 0)
		return -1;
	optind = 0; /* a full reset: args_parse may run more than once (tests) */
	opterr = 0;
	int opt, index;
	while ((opt = getopt_long(argc, argv, "s:a:vh", options, &index)) != -1) {
		if (opt == '?') {
			if (optopt != 0)
				snprintf(err, errlen, "unknown option or missing value: -%c",
				         optopt);
			else
				snprintf(err, errlen, "unknown option or missing value: %s",
				         argv[optind - 1]);
			return -1;
		}
		if (opt == 'v')
			a->version = true;
		else if (opt == 'h')
			a->help = true;
		else if (set(a, opt, optarg, option_name(opt), err, errlen) != 0)
			return -1;
	}
	a->npos = argc - optind;
	a->pos = argv + optind;
	return 0;
}
