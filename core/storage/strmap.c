/* A string-keyed hash map: FNV-1a hashes over lib/util's hash table. */
#include "strmap.h"

#include <stdlib.h>
#include <string.h>

#include "hmap.h"

struct strmap_entry {
	struct hmap_node node; /* first */
	char *key;
	void *value;
};

struct strmap {
	struct hmap table;
};

static uint64_t hash_key(const char *key)
{
	uint64_t h = 14695981039346656037ull;
	for (const unsigned char *p = (const unsigned char *)key; *p != '\0'; p++) {
		h ^= *p;
		h *= 1099511628211ull;
	}
	return h;
}

static struct strmap_entry *entry_of(struct hmap_node *node)
{
	return (struct strmap_entry *)node;
}

static void entry_free(struct strmap_entry *e)
{
	free(e->key);
	free(e);
}

struct strmap *strmap_new(void)
{
	struct strmap *map = malloc(sizeof(*map));
	if (map == NULL)
		return NULL;
	if (hmap_init(&map->table) != 0) {
		free(map);
		return NULL;
	}
	return map;
}

void strmap_free(struct strmap *map, void (*free_value)(void *value))
{
	if (map == NULL)
		return;
	struct hmap_node *node;
	while ((node = hmap_any(&map->table)) != NULL) {
		hmap_remove(&map->table, node);
		if (free_value != NULL)
			free_value(entry_of(node)->value);
		entry_free(entry_of(node));
	}
	hmap_destroy(&map->table);
	free(map);
}

static struct strmap_entry *find(const struct strmap *map, const char *key, uint64_t h)
{
	for (struct hmap_node *node = hmap_chain(&map->table, h); node != NULL; node = node->next)
		if (node->hash == h && strcmp(entry_of(node)->key, key) == 0)
			return entry_of(node);
	return NULL;
}

void *strmap_get(const struct strmap *map, const char *key)
{
	if (map == NULL || key == NULL)
		return NULL;
	struct strmap_entry *e = find(map, key, hash_key(key));
	return e != NULL ? e->value : NULL;
}

int strmap_put(struct strmap *map, const char *key, void *value)
{
	if (map == NULL || key == NULL)
		return EXPOSR_ERROR;
	uint64_t h = hash_key(key);
	struct strmap_entry *e = find(map, key, h);
	if (e != NULL) {
		e->value = value;
		return EXPOSR_OK;
	}
	e = calloc(1, sizeof(*e));
	if (e == NULL || (e->key = strdup(key)) == NULL) {
		free(e);
		return EXPOSR_ERROR;
	}
	e->value = value;
	hmap_insert(&map->table, &e->node, h);
	return EXPOSR_OK;
}

void *strmap_remove(struct strmap *map, const char *key)
{
	if (map == NULL || key == NULL)
		return NULL;
	struct strmap_entry *e = find(map, key, hash_key(key));
	if (e == NULL)
		return NULL;
	hmap_remove(&map->table, &e->node);
	void *value = e->value;
	entry_free(e);
	return value;
}

size_t strmap_count(const struct strmap *map)
{
	return map != NULL ? map->table.count : 0;
}

struct filter {
	bool (*fn)(void *arg, const char *key, void *value);
	void *arg;
};

static bool filter_entry(void *arg, struct hmap_node *node)
{
	struct filter *f = arg;
	struct strmap_entry *e = entry_of(node);
	if (!f->fn(f->arg, e->key, e->value))
		return false;
	entry_free(e);
	return true;
}

void strmap_filter(struct strmap *map, bool (*fn)(void *arg, const char *key, void *value),
                   void *arg)
{
	if (map == NULL)
		return;
	struct filter f = {fn, arg};
	hmap_filter(&map->table, filter_entry, &f);
}
