/* The intrusive hash table of hmap.h. */
#include "hmap.h"

#include <stdlib.h>

#define HMAP_INITIAL_BUCKETS 16

int hmap_init(struct hmap *map)
{
	map->buckets = calloc(HMAP_INITIAL_BUCKETS, sizeof(*map->buckets));
	map->nbuckets = map->buckets != NULL ? HMAP_INITIAL_BUCKETS : 0;
	map->count = 0;
	return map->buckets != NULL ? 0 : -1;
}

void hmap_destroy(struct hmap *map)
{
	free(map->buckets);
	map->buckets = NULL;
	map->nbuckets = map->count = 0;
}

static struct hmap_node **bucket(const struct hmap *map, uint64_t hash)
{
	return &map->buckets[hash & (map->nbuckets - 1)];
}

/* Growing is an optimisation: when it cannot allocate, the table keeps working. */
static void grow(struct hmap *map)
{
	size_t n = map->nbuckets * 2;
	struct hmap_node **buckets = calloc(n, sizeof(*buckets));
	if (buckets == NULL)
		return;
	for (size_t i = 0; i < map->nbuckets; i++) {
		struct hmap_node *node = map->buckets[i];
		while (node != NULL) {
			struct hmap_node *next = node->next;
			node->next = buckets[node->hash & (n - 1)];
			buckets[node->hash & (n - 1)] = node;
			node = next;
		}
	}
	free(map->buckets);
	map->buckets = buckets;
	map->nbuckets = n;
}

void hmap_insert(struct hmap *map, struct hmap_node *node, uint64_t hash)
{
	node->hash = hash;
	struct hmap_node **head = bucket(map, hash);
	node->next = *head;
	*head = node;
	if (++map->count > map->nbuckets)
		grow(map);
}

void hmap_remove(struct hmap *map, struct hmap_node *node)
{
	struct hmap_node **link = bucket(map, node->hash);
	while (*link != NULL && *link != node)
		link = &(*link)->next;
	if (*link == node) {
		*link = node->next;
		node->next = NULL;
		map->count--;
	}
}

struct hmap_node *hmap_chain(const struct hmap *map, uint64_t hash)
{
	return *bucket(map, hash);
}

struct hmap_node *hmap_any(const struct hmap *map)
{
	for (size_t i = 0; map->count > 0 && i < map->nbuckets; i++)
		if (map->buckets[i] != NULL)
			return map->buckets[i];
	return NULL;
}

void hmap_filter(struct hmap *map, bool (*fn)(void *arg, struct hmap_node *node), void *arg)
{
	for (size_t i = 0; i < map->nbuckets; i++) {
		struct hmap_node **link = &map->buckets[i];
		while (*link != NULL) {
			struct hmap_node *node = *link, *next = node->next;
			if (fn(arg, node)) {
				*link = next;
				map->count--;
			} else {
				link = &node->next;
			}
		}
	}
}
