/* The registry of interfaces modules provide: (kind, name) -> (vtable, instance). */
#ifndef EXPOSR_CORE_REGISTRY_TABLE_H
#define EXPOSR_CORE_REGISTRY_TABLE_H

#include <exposr/registry.h>

/* The table modules get (registry_kinds.c): one checked add function per kind. */
extern const struct exposr_registry_api registry_api;

/* Unchecked: for the core and its tests. Modules register through registry_api. */
int registry_add(struct exposr_module_handle *mod, const char *kind, const char *name,
                 const void *vtable, void *instance);
const struct exposr_registry_entry *registry_find(const char *kind, const char *name);
void registry_each(const char *kind, void (*fn)(void *arg, const struct exposr_registry_entry *e),
                   void *arg);
/* Drops every entry `mod` added (undo of a failed or unloaded module). */
void registry_remove_module(struct exposr_module_handle *mod);
/* The module that added the entry (NULL for the core). */
struct exposr_module_handle *registry_owner(const struct exposr_registry_entry *e);
size_t registry_count(void);

#endif
