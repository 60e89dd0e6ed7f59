/* Where things live in the SQLite file: the path of a sqlite:// URL, the table of a
 * namespace (exposrd 0.12's naming, docs/storage.md §8.1). */
#ifndef EXPOSR_STORAGE_SQLITE_NAMES_H
#define EXPOSR_STORAGE_SQLITE_NAMES_H

#include <stddef.h>

/* sqlite://relative/path or sqlite:///absolute/path: 0 and a malloc'ed path, or -1 with a
 * reason in `error`. */
int sqlite_url_path(const char *url, char **path, char *error, size_t error_size);

/* The table of namespace `ns`: lower-case, '-' -> '_', "t_" in front of a leading digit
 * ("ingress-altnames" -> "ingress_altnames"). Malloc'ed; NULL for an empty namespace or
 * when out of memory. */
char *sqlite_table_name(const char *ns);

/* `name` as a double-quoted SQL identifier. Malloc'ed; NULL when out of memory. */
char *sqlite_quote_identifier(const char *name);

#endif
