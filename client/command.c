/* Command words (see command.h). */
#include "command.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "args.h"
#include "client_url.h"

/* {"a":{"b":{"c":value}}} for the path "a.b.c"; takes `value`. */
static char *nested(const char *path, cJSON *value)
{
	char keys[3][16];
	int n = sscanf(path, "%15[^.].%15[^.].%15s", keys[0], keys[1], keys[2]);
	cJSON *root = cJSON_CreateObject(), *at = root;
	for (int i = 0; i < n - 1 && at != NULL; i++)
		at = cJSON_AddObjectToObject(at, keys[i]);
	char *body = NULL;
	if (at != NULL && cJSON_AddItemToObject(at, keys[n - 1], value))
		value = NULL;
	if (value == NULL)
		body = cJSON_PrintUnformatted(root);
	cJSON_Delete(value);
	cJSON_Delete(root);
	return body;
}

static const struct {
	const char *name, *path;
} bool_settings[] = {
        {"ingress-http", "ingress.http.enabled"},
        {"ingress-sni", "ingress.sni.enabled"},
        {"transport-ws", "transport.ws.enabled"},
        {"transport-ssh", "transport.ssh.enabled"},
};

static cJSON *altnames(const char *value)
{
	cJSON *list = cJSON_CreateArray();
	const char *p = value;
	while (list != NULL && *p != '\0') {
		size_t n = strcspn(p, ",");
		char name[256];
		if (n > 0 && n < sizeof(name)) {
			memcpy(name, p, n);
			name[n] = '\0';
			cJSON *item = cJSON_CreateString(name);
			if (item == NULL || !cJSON_AddItemToArray(list, item)) {
				cJSON_Delete(item);
				cJSON_Delete(list);
				return NULL;
			}
		}
		p += n;
		if (*p == ',')
			p++;
	}
	return list;
}

char *command_setting_body(const char *name, const char *value, char *err, size_t errlen)
{
	if (strcmp(name, "target-url") == 0) {
		char url[2048];
		if (client_url_target(value, url, sizeof(url), err, errlen) != 0)
			return NULL;
		return nested("target.url", cJSON_CreateString(url));
	}
	if (strcmp(name, "ingress-http-altnames") == 0)
		return nested("ingress.http.alt_names", altnames(value));
	for (size_t i = 0; i < sizeof(bool_settings) / sizeof(bool_settings[0]); i++) {
		if (strcmp(name, bool_settings[i].name) != 0)
			continue;
		int b = args_bool(value);
		if (b < 0) {
			snprintf(err, errlen, "%s: \"%s\" is not true or false", name, value);
			return NULL;
		}
		return nested(bool_settings[i].path, cJSON_CreateBool(b));
	}
	snprintf(err, errlen,
	         "unknown option \"%s\" (target-url, ingress-http, ingress-http-altnames, "
	         "ingress-sni, transport-ws, transport-ssh)",
	         name);
	return NULL;
}

int command_find(const struct command *c, const char *name)
{
	for (int i = 0; i < c->nsettings; i++)
		if (strcmp(c->settings[i].name, name) == 0)
			return i;
	return -1;
}

static int parse_settings(int argc, char **argv, struct command *c, char *err, size_t errlen)
{
	for (int i = 0; i < argc; i += 2) {
		if (i + 1 >= argc) {
			snprintf(err, errlen, "option \"%s\" needs a value", argv[i]);
			return -1;
		}
		if (c->nsettings == COMMAND_MAX_SETTINGS) {
			snprintf(err, errlen, "at most %d options", COMMAND_MAX_SETTINGS);
			return -1;
		}
		char *body = command_setting_body(argv[i], argv[i + 1], err, errlen);
		if (body == NULL)
			return -1;
		c->settings[c->nsettings].name = argv[i];
		c->settings[c->nsettings++].body = body;
	}
	return 0;
}

#define ID_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-"

static bool is_url(const char *s)
{
	return strstr(s, "://") != NULL;
}

