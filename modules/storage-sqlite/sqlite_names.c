/* Where things live in the SQLite file: the path of a sqlite:// URL, the table of a
 * namespace (exposrd 0.12's naming, docs/storage.md §8.1). */
#include "sqlite_names.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sqlite_url_path(const char *url, char **path, char *error, size_t size)
{
	static const char scheme[] = "sqlite://";
	*path = NULL;
	if (strncmp(url, scheme, sizeof(scheme) - 1) != 0) {
		snprintf(error, size, "'%s' is not a sqlite:// URL", url);
		return -1;
	}
	/* exposrd takes everything after "sqlite://": a third slash makes it absolute. */
	const char *rest = url + sizeof(scheme) - 1;
	if (rest[0] == '\0' || strcmp(rest, "/") == 0) {
		snprintf(error, size,
		         "no database file in '%s' (sqlite://<relative path> or "
		         "sqlite:///<absolute path>)",
		         url);
		return -1;
	}
	if ((*path = strdup(rest)) == NULL) {
		snprintf(error, size, "out of memory");
		return -1;
	}
	return 0;
}

char *sqlite_table_name(const char *ns)
{
	size_t len = strlen(ns);
	if (len == 0)
		return NULL;
	bool digit = isdigit((unsigned char)ns[0]);
	char *out = malloc(len + (digit ? 2 : 0) + 1);
	if (out == NULL)
		return NULL;
	size_t n = 0;
	if (digit) {
		out[n++] = 't';
		out[n++] = '_';
	}
	for (size_t i = 0; i < len; i++)
		out[n++] = ns[i] == '-' ? '_' : (char)tolower((unsigned char)ns[i]);
	out[n] = '\0';
	return out;
}

char *sqlite_quote_identifier(const char *name)
{
	size_t len = strlen(name);
	char *out = malloc(2 * len + 3);
	if (out == NULL)
		return NULL;
	size_t n = 0;
	out[n++] = '"';
	for (size_t i = 0; i < len; i++) {
		if (name[i] == '"')
			out[n++] = '"';
		out[n++] = name[i];
	}
	out[n++] = '"';
	out[n] = '\0';
	return out;
}
