/* A string-keyed hash map for the core's in-memory tables; keys are copied, values
 * belong to the caller. */
#ifndef EXPOSR_CORE_STRMAP_H
#define EXPOSR_CORE_STRMAP_H

#include <exposr/common.h>

struct strmap;

struct strmap *strmap_new(void);
/* Frees the map; `free_value` (optional) runs for every value left. */
void strmap_free(struct strmap *map, void (*free_value)(void *value));
void *strmap_get(const struct strmap *map, const char *key);
/* Adds or replaces; EXPOSR_ERROR when out of memory. */
int strmap_put(struct strmap *map, const char *key, void *value);
/* Removes the key and returns its value, or NULL. */
void *strmap_remove(struct strmap *map, const char *key);
size_t strmap_count(const struct strmap *map);
/* Calls `fn` for every entry; an entry for which it returns true is removed (the
 * callback takes its value). `fn` must not otherwise change the map. */
void strmap_filter(struct strmap *map, bool (*fn)(void *arg, const char *key, void *value),
                   void *arg);

#endif
