/* Where exposrd finds its configuration file and modules when not told. */
#ifndef EXPOSR_CORE_PATHS_H
#define EXPOSR_CORE_PATHS_H

/* A binary next to a CMakeCache.txt runs from its build tree: the modules built beside
 * it and the source tree's default configuration; otherwise the installed ones. */
const char *paths_default_config(void);
const char *paths_default_module_dir(void);

#endif
