/* The configuration tree: YAML loaded with libyaml, overridden by flags and the
 * environment, every node remembering where its value came from. */
#ifndef EXPOSR_CORE_CFG_H
#define EXPOSR_CORE_CFG_H

#include <exposr/config.h>

extern const struct exposr_config_api cfg_api;

/* NULL after printing "<file>:<line>:<column>: <reason>" for a YAML error, or
 * "<file>: <reason>" when the file cannot be read. */
struct exposr_cfg *cfg_load_file(const char *path);
/* An empty mapping, for running without a file. */
struct exposr_cfg *cfg_new_root(void);
/* Sets the scalar at a dotted path, creating mappings on the way; `origin` names
 * where the value came from ("--api-port", "EXPOSR_API_PORT") for error messages. */
int cfg_set(struct exposr_cfg *root, const char *path, const char *value, const char *origin);
/* True when the node was read from a file (not created by a flag or variable). */
bool cfg_from_file(const struct exposr_cfg *node);
/* The i-th entry of a mapping (key and value) or sequence (value only). */
size_t cfg_count(const struct exposr_cfg *node);
const struct exposr_cfg *cfg_at(const struct exposr_cfg *node, size_t i, const char **key);
void cfg_free(struct exposr_cfg *root);

#endif
