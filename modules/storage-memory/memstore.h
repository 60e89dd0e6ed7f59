/* The memory store's data structure: per namespace, keys kept sorted in an array, so
 * lookups are binary searches and listing resumes after the last key returned. */
#ifndef EXPOSR_MEMSTORE_H
#define EXPOSR_MEMSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct memstore;

struct memstore *memstore_new(void);
void memstore_free(struct memstore *store);

/* All times are monotonic milliseconds supplied by the caller; an entry whose
 * expiry has passed is gone (and is dropped when met). */

/* The value, valid until the store is next changed; NULL when absent. */
const char *memstore_get(struct memstore *store, const char *ns, const char *key, int64_t now,
                         size_t *len);
/* 0 stored, 1 present and if_absent, -1 out of memory. expires_at 0: never. */
int memstore_set(struct memstore *store, const char *ns, const char *key, const char *value,
                 size_t len, bool if_absent, int64_t expires_at, int64_t now);
/* true when it was there. */
bool memstore_del(struct memstore *store, const char *ns, const char *key, int64_t now);
/* Up to `count` keys after `cursor` (NULL or "": from the start) in key order, stored
 * through `out` (pointers valid until the store is next changed); *more tells whether
 * keys follow. */
size_t memstore_list(struct memstore *store, const char *ns, const char *cursor, size_t count,
                     int64_t now, const char **out, bool *more);

#endif
