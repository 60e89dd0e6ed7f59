/* Settings tables (include/exposr/settings.h): checking and reading a configuration
 * subtree against one, checking a flag's value, the names --help shows. */
#ifndef EXPOSR_CORE_SETTINGS_TABLE_H
#define EXPOSR_CORE_SETTINGS_TABLE_H

#include <exposr/settings.h>

struct exposr_cfg;

/* Checks `node` against `table` and, when `out` is not NULL, stores every value or its
 * default at its offset. `extra` is one more key the mapping may hold ("enabled" in a
 * module's subtree, "modules" at the top); `where` names the subtree in messages when
 * `node` is NULL. Reports the first error at the value's own origin. */
int settings_read(const struct exposr_cfg *node, const char *where,
                  const struct exposr_setting *table, const char *extra, void *out);
/* The config API's read(): a module's own subtree. */
int settings_read_module(const struct exposr_cfg *node, const struct exposr_setting *table,
                         void *out);
/* Checks a value a flag or variable gives, before it goes into the tree: prints
 * "exposrd: <source>: <reason>" and fails when the setting would refuse it. */
int settings_check_text(const struct exposr_setting *s, const char *source, const char *value);
/* What --help writes after the flag: the setting's value_name, else one by type. */
const char *settings_value_name(const struct exposr_setting *s);
/* The default as --help and the README show it; NULL when there is none. */
const char *settings_default_text(const struct exposr_setting *s);
/* EXPOSR_ and the flag in upper case with '-' as '_'. */
void settings_env_name(const char *flag, char *out, size_t size);

#endif
