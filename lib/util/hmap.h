/* An intrusive hash table: entries embed a struct hmap_node, the caller hashes the keys
 * and compares them while walking a chain. Chained, a power-of-two number of buckets,
 * doubling past one entry per bucket. */
#ifndef EXPOSR_UTIL_HMAP_H
#define EXPOSR_UTIL_HMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hmap_node {
	struct hmap_node *next; /* in the chain */
	uint64_t hash;
};

/* The entry that holds `node` in its member `member`. */
#define hmap_entry(node, type, member) ((type *)(void *)((char *)(node)-offsetof(type, member)))

struct hmap {
	struct hmap_node **buckets;
	size_t nbuckets;
	size_t count;
};

/* 0, or -1 when out of memory. */
int hmap_init(struct hmap *map);
/* Frees the buckets; the entries are the caller's. */
void hmap_destroy(struct hmap *map);
/* Adds `node` with `hash`. Cannot fail: a table that cannot grow keeps longer chains. */
void hmap_insert(struct hmap *map, struct hmap_node *node, uint64_t hash);
/* Removes `node`, which must be in the table. */
void hmap_remove(struct hmap *map, struct hmap_node *node);
/* The first node of the chain `hash` falls in; follow ->next, check ->hash and the key. */
struct hmap_node *hmap_chain(const struct hmap *map, uint64_t hash);
/* Any node, or NULL when the table is empty: for emptying it. */
struct hmap_node *hmap_any(const struct hmap *map);
/* Calls `fn` for every node; a node for which it returns true is taken out of the
 * table before the next call, so `fn` may free it then. `fn` must not otherwise change
 * the table. */
void hmap_filter(struct hmap *map, bool (*fn)(void *arg, struct hmap_node *node), void *arg);

#endif
