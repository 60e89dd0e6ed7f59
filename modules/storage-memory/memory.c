/* storage-memory: the embedded single-node storage (docs/storage.md §8.1) behind the
 * storage interface; everything completes before the call returns. */
#include <exposr/module.h>
#include <exposr/storage.h>
#include <stdlib.h>
#include <string.h>

#include "memstore.h"
#include "monotonic.h"

/* A page never holds more keys than this, whatever the caller asks for. */
#define MEMORY_MAX_PAGE     10000
#define MEMORY_DEFAULT_PAGE 10

struct memory {
	struct memstore *store;
};

static void memory_get(void *self, const char *ns, const char *key, exposr_storage_get_cb cb,
                       void *arg)
{
	struct memory *m = self;
	size_t len = 0;
	const char *value = ns != NULL && key != NULL
	                            ? memstore_get(m->store, ns, key, monotonic_ms(), &len)
	                            : NULL;
	if (value == NULL) {
		cb(arg, ns != NULL && key != NULL ? EXPOSR_NOT_FOUND : EXPOSR_ERROR, NULL, 0);
		return;
	}
	/* A copy: the callback may change the store while it still reads the value. */
	char *copy = malloc(len + 1);
	if (copy == NULL) {
		cb(arg, EXPOSR_ERROR, NULL, 0);
		return;
	}
	memcpy(copy, value, len + 1);
	cb(arg, EXPOSR_OK, copy, len);
	free(copy);
}

static void memory_set(void *self, const char *ns, const char *key, const char *value, size_t len,
                       unsigned flags, uint64_t ttl_ms, exposr_storage_done_cb cb, void *arg)
{
	struct memory *m = self;
	if (ns == NULL || key == NULL || (value == NULL && len > 0)) {
		cb(arg, EXPOSR_ERROR);
		return;
	}
	int64_t now = monotonic_ms();
	int64_t expires_at = ttl_ms > 0 ? now + (int64_t)ttl_ms : 0;
	int rc = memstore_set(m->store, ns, key, value != NULL ? value : "", len,
	                      (flags & EXPOSR_STORAGE_IF_ABSENT) != 0, expires_at, now);
	cb(arg, rc == 0 ? EXPOSR_OK : rc == 1 ? EXPOSR_EXISTS : EXPOSR_ERROR);
}

static void memory_del(void *self, const char *ns, const char *key, exposr_storage_done_cb cb,
                       void *arg)
{
	struct memory *m = self;
	if (ns == NULL || key == NULL) {
		cb(arg, EXPOSR_ERROR);
		return;
	}
	cb(arg, memstore_del(m->store, ns, key, monotonic_ms()) ? EXPOSR_OK : EXPOSR_NOT_FOUND);
}

static void free_keys(char **keys, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(keys[i]);
	free(keys);
}

static void memory_list(void *self, const char *ns, const char *cursor, size_t count,
                        exposr_storage_list_cb cb, void *arg)
{
	struct memory *m = self;
	if (ns == NULL) {
		cb(arg, EXPOSR_ERROR, NULL, 0, NULL);
		return;
	}
	if (count == 0)
		count = MEMORY_DEFAULT_PAGE;
	if (count > MEMORY_MAX_PAGE)
		count = MEMORY_MAX_PAGE;
	const char **found = calloc(count, sizeof(*found));
	char **keys = calloc(count, sizeof(*keys));
	if (found == NULL || keys == NULL) {
		free(found);
		free(keys);
		cb(arg, EXPOSR_ERROR, NULL, 0, NULL);
		return;
	}
	bool more;
	size_t n = memstore_list(m->store, ns, cursor, count, monotonic_ms(), found, &more);
	/* Copies, so the callback may change the store while it reads the page. */
	for (size_t i = 0; i < n; i++) {
		if ((keys[i] = strdup(found[i])) == NULL) {
			free(found);
			free_keys(keys, i);
			cb(arg, EXPOSR_ERROR, NULL, 0, NULL);
			return;
		}
	}
	free(found);
	const char *next = more && n > 0 ? keys[n - 1] : NULL;
	cb(arg, EXPOSR_OK, (const char *const *)keys, n, next);
	free_keys(keys, n);
}

static const struct exposr_storage_vtable memory_vtable = {
        .size = sizeof(struct exposr_storage_vtable),
        .get = memory_get,
        .set = memory_set,
        .del = memory_del,
        .list = memory_list,
};

static int memory_init(const struct exposr_host *host, struct exposr_module_handle *mod,
                       const struct exposr_cfg *cfg, void **state)
{
	if (host->config->read(cfg, NULL, NULL) != EXPOSR_OK)
		return EXPOSR_ERROR;
	struct memory *m = calloc(1, sizeof(*m));
	if (m == NULL || (m->store = memstore_new()) == NULL) {
		free(m);
		host->log(mod, EXPOSR_LOG_ERROR, "out of memory");
		return EXPOSR_ERROR;
	}
	if (host->registry->add_storage(mod, "memory", &memory_vtable, m) != EXPOSR_OK) {
		memstore_free(m->store);
		free(m);
		return EXPOSR_ERROR;
	}
	*state = m;
	return EXPOSR_OK;
}

static void memory_fini(void *state)
{
	struct memory *m = state;
	if (m == NULL)
		return;
	memstore_free(m->store);
	free(m);
}

EXPOSR_MODULE_DEFINE(.name = "storage-memory", .version = "1.0",
                     .description = "embedded in-memory storage (single node)", .init = memory_init,
                     .fini = memory_fini);
