/* Default paths: the build tree's when exposrd runs from it, else the installed ones. */
#include "paths.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static char exe_dir[PATH_MAX];
static char build_modules[PATH_MAX + 16];

static bool in_build_tree(void)
{
	ssize_t n = readlink("/proc/self/exe", exe_dir, sizeof(exe_dir) - 1);
	if (n <= 0)
		return false;
	exe_dir[n] = '\0';
	char *slash = strrchr(exe_dir, '/');
	if (slash == NULL)
		return false;
	*slash = '\0';
	char marker[PATH_MAX + 32];
	snprintf(marker, sizeof(marker), "%s/CMakeCache.txt", exe_dir);
	return access(marker, F_OK) == 0;
}

const char *paths_default_config(void)
{
	return in_build_tree() ? EXPOSR_SOURCE_CONFIG_FILE : EXPOSR_CONFIG_FILE;
}

const char *paths_default_module_dir(void)
{
	if (!in_build_tree())
		return EXPOSR_MODULE_DIR;
	snprintf(build_modules, sizeof(build_modules), "%s/modules", exe_dir);
	return build_modules;
}
