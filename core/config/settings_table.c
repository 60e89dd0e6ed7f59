/* Settings tables: a subtree checked and read against its table, the way nginx and h2o
 * read their directives from command tables. The values themselves are read through
 * the configuration API, so every error names the value's own origin. */
#include "settings_table.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cfg.h"
#include "log.h"

enum key_kind { KEY_UNKNOWN, KEY_SETTING, KEY_SECTION };

/* A table key is `path` itself, or `path` is a section holding some of them. */
static enum key_kind key_kind(const struct exposr_setting *table, const char *path)
{
	size_t len = strlen(path);
	enum key_kind kind = KEY_UNKNOWN;
	for (const struct exposr_setting *s = table; s != NULL && s->key != NULL; s++) {
		if (strcmp(s->key, path) == 0)
			return KEY_SETTING;
		if (strncmp(s->key, path, len) == 0 && s->key[len] == '.')
			kind = KEY_SECTION;
	}
	return kind;
}

static int check_keys(const struct exposr_cfg *n, const char *prefix,
                      const struct exposr_setting *table, const char *extra)
{
	if (n == NULL)
		return EXPOSR_OK;
	if (cfg_api.type(n) != EXPOSR_CFG_MAPPING) {
		cfg_api.error(n, NULL, "must be a mapping");
		return EXPOSR_ERROR;
	}
	for (size_t i = 0; i < cfg_count(n); i++) {
		const char *key;
		const struct exposr_cfg *c = cfg_at(n, i, &key);
		if (prefix[0] == '\0' && extra != NULL && strcmp(key, extra) == 0)
			continue;
		char path[256];
		snprintf(path, sizeof(path), "%s%s%s", prefix, prefix[0] != '\0' ? "." : "", key);
		enum key_kind kind = key_kind(table, path);
		if (kind == KEY_UNKNOWN) {
			cfg_api.error(c, NULL, "unknown key");
			return EXPOSR_ERROR;
		}
		if (kind == KEY_SECTION && check_keys(c, path, table, NULL) != EXPOSR_OK)
			return EXPOSR_ERROR;
	}
	return EXPOSR_OK;
}

/* The mapping that holds a dotted key's last part (NULL when a section is absent). */
static const struct exposr_cfg *parent_of(const struct exposr_cfg *node, const char *key,
                                          const char **leaf)
{
	const char *dot;
	while (node != NULL && (dot = strchr(key, '.')) != NULL) {
		char section[128];
		snprintf(section, sizeof(section), "%.*s", (int)(dot - key), key);
		node = cfg_api.child(node, section);
		key = dot + 1;
	}
	*leaf = key;
	return node;
}

static void join_choices(const char *const *choices, char *out, size_t size)
{
	size_t n = 0;
	out[0] = '\0';
	for (size_t i = 0; choices[i] != NULL && n < size; i++)
		n += (size_t)snprintf(out + n, size - n, "%s%s", i > 0 ? ", " : "", choices[i]);
}

static bool is_choice(const struct exposr_setting *s, const char *v)
{
	for (size_t i = 0; s->choices[i] != NULL; i++)
		if (strcmp(s->choices[i], v) == 0)
			return true;
	return false;
}

/* "unknown level 'loud' (all, trace, ...)": the value name says what was expected. */
static void choice_reason(const struct exposr_setting *s, const char *v, char *out, size_t size)
{
	char what[32], list[256];
	const char *name = s->value_name != NULL ? s->value_name : "value";
	size_t i = 0;
	for (; name[i] != '\0' && i + 1 < sizeof(what); i++)
		what[i] = (char)tolower((unsigned char)name[i]);
	what[i] = '\0';
	join_choices(s->choices, list, sizeof(list));
	snprintf(out, size, "unknown %s '%s' (%s)", what, v, list);
}

static void missing(const struct exposr_cfg *parent, const char *leaf, const char *where,
                    const struct exposr_setting *s)
{
	char set[160];
	if (s->flag != NULL)
		snprintf(set, sizeof(set), " or --%s", s->flag);
	else
		set[0] = '\0';
	if (parent != NULL) {
		const char *path = cfg_api.path(parent);
		cfg_api.error(parent, leaf, "required: %s (set %s%s%s%s)", s->help, path,
		              path[0] != '\0' ? "." : "", leaf, set);
		return;
	}
	log_note_error();
	fprintf(stderr, "exposrd: %s.%s: required: %s (set it%s)\n", where, s->key, s->help, set);
}

