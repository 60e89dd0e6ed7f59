/* A module's settings, declared once in a table its descriptor carries (ABI 2.0). From
 * the tables of the modules present the core validates every value, maps exposrd 0.12's
 * flags and EXPOSR_* variables onto them, and builds --help (docs/configuration.md §9.1). */
#ifndef EXPOSR_SETTINGS_H
#define EXPOSR_SETTINGS_H

#include "common.h"

enum exposr_setting_type {
	EXPOSR_SETTING_STRING = 1, /* const char *, owned by the configuration tree */
	EXPOSR_SETTING_INT,        /* long, within [min, max] */
	EXPOSR_SETTING_BOOL,       /* bool */
	EXPOSR_SETTING_CHOICE,     /* const char *, one of `choices` */
	EXPOSR_SETTING_LIST,       /* struct exposr_setting_list; a sequence or a comma list */
};

/* A YAML sequence, or a scalar holding a comma-separated list; owned by the tree. */
struct exposr_setting_list {
	const char *const *items;
	size_t count;
};

#define EXPOSR_SETTING_HIDDEN   0x1u /* its flag is listed only by --help --show-hidden */
#define EXPOSR_SETTING_REQUIRED 0x2u /* no default: exposrd does not start without it */

/* One setting. A table ends with an entry whose `key` is NULL. */
struct exposr_setting {
	/* The key under modules.<module>; in the core's own table a dotted path. A module
	 * may declare `enabled` (type bool) to give it a flag; the loader reads it. */
	const char *key;
	enum exposr_setting_type type;
	/* The default, written as in the YAML file; NULL: absent (NULL string, empty list). */
	const char *def;
	long min, max;              /* EXPOSR_SETTING_INT */
	const char *const *choices; /* EXPOSR_SETTING_CHOICE: NULL-terminated */
	/* exposrd 0.12's flag, without "--"; NULL: YAML only. It is also the variable
	 * EXPOSR_<FLAG> (upper case, '-' as '_'). Several modules may answer one flag. */
	const char *flag;
	char short_flag;            /* e.g. 'p' for -p; 0: none */
	const char *const *aliases; /* older spellings of `flag`, hidden; NULL-terminated */
	unsigned flags;             /* EXPOSR_SETTING_HIDDEN, EXPOSR_SETTING_REQUIRED */
	const char *value_name;     /* --help: PORT, URL; NULL: by type */
	/* --help and the README when the default is not a plain value ("a new key at
	 * every start"); NULL: `def`. */
	const char *def_help;
	const char *help; /* one line */
	/* Where the value goes: its offset in the struct exposr_config_api.read() fills
	 * (offsetof), of the C type its `type` names. */
	size_t offset;
};

#endif
