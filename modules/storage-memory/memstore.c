/* The memory store's data structure: per namespace a sorted array of entries. */
#include "memstore.h"

#include <stdlib.h>
#include <string.h>

struct mem_entry {
	char *key;
	char *value; /* NUL-terminated copy of `len` bytes */
	size_t len;
	int64_t expires_at; /* 0: never */
};

struct mem_ns {
	char *name;
	struct mem_entry *entries;
	size_t count, cap;
	struct mem_ns *next;
};

struct memstore {
	struct mem_ns *namespaces;
};

struct memstore *memstore_new(void)
{
	return calloc(1, sizeof(struct memstore));
}

static void entry_free(struct mem_entry *e)
{
	free(e->key);
	free(e->value);
}

void memstore_free(struct memstore *store)
{
	if (store == NULL)
		return;
	while (store->namespaces != NULL) {
		struct mem_ns *ns = store->namespaces;
		store->namespaces = ns->next;
		for (size_t i = 0; i < ns->count; i++)
			entry_free(&ns->entries[i]);
		free(ns->entries);
		free(ns->name);
		free(ns);
	}
	free(store);
}

static struct mem_ns *find_ns(const struct memstore *store, const char *name)
{
	for (struct mem_ns *ns = store->namespaces; ns != NULL; ns = ns->next)
		if (strcmp(ns->name, name) == 0)
			return ns;
	return NULL;
}

static struct mem_ns *get_ns(struct memstore *store, const char *name)
{
	struct mem_ns *ns = find_ns(store, name);
	if (ns != NULL)
		return ns;
	ns = calloc(1, sizeof(*ns));
	if (ns == NULL || (ns->name = strdup(name)) == NULL) {
		free(ns);
		return NULL;
	}
	ns->next = store->namespaces;
	store->namespaces = ns;
	return ns;
}

/* The first index whose key is >= key (after: > key). */
static size_t search(const struct mem_ns *ns, const char *key, bool after)
{
	size_t lo = 0, hi = ns->count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(ns->entries[mid].key, key);
		if (c < 0 || (after && c == 0))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool expired(const struct mem_entry *e, int64_t now)
{
	return e->expires_at != 0 && e->expires_at <= now;
}

static void remove_at(struct mem_ns *ns, size_t i)
{
	entry_free(&ns->entries[i]);
	memmove(&ns->entries[i], &ns->entries[i + 1], (ns->count - i - 1) * sizeof(*ns->entries));
	ns->count--;
}

/* The index of a live entry for key, or SIZE_MAX; drops it when it has expired. */
static size_t lookup(struct mem_ns *ns, const char *key, int64_t now)
{
	if (ns == NULL)
		return SIZE_MAX;
	size_t i = search(ns, key, false);
	if (i == ns->count || strcmp(ns->entries[i].key, key) != 0)
		return SIZE_MAX;
	if (expired(&ns->entries[i], now)) {
		remove_at(ns, i);
		return SIZE_MAX;
	}
	return i;
}

const char *memstore_get(struct memstore *store, const char *ns_name, const char *key, int64_t now,
                         size_t *len)
{
	struct mem_ns *ns = find_ns(store, ns_name);
	size_t i = lookup(ns, key, now);
	if (i == SIZE_MAX)
		return NULL;
	*len = ns->entries[i].len;
	return ns->entries[i].value;
}

static char *copy_value(const char *value, size_t len)
{
	char *copy = malloc(len + 1);
	if (copy == NULL)
		return NULL;
	if (len > 0)
		memcpy(copy, value, len);
	copy[len] = '\0';
	return copy;
}

int memstore_set(struct memstore *store, const char *ns_name, const char *key, const char *value,
                 size_t len, bool if_absent, int64_t expires_at, int64_t now)
{
	struct mem_ns *ns = get_ns(store, ns_name);
	if (ns == NULL)
		return -1;
	size_t i = lookup(ns, key, now);
	if (i != SIZE_MAX && if_absent)
		return 1;
	char *copy = copy_value(value, len);
	if (copy == NULL)
		return -1;
	if (i != SIZE_MAX) {
		free(ns->entries[i].value);
		ns->entries[i].value = copy;
		ns->entries[i].len = len;
		ns->entries[i].expires_at = expires_at;
		return 0;
	}
	char *key_copy = strdup(key);
	if (key_copy == NULL) {
		free(copy);
		return -1;
	}
	if (ns->count == ns->cap) {
		size_t cap = ns->cap > 0 ? ns->cap * 2 : 16;
		struct mem_entry *entries = realloc(ns->entries, cap * sizeof(*entries));
		if (entries == NULL) {
			free(copy);
			free(key_copy);
			return -1;
		}
		ns->entries = entries;
		ns->cap = cap;
	}
	i = search(ns, key, false);
	memmove(&ns->entries[i + 1], &ns->entries[i], (ns->count - i) * sizeof(*ns->entries));
	ns->entries[i] = (struct mem_entry){
	        .key = key_copy, .value = copy, .len = len, .expires_at = expires_at};
	ns->count++;
	return 0;
}

bool memstore_del(struct memstore *store, const char *ns_name, const char *key, int64_t now)
{
	struct mem_ns *ns = find_ns(store, ns_name);
	size_t i = lookup(ns, key, now);
	if (i == SIZE_MAX)
		return false;
	remove_at(ns, i);
	return true;
}

size_t memstore_list(struct memstore *store, const char *ns_name, const char *cursor, size_t count,
                     int64_t now, const char **out, bool *more)
{
	struct mem_ns *ns = find_ns(store, ns_name);
	size_t n = 0;
	*more = false;
	if (ns == NULL)
		return 0;
	/* Resuming after the cursor key (present or not) visits each key once even when
	 * keys come and go between pages. */
	size_t i = cursor != NULL && cursor[0] != '\0' ? search(ns, cursor, true) : 0;
	while (i < ns->count && n < count) {
		if (expired(&ns->entries[i], now)) {
			remove_at(ns, i);
			continue;
		}
		out[n++] = ns->entries[i++].key;
	}
	while (i < ns->count && expired(&ns->entries[i], now))
		remove_at(ns, i);
	*more = i < ns->count;
	return n;
}
