/* exposrd's entry point: options, configuration file, then the server. */
#include <stdio.h>
#include <stdlib.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "cfg.h"
#include "options.h"
#include "paths.h"
#include "server.h"
#include "stop_signals.h"

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
		options_print_help(&opts, stdout, opts.show_hidden);
		goto out;
	}
	if (opts.version) {
		printf("exposrd %s\n", EXPOSR_VERSION);
		goto out;
	}
	const char *config_file =
	        opts.config_file != NULL ? opts.config_file : paths_default_config();
	struct exposr_cfg *root = cfg_load_file(config_file);
	if (root == NULL || options_apply(&opts, root) != 0) {
		cfg_free(root);
		rc = EXIT_CONFIG;
		goto out;
	}
	options_unload_modules(&opts);
	rc = server_run(root, opts.module_dir);
	cfg_free(root);
out:
	options_free(&opts);
	return rc;
}
