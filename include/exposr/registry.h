/* The registry: (interface kind, name) -> (vtable, instance). */
#ifndef EXPOSR_REGISTRY_H
#define EXPOSR_REGISTRY_H

#include "common.h"

/* Interface kinds; each has its own header with the vtable it registers. */
#define EXPOSR_KIND_STORAGE   "storage"
#define EXPOSR_KIND_TRANSPORT "transport"
#define EXPOSR_KIND_INGRESS   "ingress"
#define EXPOSR_KIND_API       "api"
#define EXPOSR_KIND_EVENTBUS  "eventbus"

struct exposr_storage_vtable;
struct exposr_transport_vtable;
struct exposr_ingress_vtable;
struct exposr_api_vtable;
struct exposr_eventbus_vtable;

struct exposr_registry_entry {
	const char *kind;
	const char *name;
	const void *vtable;
	void *instance;
};

/* One add function per kind. Each checks the vtable against its kind's mandatory slots
 * (named in the kind's header) and the kind's rules: exactly one storage, at most one
 * cluster bus. A refused registration prints one line naming the module and the cause
 * and returns EXPOSR_ERROR (EXPOSR_EXISTS when (kind, name) is taken); the module then
 * fails its init without a word of its own. The name is copied. */
struct exposr_registry_api {
	size_t size;
	int (*add_storage)(struct exposr_module_handle *mod, const char *name,
	                   const struct exposr_storage_vtable *vt, void *instance);
	int (*add_transport)(struct exposr_module_handle *mod, const char *name,
	                     const struct exposr_transport_vtable *vt, void *instance);
	int (*add_ingress)(struct exposr_module_handle *mod, const char *name,
	                   const struct exposr_ingress_vtable *vt, void *instance);
	int (*add_api)(struct exposr_module_handle *mod, const char *name,
	               const struct exposr_api_vtable *vt, void *instance);
	int (*add_eventbus)(struct exposr_module_handle *mod, const char *name,
	                    const struct exposr_eventbus_vtable *vt, void *instance);
	/* name == NULL: the first entry of that kind. NULL when there is none. */
	const struct exposr_registry_entry *(*find)(const char *kind, const char *name);
	/* Calls `fn` for every entry of `kind` in registration order. */
	void (*each)(const char *kind, void (*fn)(void *arg, const struct exposr_registry_entry *e),
	             void *arg);
};

#endif
