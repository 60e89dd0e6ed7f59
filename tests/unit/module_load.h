/* Test helper: a module loaded and started by the core's loader from YAML settings, as
 * exposrd would (include after Criterion; needs the core's headers). */
#ifndef EXPOSR_TEST_MODULE_LOAD_H
#define EXPOSR_TEST_MODULE_LOAD_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture.h"
#include "cfg.h"
#include "loader.h"

/* Loads module `name` from `path` with `settings` (YAML lines under `modules: name:`)
 * and starts it. *root holds the config from then on (an earlier one is freed; the
 * caller frees the last after loader_fini_all()). *rc is the first failing step's
 * status. Returns what the module printed (the caller frees it). */
static inline char *module_load(const struct exposr_host *host, const char *name, const char *path,
                                const char *settings, struct exposr_cfg **root, int *rc)
{
	char *yaml;
	cr_assert_gt(asprintf(&yaml, "modules:\n  %s:\n%s", name, settings), 0);
	char *file = write_temp(yaml, ".yaml");
	free(yaml);
	cfg_free(*root);
	*root = cfg_load_file(file);
	unlink(file);
	free(file);
	cr_assert_not_null(*root);
	const struct exposr_cfg *modules = cfg_api.child(*root, "modules");
	FILE *tmp;
	int saved = capture_begin(&tmp);
	*rc = loader_init_one(host, name, path, cfg_api.child(modules, name));
	if (*rc == EXPOSR_OK)
		*rc = loader_start_all();
	return capture_end(tmp, saved);
}

/* Each of `n` settings texts (cases[i][0]) must fail the module's init or start with a
 * line containing cases[i][1]; `load` is the test's loader over module_load(). */
static inline void expect_settings_refused(char *(*load)(const char *settings, int *rc),
                                           const char *const (*cases)[2], size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int rc;
		char *printed = load(cases[i][0], &rc);
		cr_assert_eq(rc, EXPOSR_ERROR, "%s", cases[i][0]);
		cr_assert(strstr(printed, cases[i][1]) != NULL, "%s", printed);
		free(printed);
	}
}

#endif
