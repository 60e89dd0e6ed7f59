/* The module descriptor: the one symbol every module shared object exports. */
#ifndef EXPOSR_MODULE_H
#define EXPOSR_MODULE_H

#include "host.h"

/* A module built for another major version is refused. Minor versions only add
 * things at the end of tables, so a module built against an older minor loads. */
#define EXPOSR_ABI_MAJOR 1
#define EXPOSR_ABI_MINOR 4

#define EXPOSR_MODULE_SYMBOL "exposr_module"

struct exposr_module {
	uint16_t abi_major;
	uint16_t abi_minor;
	const char *name;
	const char *version;
	const char *description;

	/* Mandatory. Validates `cfg` (the module's subtree, NULL when it has none),
	 * registers what it provides and stores its instance in *state. */
	int (*init)(const struct exposr_host *host, struct exposr_module_handle *mod,
	            const struct exposr_cfg *cfg, void **state);
	/* Optional. Called once every module is initialised: look up what it needs. */
	int (*start)(void *state);
	/* Optional. Stop accepting; EXPOSR_OK when drained, EXPOSR_AGAIN to report
	 * later through host->drained(). */
	int (*stop)(void *state);
	/* Mandatory. Frees everything. */
	void (*fini)(void *state);
};

/* Defines the descriptor with the ABI version this module is built against. */
#define EXPOSR_MODULE_DEFINE(...)                                                                  \
	EXPOSR_EXPORT const struct exposr_module exposr_module = {                                 \
	        .abi_major = EXPOSR_ABI_MAJOR, .abi_minor = EXPOSR_ABI_MINOR, __VA_ARGS__}

#endif
