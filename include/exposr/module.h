/* The module descriptor: the one symbol every module shared object exports. */
#ifndef EXPOSR_MODULE_H
#define EXPOSR_MODULE_H

#include "host.h"
#include "settings.h"

/* A module built for another major version is refused. Minor versions only add
 * things at the end of tables, so a module built against an older minor loads; a change
 * that removes or moves anything is a new major (2.0: one registration function per
 * kind, checked by the core; the unused api `public_url` slot gone; each descriptor's
 * settings table; 3.0: the HTTP table's forward() in place of parser_state, format_error
 * and limits, which only a proxying handler used; 3.1: the host's vlog). */
#define EXPOSR_ABI_MAJOR 3
#define EXPOSR_ABI_MINOR 1

#define EXPOSR_MODULE_SYMBOL "exposr_module"

struct exposr_module {
	uint16_t abi_major;
	uint16_t abi_minor;
	const char *name;
	const char *version;
	const char *description;

	/* Mandatory. Validates `cfg` (the module's subtree, NULL when it has none),
	 * registers what it provides (host->registry->add_<kind>) and stores its instance in
	 * *state. On failure the core undoes every registration the module made. */
	int (*init)(const struct exposr_host *host, struct exposr_module_handle *mod,
	            const struct exposr_cfg *cfg, void **state);
	/* Optional. Called once every module is initialised: look up what it needs. */
	int (*start)(void *state);
	/* Optional. Stop accepting; EXPOSR_OK when drained, EXPOSR_AGAIN to report
	 * later through host->drained(). */
	int (*stop)(void *state);
	/* Mandatory. Frees everything. */
	void (*fini)(void *state);

	/* ABI 2.0. Every setting of the module's subtree (include/exposr/settings.h): the
	 * core refuses a value it does not accept before init() runs, and init() reads
	 * them with host->config->read(). NULL: the module has no settings. */
	const struct exposr_setting *settings;
};

/* Defines the descriptor with the ABI version this module is built against. */
#define EXPOSR_MODULE_DEFINE(...)                                                                  \
	EXPOSR_EXPORT const struct exposr_module exposr_module = {                                 \
	        .abi_major = EXPOSR_ABI_MAJOR, .abi_minor = EXPOSR_ABI_MINOR, __VA_ARGS__}

#endif
