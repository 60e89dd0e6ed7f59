/* A string-keyed hash map: FNV-1a, separate chaining, doubling past one entry per bucket. */
#include "strmap.h"

#include <stdlib.h>
#include <string.h>

struct strmap_entry {
	char *key;
	void *value;
	uint64_t hash;
	struct strmap_entry *next;
};

struct strmap {
	struct strmap_entry **buckets;
	size_t nbuckets; /* a power of two */
	size_t count;
};

#define STRMAP_INITIAL_BUCKETS 16

static uint64_t hash_key(const char *key)
{
	uint64_t h = 14695981039346656037ull;
	for (const unsigned char *p = (const unsigned char *)key; *p != '\0'; p++) {
		h ^= *p;
		h *= 1099511628211ull;
	}
	return h;
}

struct strmap *strmap_new(void)
{
	struct strmap *map = calloc(1, sizeof(*map));
	if (map == NULL)
		return NULL;
	map->buckets = calloc(STRMAP_INITIAL_BUCKETS, sizeof(*map->buckets));
	if (map->buckets == NULL) {
		free(map);
		return NULL;
	}
	map->nbuckets = STRMAP_INITIAL_BUCKETS;
	return map;
}

void strmap_free(struct strmap *map, void (*free_value)(void *value))
{
	if (map == NULL)
		return;
	for (size_t i = 0; i < map->nbuckets; i++) {
		struct strmap_entry *e = map->buckets[i];
		while (e != NULL) {
			struct strmap_entry *next = e->next;
			if (free_value != NULL)
				free_value(e->value);
			free(e->key);
			free(e);
			e = next;
		}
	}
	free(map->buckets);
	free(map);
}

static struct strmap_entry **find_link(const struct strmap *map, const char *key, uint64_t h)
{
	struct strmap_entry **link = &map->buckets[h & (map->nbuckets - 1)];
	while (*link != NULL && ((*link)->hash != h || strcmp((*link)->key, key) != 0))
		link = &(*link)->next;
	return link;
}

void *strmap_get(const struct strmap *map, const char *key)
{
	if (map == NULL || key == NULL)
		return NULL;
	struct strmap_entry *e = *find_link(map, key, hash_key(key));
	return e != NULL ? e->value : NULL;
}

/* Growing is an optimisation: when it cannot allocate, the map keeps working. */
static void grow(struct strmap *map)
{
	size_t n = map->nbuckets * 2;
	struct strmap_entry **buckets = calloc(n, sizeof(*buckets));
	if (buckets == NULL)
		return;
	for (size_t i = 0; i < map->nbuckets; i++) {
		struct strmap_entry *e = map->buckets[i];
		while (e != NULL) {
			struct strmap_entry *next = e->next;
			e->next = buckets[e->hash & (n - 1)];
			buckets[e->hash & (n - 1)] = e;
			e = next;
		}
	}
	free(map->buckets);
	map->buckets = buckets;
	map->nbuckets = n;
}

int strmap_put(struct strmap *map, const char *key, void *value)
{
	if (map == NULL || key == NULL)
		return EXPOSR_ERROR;
	uint64_t h = hash_key(key);
	struct strmap_entry **link = find_link(map, key, h);
	if (*link != NULL) {
		(*link)->value = value;
		return EXPOSR_OK;
	}
	struct strmap_entry *e = calloc(1, sizeof(*e));
	if (e == NULL || (e->key = strdup(key)) == NULL) {
		free(e);
		return EXPOSR_ERROR;
	}
	e->value = value;
	e->hash = h;
	*link = e;
	if (++map->count > map->nbuckets)
		grow(map);
	return EXPOSR_OK;
}

void *strmap_remove(struct strmap *map, const char *key)
{
	if (map == NULL || key == NULL)
		return NULL;
	struct strmap_entry **link = find_link(map, key, hash_key(key));
	struct strmap_entry *e = *link;
	if (e == NULL)
		return NULL;
	*link = e->next;
	void *value = e->value;
	free(e->key);
	free(e);
	map->count--;
	return value;
}

size_t strmap_count(const struct strmap *map)
{
	return map != NULL ? map->count : 0;
}

void strmap_filter(struct strmap *map, bool (*fn)(void *arg, const char *key, void *value),
                   void *arg)
{
	if (map == NULL)
		return;
	for (size_t i = 0; i < map->nbuckets; i++) {
		struct strmap_entry **link = &map->buckets[i];
		while (*link != NULL) {
			struct strmap_entry *e = *link;
			if (!fn(arg, e->key, e->value)) {
				link = &e->next;
				continue;
			}
			*link = e->next;
			free(e->key);
			free(e);
			map->count--;
		}
	}
}
