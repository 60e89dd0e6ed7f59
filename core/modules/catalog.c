/* The module catalogue: each module's descriptor, read without initialising it. */
#include "catalog.h"

#include <dirent.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct catalog_entry *)a)->name,
	              ((const struct catalog_entry *)b)->name);
}

/* Loaded lazily: nothing of the module runs, and a missing library leaves it out. */
static int add(struct catalog *c, const char *dir, const char *file, size_t *cap)
{
	size_t len = strlen(file);
	if (len <= 3 || strcmp(file + len - 3, ".so") != 0)
		return 0;
	char *path;
	if (asprintf(&path, "%s/%s", dir, file) < 0)
		return -1;
	void *dl = dlopen(path, RTLD_LAZY | RTLD_LOCAL);
	free(path);
	const struct exposr_module *d = dl != NULL ? dlsym(dl, EXPOSR_MODULE_SYMBOL) : NULL;
	if (d == NULL || d->abi_major != EXPOSR_ABI_MAJOR || d->abi_minor > EXPOSR_ABI_MINOR ||
	    d->name == NULL || strlen(d->name) != len - 3 || strncmp(d->name, file, len - 3) != 0) {
		if (dl != NULL)
			dlclose(dl);
		return 0;
	}
	if (c->count == *cap) {
		size_t n = *cap != 0 ? *cap * 2 : 16;
		struct catalog_entry *e = realloc(c->entries, n * sizeof(*e));
		if (e == NULL)
			goto fail;
		c->entries = e;
		*cap = n;
	}
	char *name = strndup(file, len - 3);
	if (name == NULL)
		goto fail;
	c->entries[c->count++] = (struct catalog_entry){.name = name, .dl = dl, .desc = d};
	return 0;
fail:
	dlclose(dl);
	return -1;
}

int catalog_scan(const char *dir, struct catalog *out)
{
	memset(out, 0, sizeof(*out));
	DIR *d = opendir(dir);
	if (d == NULL)
		return 0;
	size_t cap = 0;
	int rc = 0;
	struct dirent *e;
	while (rc == 0 && (e = readdir(d)) != NULL)
		rc = add(out, dir, e->d_name, &cap);
	closedir(d);
	if (rc != 0) {
		catalog_free(out);
		return -1;
	}
	if (out->count > 0)
		qsort(out->entries, out->count, sizeof(*out->entries), by_name);
	return 0;
}

const struct catalog_entry *catalog_find(const struct catalog *c, const char *name)
{
	for (size_t i = 0; i < c->count; i++)
		if (strcmp(c->entries[i].name, name) == 0)
			return &c->entries[i];
	return NULL;
}

const struct exposr_setting *catalog_settings(const struct exposr_module *desc)
{
	return desc->settings;
}

void catalog_free(struct catalog *c)
{
	for (size_t i = 0; i < c->count; i++) {
		free(c->entries[i].name);
		dlclose(c->entries[i].dl);
	}
	free(c->entries);
	memset(c, 0, sizeof(*c));
}