static int parse_tunnel(int argc, char **argv, struct command *c, char *err, size_t errlen)
{
	static const struct {
		const char *word;
		enum command_kind kind;
		bool needs_id;
	} words[] = {
	        {"create", CMD_TUNNEL_CREATE, false},
	        {"configure", CMD_TUNNEL_CONFIGURE, true},
	        {"connect", CMD_TUNNEL_CONNECT, false},
	        {"info", CMD_TUNNEL_INFO, true},
	        {"disconnect", CMD_TUNNEL_DISCONNECT, true},
	        {"delete", CMD_TUNNEL_DELETE, true},
	};
	size_t w = 0;
	while (w < sizeof(words) / sizeof(words[0]) && (argc < 1 || strcmp(argv[0], words[w].word)))
		w++;
	if (w == sizeof(words) / sizeof(words[0])) {
		snprintf(err, errlen,
		         "unknown command \"tunnel %s\" (create, configure, connect, "
		         "info, disconnect, delete)",
		         argc > 0 ? argv[0] : "");
		return -1;
	}
	c->kind = words[w].kind;
	argc--;
	argv++;
	/* Where the id is optional, settings come in pairs: an odd word out, or one before a
	 * URL, is the id. */
	bool id_first = argc > 0 && !is_url(argv[0]);
	if (id_first && !words[w].needs_id)
		id_first = argc % 2 == 1 || (argc >= 2 && is_url(argv[1]));
	if (id_first) {
		c->id = argv[0];
		argc--;
		argv++;
	}
	/* The server checks the id; here only that it cannot change the API path. */
	if (c->id != NULL && (c->id[0] == '\0' || strspn(c->id, ID_CHARS) != strlen(c->id))) {
		snprintf(err, errlen, "\"%s\" is not a tunnel id", c->id);
		return -1;
	}
	if (c->id == NULL && words[w].needs_id) {
		snprintf(err, errlen, "tunnel %s: a tunnel id is needed", words[w].word);
		return -1;
	}
	if (c->kind == CMD_TUNNEL_CONNECT && argc > 0 && is_url(argv[0])) {
		char url[2048];
		if (client_url_target(argv[0], url, sizeof(url), err, errlen) != 0 ||
		    (c->target = strdup(url)) == NULL)
			return -1;
		argc--;
		argv++;
	}
	if (c->kind == CMD_TUNNEL_CONFIGURE && argc > 0 && strcmp(argv[0], "set") == 0) {
		argc--;
		argv++;
	}
	bool takes_settings = c->kind == CMD_TUNNEL_CREATE || c->kind == CMD_TUNNEL_CONFIGURE ||
	                      c->kind == CMD_TUNNEL_CONNECT;
	if (!takes_settings && argc > 0) {
		snprintf(err, errlen, "tunnel %s: unexpected \"%s\"", words[w].word, argv[0]);
		return -1;
	}
	if (c->kind == CMD_TUNNEL_CONFIGURE && argc == 0) {
		snprintf(err, errlen, "tunnel configure: nothing to set (OPTION VALUE)");
		return -1;
	}
	return parse_settings(argc, argv, c, err, errlen);
}

int command_parse(int argc, char **argv, struct command *c, char *err, size_t errlen)
{
	memset(c, 0, sizeof(*c));
	if (argc == 0) {
		snprintf(err, errlen, "no command given (exposr --help lists them)");
		return -1;
	}
	if (strcmp(argv[0], "account") == 0) {
		if (argc == 2 && strcmp(argv[1], "create") == 0) {
			c->kind = CMD_ACCOUNT_CREATE;
			return 0;
		}
		snprintf(err, errlen, "unknown command \"account%s%s\" (account create)",
		         argc > 1 ? " " : "", argc > 1 ? argv[1] : "");
		return -1;
	}
	if (strcmp(argv[0], "tunnel") == 0)
		return parse_tunnel(argc - 1, argv + 1, c, err, errlen);
	snprintf(err, errlen, "unknown command \"%s\" (account, tunnel)", argv[0]);
	return -1;
}

void command_free(struct command *c)
{
	for (int i = 0; i < c->nsettings; i++)
		free(c->settings[i].body);
	free(c->target);
	memset(c, 0, sizeof(*c));
}
