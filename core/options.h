/* The command line and EXPOSR_* environment: exposrd 0.12's options, each mapped
 * onto the YAML setting it stands for. */
#ifndef EXPOSR_CORE_OPTIONS_H
#define EXPOSR_CORE_OPTIONS_H

#include <stdbool.h>
#include <stdio.h>

struct exposr_cfg;

struct options {
	const char *config_file; /* --config / EXPOSR_CONFIG, NULL if not given */
	const char *module_dir;  /* --module-dir / EXPOSR_MODULE_DIR, NULL if not given */
	bool help, show_hidden, version;
	/* Values given on the command line, by option index; NULL when absent. */
	char **values;
};

/* Parses argv. Prints one error line and returns -1 on an unknown option, a
 * missing value or a value of the wrong type. */
int options_parse(int argc, char **argv, struct options *out);
/* Applies the environment, then the command line, on top of the YAML tree. */
int options_apply(const struct options *opts, struct exposr_cfg *root);
void options_print_help(FILE *out, bool show_hidden);
void options_free(struct options *opts);

#endif
