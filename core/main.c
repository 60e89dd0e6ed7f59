/* exposrd's entry point: options, configuration file, then the server. */
#include <limits.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"
#include "options.h"
#include "server.h"
#include "stop_signals.h"

/* A binary next to a CMakeCache.txt runs from its build tree: it uses the modules
 * built beside it and the source tree's default configuration. */
static bool build_tree_dir(char *dir, size_t size)
{
	ssize_t n = readlink("/proc/self/exe", dir, size - 1);
	if (n <= 0)
		return false;
	dir[n] = '\0';
	char *slash = strrchr(dir, '/');
	if (slash == NULL)
		return false;
	*slash = '\0';
	char marker[PATH_MAX + 32];
	snprintf(marker, sizeof(marker), "%s/CMakeCache.txt", dir);
	return access(marker, F_OK) == 0;
}

/* A bulk transfer swings the heap by megabytes (socket reads, channel and socket
 * buffers): with glibc's defaults (128 KiB trim threshold) the top of the heap went back
 * to the kernel and was faulted in again page by page, one fault per 3 KB carried and a
 * third of exposrd's CPU in tests/bench's download. Freed memory up to the trim threshold
 * stays with the process instead; a fixed mmap threshold keeps libevent's large chains
 * on the heap (setting the trim threshold turns glibc's adaptive one off). */
static void tune_malloc(void)
{
#ifdef __GLIBC__
	mallopt(M_MMAP_THRESHOLD, 1024 * 1024);
	mallopt(M_TRIM_THRESHOLD, 4 * 1024 * 1024);
#endif
}

int main(int argc, char **argv)
{
	/* First: from here on a stop signal never kills exposrd (see server.c). */
	if (stop_signals_block() != 0) {
		perror("exposrd: cannot block SIGTERM and SIGINT");
		return EXIT_START;
	}
	tune_malloc();
	struct options opts;
	if (options_parse(argc, argv, &opts) != 0) {
		options_free(&opts);
		return EXIT_CONFIG;
	}
	int rc = 0;
	if (opts.help || opts.show_hidden) {
		options_print_help(stdout, opts.show_hidden);
		goto out;
	}
	if (opts.version) {
		printf("exposrd %s\n", EXPOSR_VERSION);
		goto out;
	}
	char exe_dir[PATH_MAX], build_modules[PATH_MAX + 16];
	bool in_build_tree = build_tree_dir(exe_dir, sizeof(exe_dir));
	snprintf(build_modules, sizeof(build_modules), "%s/modules", exe_dir);
	const char *config_file = opts.config_file != NULL ? opts.config_file
	                          : in_build_tree          ? EXPOSR_SOURCE_CONFIG_FILE
	                                                   : EXPOSR_CONFIG_FILE;
	const char *module_dir = opts.module_dir != NULL ? opts.module_dir
	                         : in_build_tree         ? build_modules
	                                                 : EXPOSR_MODULE_DIR;
	struct exposr_cfg *root = cfg_load_file(config_file);
	if (root == NULL || options_apply(&opts, root) != 0) {
		cfg_free(root);
		rc = EXIT_CONFIG;
		goto out;
	}
	rc = server_run(root, module_dir);
	cfg_free(root);
out:
	options_free(&opts);
	return rc;
}
