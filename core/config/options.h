/* The command line and EXPOSR_* environment: exposrd 0.12's options, each mapped onto the
 * YAML setting it stands for. The flags come from the settings tables of the core and of
 * the modules present in the module directory (docs/configuration.md §9.1). */
#ifndef EXPOSR_CORE_OPTIONS_H
#define EXPOSR_CORE_OPTIONS_H

#include <stdbool.h>
#include <stdio.h>

#include "catalog.h"

struct flag;

struct options {
	const char *config_file; /* --config / EXPOSR_CONFIG, NULL if not given */
	const char *module_dir;  /* --module-dir / EXPOSR_MODULE_DIR, else the default */
	bool help, show_hidden, version;
	struct catalog catalog; /* the modules of module_dir, whose tables give flags */
	struct flag *flags;
	size_t flag_count;
	char **values; /* values given on the command line, by flag; NULL when absent */
};

/* Reads the module directory's descriptors, then argv. Prints one error line and
 * returns -1 on an unknown option, a missing value or a value the setting refuses. */
int options_parse(int argc, char **argv, struct options *out);
/* Applies the environment, then the command line, on top of the YAML tree. */
int options_apply(const struct options *opts, struct exposr_cfg *root);
void options_print_help(const struct options *opts, FILE *out, bool show_hidden);
/* After options_apply: unloads the module directory's descriptors (and the flags, which
 * point into them), so that the libraries of modules the config does not load leave the
 * server's memory; the server loads its modules again. Only options_free may follow. */
void options_unload_modules(struct options *opts);
void options_free(struct options *opts);

#endif
