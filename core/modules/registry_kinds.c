/* The registration functions modules call, one per interface kind: each checks the
 * vtable's mandatory slots and the kind's cardinality before the entry is added, so a
 * module that would crash or be silently ignored later is refused at init, by name. */
#include "registry_table.h"

#include <stddef.h>
#include <stdio.h>

#include <exposr/api.h>
#include <exposr/eventbus.h>
#include <exposr/ingress.h>
#include <exposr/storage.h>
#include <exposr/transport.h>

#include "loader.h"
#include "log.h"

/* A slot is there when the vtable's size covers it and it is set: a module built
 * against an older minor version has a shorter table. */
#define HAS_SLOT(vt, slot)                                                                         \
	((vt)->size >= offsetof(__typeof__(*(vt)), slot) + sizeof((vt)->slot) && (vt)->slot != NULL)

static int refuse(struct exposr_module_handle *mod, const char *kind, const char *name,
                  const char *why)
{
	fprintf(stderr, "exposrd: module %s: cannot register %s '%s': %s\n",
	        loader_module_name(mod), kind, name, why);
	log_note_error();
	return EXPOSR_ERROR;
}

static int refuse_missing(struct exposr_module_handle *mod, const char *kind, const char *name,
                          const char *slot)
{
	char why[96];
	snprintf(why, sizeof(why), "the mandatory slot '%s' is missing", slot);
	return refuse(mod, kind, name, why);
}

/* Storage and the cluster bus are kinds the core uses one module of: a second one
 * would be loaded and silently ignored. */
static int refuse_second(struct exposr_module_handle *mod, const char *kind, const char *name,
                         const char *rule)
{
	const struct exposr_registry_entry *first = registry_find(kind, NULL);
	if (first == NULL)
		return EXPOSR_OK;
	struct exposr_module_handle *owner = registry_owner(first);
	if (owner == mod) {
		char why[160];
		snprintf(why, sizeof(why), "it registered '%s' already, but %s can be", first->name,
		         rule);
		return refuse(mod, kind, name, why);
	}
	fprintf(stderr,
	        "exposrd: modules %s and %s are both enabled, but %s can be: remove one of them "
	        "from modules: or set its enabled: false\n",
	        loader_module_name(owner), loader_module_name(mod), rule);
	log_note_error();
	return EXPOSR_ERROR;
}

/* What every kind needs: a name to find it by and a vtable. */
static int refuse_unnamed(struct exposr_module_handle *mod, const char *kind, const char *name,
                          const void *vt)
{
	if (name == NULL || name[0] == '\0')
		return refuse(mod, kind, "", "no name");
	if (vt == NULL)
		return refuse(mod, kind, name, "no vtable");
	return EXPOSR_OK;
}

static int add_checked(struct exposr_module_handle *mod, const char *kind, const char *name,
                       const void *vt, void *instance)
{
	int rc = registry_add(mod, kind, name, vt, instance);
	if (rc == EXPOSR_EXISTS) {
		char why[128];
		snprintf(why, sizeof(why), "module %s registered one under that name",
		         loader_module_name(registry_owner(registry_find(kind, name))));
		refuse(mod, kind, name, why);
	} else if (rc != EXPOSR_OK) {
		refuse(mod, kind, name, "out of memory");
	}
	return rc;
}

static int add_storage(struct exposr_module_handle *mod, const char *name,
                       const struct exposr_storage_vtable *vt, void *instance)
{
	const char *kind = EXPOSR_KIND_STORAGE;
	if (refuse_unnamed(mod, kind, name, vt) != EXPOSR_OK)
		return EXPOSR_ERROR;
	if (!HAS_SLOT(vt, get))
		return refuse_missing(mod, kind, name, "get");
	if (!HAS_SLOT(vt, set))
		return refuse_missing(mod, kind, name, "set");
	if (!HAS_SLOT(vt, del))
		return refuse_missing(mod, kind, name, "del");
	if (!HAS_SLOT(vt, list))
		return refuse_missing(mod, kind, name, "list");
	/* lock and unlock are optional, but only together. */
	if (HAS_SLOT(vt, lock) != HAS_SLOT(vt, unlock))
		return refuse_missing(mod, kind, name, HAS_SLOT(vt, lock) ? "unlock" : "lock");
	if (refuse_second(mod, kind, name, "exactly one storage module") != EXPOSR_OK)
		return EXPOSR_ERROR;
	return add_checked(mod, kind, name, vt, instance);
}

static int add_transport(struct exposr_module_handle *mod, const char *name,
                         const struct exposr_transport_vtable *vt, void *instance)
{
	const char *kind = EXPOSR_KIND_TRANSPORT;
	if (refuse_unnamed(mod, kind, name, vt) != EXPOSR_OK)
		return EXPOSR_ERROR;
	if (!HAS_SLOT(vt, describe))
		return refuse_missing(mod, kind, name, "describe");
	return add_checked(mod, kind, name, vt, instance);
}

static int add_ingress(struct exposr_module_handle *mod, const char *name,
                       const struct exposr_ingress_vtable *vt, void *instance)
{
	const char *kind = EXPOSR_KIND_INGRESS;
	if (refuse_unnamed(mod, kind, name, vt) != EXPOSR_OK)
		return EXPOSR_ERROR;
	if (!HAS_SLOT(vt, tunnel_url))
		return refuse_missing(mod, kind, name, "tunnel_url");
	return add_checked(mod, kind, name, vt, instance);
}

static int add_api(struct exposr_module_handle *mod, const char *name,
                   const struct exposr_api_vtable *vt, void *instance)
{
	if (refuse_unnamed(mod, EXPOSR_KIND_API, name, vt) != EXPOSR_OK)
		return EXPOSR_ERROR;
	return add_checked(mod, EXPOSR_KIND_API, name, vt, instance);
}

static int add_eventbus(struct exposr_module_handle *mod, const char *name,
                        const struct exposr_eventbus_vtable *vt, void *instance)
{
	const char *kind = EXPOSR_KIND_EVENTBUS;
	if (refuse_unnamed(mod, kind, name, vt) != EXPOSR_OK)
		return EXPOSR_ERROR;
	if (!HAS_SLOT(vt, publish))
		return refuse_missing(mod, kind, name, "publish");
	if (refuse_second(mod, kind, name, "at most one cluster bus module") != EXPOSR_OK)
		return EXPOSR_ERROR;
	return add_checked(mod, kind, name, vt, instance);
}

const struct exposr_registry_api registry_api = {
        .size = sizeof(struct exposr_registry_api),
        .add_storage = add_storage,
        .add_transport = add_transport,
        .add_ingress = add_ingress,
        .add_api = add_api,
        .add_eventbus = add_eventbus,
        .find = registry_find,
        .each = registry_each,
};
