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

struct exposr_registry_entry {
	const char *kind;
	const char *name;
	const void *vtable;
	void *instance;
};

struct exposr_registry_api {
	size_t size;
	/* EXPOSR_EXISTS if (kind, name) is taken. The strings are copied. */
	int (*add)(struct exposr_module_handle *mod, const char *kind, const char *name,
	           const void *vtable, void *instance);
	/* name == NULL: the first entry of that kind. NULL when there is none. */
	const struct exposr_registry_entry *(*find)(const char *kind, const char *name);
	/* Calls `fn` for every entry of `kind` in registration order. */
	void (*each)(const char *kind, void (*fn)(void *arg, const struct exposr_registry_entry *e),
	             void *arg);
};

#endif
