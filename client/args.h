/* The command line: exposr 0.10's options, each also taken from an EXPOSR_* environment
 * variable (the option's name upper-cased, '-' as '_'), the command line winning. */
#ifndef EXPOSR_CLIENT_ARGS_H
#define EXPOSR_CLIENT_ARGS_H

#include <stdbool.h>
#include <stddef.h>

struct args {
	const char *server;  /* -s, --server */
	const char *account; /* -a, --account */
	bool non_interactive;
	bool insecure; /* do not verify the target's TLS certificate */
	int log_level;
	int max_connections; /* 0: as many as the server allows */
	bool help, version;
	int npos; /* the command and its arguments */
	char **pos;
};

/* 0, or -1 with a message. Reorders argv (options first, then the positionals). */
int args_parse(int argc, char **argv, struct args *a, char *err, size_t errlen);

/* true/1/on/yes/enable/enabled and false/0/off/no/disable/disabled, as the client: 1, 0,
 * or -1 for anything else. */
int args_bool(const char *s);

/* The --help text. */
extern const char args_usage[];

#endif
