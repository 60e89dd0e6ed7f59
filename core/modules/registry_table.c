/* The registry of interfaces modules provide: (kind, name) -> (vtable, instance). The
 * checked registration modules call is registry_kinds.c. */
#include "registry_table.h"

#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

struct registry_item {
	struct exposr_registry_entry entry;
	struct exposr_module_handle *owner;
	TAILQ_ENTRY(registry_item) link;
};

/* Kept in registration order: lookups of "the first of a kind" are deterministic. */
static TAILQ_HEAD(, registry_item) items = TAILQ_HEAD_INITIALIZER(items);

int registry_add(struct exposr_module_handle *mod, const char *kind, const char *name,
                 const void *vtable, void *instance)
{
	if (kind == NULL || name == NULL || vtable == NULL)
		return EXPOSR_ERROR;
	if (registry_find(kind, name) != NULL)
		return EXPOSR_EXISTS;
	struct registry_item *item = calloc(1, sizeof(*item));
	if (item == NULL)
		return EXPOSR_ERROR;
	item->entry.kind = strdup(kind);
	item->entry.name = strdup(name);
	if (item->entry.kind == NULL || item->entry.name == NULL) {
		free((char *)item->entry.kind);
		free((char *)item->entry.name);
		free(item);
		return EXPOSR_ERROR;
	}
	item->entry.vtable = vtable;
	item->entry.instance = instance;
	item->owner = mod;
	TAILQ_INSERT_TAIL(&items, item, link);
	return EXPOSR_OK;
}

const struct exposr_registry_entry *registry_find(const char *kind, const char *name)
{
	struct registry_item *it;
	TAILQ_FOREACH(it, &items, link)
	if (strcmp(it->entry.kind, kind) == 0 &&
	    (name == NULL || strcmp(it->entry.name, name) == 0))
		return &it->entry;
	return NULL;
}

void registry_each(const char *kind, void (*fn)(void *arg, const struct exposr_registry_entry *e),
                   void *arg)
{
	struct registry_item *it;
	TAILQ_FOREACH(it, &items, link)
	if (strcmp(it->entry.kind, kind) == 0)
		fn(arg, &it->entry);
}

void registry_remove_module(struct exposr_module_handle *mod)
{
	for (struct registry_item *it = TAILQ_FIRST(&items), *next; it != NULL; it = next) {
		next = TAILQ_NEXT(it, link);
		if (it->owner != mod)
			continue;
		TAILQ_REMOVE(&items, it, link);
		free((char *)it->entry.kind);
		free((char *)it->entry.name);
		free(it);
	}
}

struct exposr_module_handle *registry_owner(const struct exposr_registry_entry *e)
{
	/* The entry is the first member of its item. */
	return ((const struct registry_item *)(const void *)e)->owner;
}

size_t registry_count(void)
{
	size_t n = 0;
	const struct registry_item *it;
	TAILQ_FOREACH(it, &items, link)
	n++;
	return n;
}
