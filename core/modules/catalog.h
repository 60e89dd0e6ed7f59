/* The modules present in the module directory and their descriptors, read before the
 * command line: their settings tables give exposrd its flags. */
#ifndef EXPOSR_CORE_CATALOG_H
#define EXPOSR_CORE_CATALOG_H

#include <exposr/module.h>

struct catalog_entry {
	char *name; /* the file name without ".so", as the loader finds it */
	void *dl;
	const struct exposr_module *desc;
};

struct catalog {
	struct catalog_entry *entries; /* sorted by name */
	size_t count;
};

/* Reads every `<dir>/<name>.so` that loads and carries a descriptor of this exposrd's ABI
 * and of its own name; others are left out here and reported by the loader if enabled.
 * A directory that cannot be read is an empty catalog. Fails only without memory. */
int catalog_scan(const char *dir, struct catalog *out);
const struct catalog_entry *catalog_find(const struct catalog *c, const char *name);
/* The module's settings table, NULL when it has none. */
const struct exposr_setting *catalog_settings(const struct exposr_module *desc);
void catalog_free(struct catalog *c);

#endif
