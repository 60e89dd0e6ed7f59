/* Read-only view of a module's YAML subtree, with the location of every value. */
#ifndef EXPOSR_CONFIG_H
#define EXPOSR_CONFIG_H

#include "common.h"
#include "settings.h"

/* One node of the configuration tree: a scalar, a sequence or a mapping. Opaque:
 * modules read it through the exposr_config_api table of the host. */
struct exposr_cfg;

enum exposr_cfg_type {
	EXPOSR_CFG_NONE = 0, /* absent (a NULL node) */
	EXPOSR_CFG_SCALAR,
	EXPOSR_CFG_SEQUENCE,
	EXPOSR_CFG_MAPPING,
};

/* Every getter below reports a bad value itself, as
 * "<file>:<line>:<column>: <key.path>: <reason>" (or "--flag: ..." for a value that
 * came from the command line or the environment), and returns EXPOSR_ERROR. An absent
 * key yields the default and EXPOSR_OK. */
struct exposr_config_api {
	size_t size; /* sizeof this struct as the host knows it */
	const struct exposr_cfg *(*child)(const struct exposr_cfg *node, const char *key);
	enum exposr_cfg_type (*type)(const struct exposr_cfg *node);
	/* Dotted path of the node from the root, e.g. "modules.api-v1.url". */
	const char *(*path)(const struct exposr_cfg *node);
	int (*get_string)(const struct exposr_cfg *node, const char *key, const char *def,
	                  const char **out);
	int (*get_int)(const struct exposr_cfg *node, const char *key, long def, long min, long max,
	               long *out);
	int (*get_bool)(const struct exposr_cfg *node, const char *key, bool def, bool *out);
	/* A sequence of scalars, or a scalar holding a comma-separated list. The array
	 * and strings belong to the config tree. */
	int (*get_string_list)(const struct exposr_cfg *node, const char *key,
	                       const char *const **out, size_t *count);
	/* Fails on the first key of a mapping that is not in the NULL-terminated list. */
	int (*check_keys)(const struct exposr_cfg *node, const char *const allowed[]);
	/* Reports a module's own validation error at the node's location. */
	void (*error)(const struct exposr_cfg *node, const char *key, const char *fmt, ...)
	        EXPOSR_PRINTF(3, 4);
	/* ABI 2.0. Checks `node` against `table` (unknown keys, types, bounds, required
	 * settings; "enabled" is always allowed) and stores each value, or its default, at
	 * its offset in `out`. */
	int (*read)(const struct exposr_cfg *node, const struct exposr_setting *table, void *out);
};

#endif
