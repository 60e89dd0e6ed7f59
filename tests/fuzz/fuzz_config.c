/* The YAML config loader on any file, then the typed reads the modules make of every
 * node it built. Errors go to stderr, which is silenced around each load. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cfg.h"

static char path[64];
static int devnull = -1;

static void remove_file(void)
{
	unlink(path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	snprintf(path, sizeof(path), "/tmp/exposr-fuzz-config-%d.yaml", (int)getpid());
	atexit(remove_file);
	devnull = open("/dev/null", O_WRONLY);
	return devnull >= 0 ? 0 : 1;
}

/* Every typed read of every node, as modules would try them. */
static void read_all(const struct exposr_cfg *node, int depth)
{
	size_t n = cfg_count(node);
	for (size_t i = 0; i < n; i++) {
		const char *key = NULL;
		const struct exposr_cfg *child = cfg_at(node, i, &key);
		cfg_api.path(child);
		cfg_from_file(child);
		if (key != NULL) {
			const char *s;
			long l;
			bool b;
			const char *const *list;
			size_t count;
			cfg_api.get_string(node, key, "", &s);
			cfg_api.get_int(node, key, 0, -1000, 100000, &l);
			cfg_api.get_bool(node, key, false, &b);
			cfg_api.get_string_list(node, key, &list, &count);
		}
		if (depth < 40)
			read_all(child, depth + 1);
	}
	static const char *const allowed[] = {"log", "http", "modules", NULL};
	if (cfg_api.type(node) == EXPOSR_CFG_MAPPING)
		cfg_api.check_keys(node, allowed);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FILE *f = fopen(path, "wb");
	if (f == NULL || fwrite(data, 1, size, f) != size || fclose(f) != 0)
		abort();
	fflush(stderr);
	int saved = dup(2);
	dup2(devnull, 2);
	struct exposr_cfg *root = cfg_load_file(path);
	if (root != NULL) {
		read_all(root, 0);
		cfg_set(root, "http.port", "8080", "--port");
		cfg_free(root);
	}
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	return 0;
}
