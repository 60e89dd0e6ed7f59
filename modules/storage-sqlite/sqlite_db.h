/* The SQLite file behind the storage interface: one table per namespace, created on
 * first use, in exposrd 0.12's layout (docs/storage.md §8.1). Every call is synchronous. */
#ifndef EXPOSR_STORAGE_SQLITE_DB_H
#define EXPOSR_STORAGE_SQLITE_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sqlite_db;

/* Opens (creating it if needed) the file at `path` in WAL mode. NULL with a reason in
 * `error` when it cannot be opened or is not a database. */
struct sqlite_db *sqlite_db_open(const char *path, char *error, size_t error_size);
void sqlite_db_close(struct sqlite_db *db);
/* SQLite's message for the last failed call. */
const char *sqlite_db_error(const struct sqlite_db *db);

/* Times are wall-clock epoch milliseconds: the file stores epoch seconds, as exposrd. */

/* EXPOSR_OK with a malloc'ed, NUL-terminated copy in *value, EXPOSR_NOT_FOUND or
 * EXPOSR_ERROR. */
int sqlite_db_get(struct sqlite_db *db, const char *ns, const char *key, int64_t now_ms,
                  char **value, size_t *len);
/* EXPOSR_OK, EXPOSR_EXISTS (if_absent and a live row is there) or EXPOSR_ERROR. */
int sqlite_db_set(struct sqlite_db *db, const char *ns, const char *key, const char *value,
                  size_t len, bool if_absent, uint64_t ttl_ms, int64_t now_ms);
/* EXPOSR_OK, EXPOSR_NOT_FOUND or EXPOSR_ERROR. */
int sqlite_db_del(struct sqlite_db *db, const char *ns, const char *key, int64_t now_ms);

/* One page of keys after `cursor` (NULL or "" for the first), in key order. */
struct sqlite_page {
	char **keys;
	size_t count;
	char *next_cursor; /* the last key, NULL when no key follows */
};
int sqlite_db_list(struct sqlite_db *db, const char *ns, const char *cursor, size_t count,
                   int64_t now_ms, struct sqlite_page *page);
void sqlite_page_free(struct sqlite_page *page);

#endif
