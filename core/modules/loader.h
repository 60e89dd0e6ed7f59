/* The module loader: finds, dlopen()s, checks and drives the lifecycle of every
 * module the configuration enables. */
#ifndef EXPOSR_CORE_LOADER_H
#define EXPOSR_CORE_LOADER_H

#include <exposr/module.h>

struct exposr_cfg;

/* Loads and initialises every enabled module under `modules` (the config's
 * "modules" mapping), in file order. On the first failure it prints one line naming
 * the module file and the reason, undoes that module, finalises the ones already
 * initialised and fails. */
int loader_init_all(const struct exposr_host *host, const char *module_dir,
                    const struct exposr_cfg *modules);
/* Loads and initialises one module file; used by the above and by tests. */
int loader_init_one(const struct exposr_host *host, const char *name, const char *path,
                    const struct exposr_cfg *cfg);
int loader_start_all(void);
/* Asks every module to stop; `all_drained` runs once each has drained (possibly
 * before this returns). */
void loader_stop_all(void (*all_drained)(void));
/* Called through host->drained. */
void loader_module_drained(struct exposr_module_handle *mod);
/* Finalises and unloads every module, last loaded first. */
void loader_fini_all(void);
const char *loader_module_name(const struct exposr_module_handle *mod);
size_t loader_module_count(void);

#endif
