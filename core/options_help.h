/* What --help prints beside each option's name and description: the name of its value
 * and its default. Kept apart from the option table so either can change alone. */
#ifndef EXPOSR_CORE_OPTIONS_HELP_H
#define EXPOSR_CORE_OPTIONS_HELP_H

struct option_help {
	const char *name;     /* the option, without "--" */
	const char *value;    /* NULL: the option takes no value */
	const char *fallback; /* what applies without it; NULL: nothing to say */
};

/* NULL for an option --help knows nothing more about. */
const struct option_help *options_help_find(const char *name);

#endif
