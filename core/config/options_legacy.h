/* exposrd 0.12's flags that belong to a module, by module: a flag whose module is not
 * installed is still accepted and explained instead of being an unknown option. */
#ifndef EXPOSR_CORE_OPTIONS_LEGACY_H
#define EXPOSR_CORE_OPTIONS_LEGACY_H

#include <stdbool.h>
#include <stddef.h>

struct legacy_flag {
	const char *name;
	const char *module;
	bool boolean; /* takes no value, or an optional true/false */
};

extern const struct legacy_flag options_legacy[];
extern const size_t options_legacy_count;

#endif