static int read_one(const struct exposr_cfg *node, const char *where,
                    const struct exposr_setting *s, void *out)
{
	/* A module declares `enabled` only to give it a flag: the loader reads it. */
	if (strcmp(s->key, "enabled") == 0)
		return EXPOSR_OK;
	const char *leaf;
	const struct exposr_cfg *parent = parent_of(node, s->key, &leaf);
	if ((s->flags & EXPOSR_SETTING_REQUIRED) != 0 && cfg_api.child(parent, leaf) == NULL) {
		missing(parent, leaf, where, s);
		return EXPOSR_ERROR;
	}
	char *slot = out != NULL ? (char *)out + s->offset : NULL;
	switch (s->type) {
	case EXPOSR_SETTING_INT: {
		long v;
		long def = s->def != NULL ? strtol(s->def, NULL, 10) : 0;
		if (cfg_api.get_int(parent, leaf, def, s->min, s->max, &v) != EXPOSR_OK)
			return EXPOSR_ERROR;
		if (slot != NULL)
			memcpy(slot, &v, sizeof(v));
		return EXPOSR_OK;
	}
	case EXPOSR_SETTING_BOOL: {
		bool v, def = s->def != NULL && strcmp(s->def, "true") == 0;
		if (cfg_api.get_bool(parent, leaf, def, &v) != EXPOSR_OK)
			return EXPOSR_ERROR;
		if (slot != NULL)
			memcpy(slot, &v, sizeof(v));
		return EXPOSR_OK;
	}
	case EXPOSR_SETTING_LIST: {
		struct exposr_setting_list v;
		if (cfg_api.get_string_list(parent, leaf, &v.items, &v.count) != EXPOSR_OK)
			return EXPOSR_ERROR;
		if (slot != NULL)
			memcpy(slot, &v, sizeof(v));
		return EXPOSR_OK;
	}
	case EXPOSR_SETTING_STRING:
	case EXPOSR_SETTING_CHOICE: {
		const char *v;
		if (cfg_api.get_string(parent, leaf, s->def, &v) != EXPOSR_OK)
			return EXPOSR_ERROR;
		if (s->type == EXPOSR_SETTING_CHOICE && v != NULL && !is_choice(s, v)) {
			char reason[320];
			choice_reason(s, v, reason, sizeof(reason));
			cfg_api.error(parent, leaf, "%s", reason);
			return EXPOSR_ERROR;
		}
		if (slot != NULL)
			memcpy(slot, &v, sizeof(v));
		return EXPOSR_OK;
	}
	}
	return EXPOSR_ERROR;
}

int settings_read(const struct exposr_cfg *node, const char *where,
                  const struct exposr_setting *table, const char *extra, void *out)
{
	if (check_keys(node, "", table, extra) != EXPOSR_OK)
		return EXPOSR_ERROR;
	for (const struct exposr_setting *s = table; s != NULL && s->key != NULL; s++)
		if (read_one(node, where, s, out) != EXPOSR_OK)
			return EXPOSR_ERROR;
	return EXPOSR_OK;
}

int settings_read_module(const struct exposr_cfg *node, const struct exposr_setting *table,
                         void *out)
{
	return settings_read(node, "(module)", table, "enabled", out);
}

static int check_int(const struct exposr_setting *s, const char *v, char *why, size_t size)
{
	char *end;
	errno = 0;
	long n = strtol(v, &end, 10);
	if (v[0] == '\0' || *end != '\0' || errno != 0 || (n < 0 && s->min >= 0)) {
		snprintf(why, size, "'%s' is not a%s integer", v,
		         s->min >= 0 ? " non-negative" : "n");
		return EXPOSR_ERROR;
	}
	if (n < s->min || n > s->max) {
		snprintf(why, size, "%ld is out of range (%ld to %ld)", n, s->min, s->max);
		return EXPOSR_ERROR;
	}
	return EXPOSR_OK;
}

int settings_check_text(const struct exposr_setting *s, const char *source, const char *value)
{
	char why[384];
	int rc = EXPOSR_OK;
	if (s->type == EXPOSR_SETTING_INT) {
		rc = check_int(s, value, why, sizeof(why));
	} else if (s->type == EXPOSR_SETTING_BOOL && strcasecmp(value, "true") != 0 &&
	           strcasecmp(value, "false") != 0) {
		snprintf(why, sizeof(why), "'%s' is not a boolean (true or false)", value);
		rc = EXPOSR_ERROR;
	} else if (s->type == EXPOSR_SETTING_CHOICE && !is_choice(s, value)) {
		choice_reason(s, value, why, sizeof(why));
		rc = EXPOSR_ERROR;
	}
	if (rc != EXPOSR_OK)
		fprintf(stderr, "exposrd: %s: %s\n", source, why);
	return rc;
}

const char *settings_value_name(const struct exposr_setting *s)
{
	if (s->value_name != NULL && s->type != EXPOSR_SETTING_BOOL)
		return s->value_name;
	switch (s->type) {
	case EXPOSR_SETTING_INT:
		return "N";
	case EXPOSR_SETTING_BOOL:
		return "[true|false]";
	case EXPOSR_SETTING_LIST:
		return "LIST";
	default:
		return "VALUE";
	}
}

const char *settings_default_text(const struct exposr_setting *s)
{
	return s->def_help != NULL ? s->def_help : s->def;
}

void settings_env_name(const char *flag, char *out, size_t size)
{
	size_t n = (size_t)snprintf(out, size, "EXPOSR_");
	for (const char *p = flag; *p != '\0' && n + 1 < size; p++)
		out[n++] = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
	out[n] = '\0';
}
