/* The command words after the options: which command, its tunnel id and target, and the
 * settings it applies, each turned into the PATCH body the exposr client sends (one PATCH
 * per setting, docs/api.md §2.5). */
#ifndef EXPOSR_CLIENT_COMMAND_H
#define EXPOSR_CLIENT_COMMAND_H

#include <stddef.h>

enum command_kind {
	CMD_ACCOUNT_CREATE,
	CMD_TUNNEL_CREATE,
	CMD_TUNNEL_CONFIGURE,
	CMD_TUNNEL_CONNECT,
	CMD_TUNNEL_INFO,
	CMD_TUNNEL_DISCONNECT,
	CMD_TUNNEL_DELETE,
};

#define COMMAND_MAX_SETTINGS 16

struct setting {
	const char *name; /* "target-url", "ingress-http", ... */
	char *body;       /* the PATCH body (JSON), owned */
};

struct command {
	enum command_kind kind;
	const char *id; /* NULL: none given */
	char *target;   /* tunnel connect's target, serialised; NULL: none */
	struct setting settings[COMMAND_MAX_SETTINGS];
	int nsettings;
};

/* 0, or -1 with a message; command_free() in both cases. */
int command_parse(int argc, char **argv, struct command *c, char *err, size_t errlen);
void command_free(struct command *c);

/* The index of the setting called `name`, or -1. */
int command_find(const struct command *c, const char *name);

/* Builds the PATCH body of one setting. NULL, with a message, for an unknown option or a
 * bad value. */
char *command_setting_body(const char *name, const char *value, char *err, size_t errlen);

#endif
