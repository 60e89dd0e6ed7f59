/* The glue of the account and tunnel services: configuration, storage, lifecycle. */
#include "services.h"

#include <stdio.h>

#include "core_settings.h"
#include "ids.h"
#include "keylock.h"
#include "log.h"
#include "registry_table.h"
#include "store.h"
#include "tunnel_cache.h"
#include "tunnel_state.h"

int services_configure(const struct exposr_cfg *root)
{
	struct core_settings cs;
	if (core_settings_read(root, &cs) != EXPOSR_OK)
		return EXPOSR_ERROR;
	tunnel_state_set_max_connections((unsigned)cs.max_connections);
	if (ids_node_id_init() != EXPOSR_OK) {
		fprintf(stderr, "exposrd: cannot draw a node id: no randomness available\n");
		return EXPOSR_ERROR;
	}
	return EXPOSR_OK;
}

int services_start(void)
{
	const struct exposr_registry_entry *e = registry_find(EXPOSR_KIND_STORAGE, NULL);
	if (e == NULL) {
		fprintf(stderr, "exposrd: no storage module is enabled (enable storage-memory, "
		                "storage-redis or storage-sqlite)\n");
		return EXPOSR_ERROR;
	}
	store_use(e->vtable, e->instance);
	log_debug("storage: %s; node id %s", e->name, ids_node_id());
	return EXPOSR_OK;
}

void services_shutdown(void)
{
	tunnel_state_shutdown();
}

void services_free(void)
{
	tunnel_state_free();
	tunnel_cache_free();
	keylock_free_all();
	store_use(NULL, NULL);
}
