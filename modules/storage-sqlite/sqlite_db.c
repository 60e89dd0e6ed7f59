/* The SQLite file behind the storage interface: one table per namespace, created on
 * first use, in exposrd 0.12's layout (docs/storage.md §8.1). Every call is synchronous. */
#include "sqlite_db.h"

#include <exposr/common.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sqlite_names.h"

/* A writer in another process (an exposrd sharing the file, the sqlite3 shell) holds the
 * file only briefly; waiting beats failing the request. */
#define BUSY_TIMEOUT_MS 2000

enum table_statement {
	ST_GET,
	ST_PUT,
	ST_PUT_ABSENT,
	ST_PURGE_KEY,
	ST_DEL,
	ST_PURGE,
	ST_LIST,
	ST_COUNT,
};

/* %1$s is the quoted table name. expires_at is in epoch seconds (REAL, so that sub-second
 * TTLs hold; exposrd's integer comparisons read it alike); NULL never expires. */
static const char *const statement_sql[ST_COUNT] = {
        [ST_GET] = "SELECT value FROM %1$s WHERE key = ?1 AND (expires_at IS NULL OR "
                   "expires_at > ?2)",
        [ST_PUT] = "INSERT INTO %1$s (key, value, modified_at, expires_at) VALUES (?1, ?2, ?3, ?4) "
                   "ON CONFLICT(key) DO UPDATE SET value = excluded.value, "
                   "modified_at = excluded.modified_at, expires_at = excluded.expires_at",
        /* An expired row does not count as present: it is overwritten. */
        [ST_PUT_ABSENT] = "INSERT INTO %1$s (key, value, modified_at, expires_at) "
                          "VALUES (?1, ?2, ?3, ?4) ON CONFLICT(key) DO UPDATE SET "
                          "value = excluded.value, modified_at = excluded.modified_at, "
                          "expires_at = excluded.expires_at "
                          "WHERE %1$s.expires_at IS NOT NULL AND %1$s.expires_at <= ?5",
        [ST_PURGE_KEY] = "DELETE FROM %1$s WHERE key = ?1 AND expires_at IS NOT NULL AND "
                         "expires_at <= ?2",
        [ST_DEL] = "DELETE FROM %1$s WHERE key = ?1",
        [ST_PURGE] = "DELETE FROM %1$s WHERE expires_at IS NOT NULL AND expires_at <= ?1",
        [ST_LIST] = "SELECT key FROM %1$s WHERE key > ?1 AND (expires_at IS NULL OR "
                    "expires_at > ?2) ORDER BY key LIMIT ?3",
};

/* exposrd's schema, indexes included, so either server can open the other's file. */
static const char create_sql[] =
        "CREATE TABLE IF NOT EXISTS %1$s (key TEXT PRIMARY KEY, value BLOB, "
        "modified_at INTEGER, expires_at INTEGER NULL);"
        "CREATE INDEX IF NOT EXISTS %2$s ON %1$s (modified_at);"
        "CREATE INDEX IF NOT EXISTS %3$s ON %1$s (expires_at);";

struct sqlite_table {
	struct sqlite_table *next;
	char *ns;
	sqlite3_stmt *st[ST_COUNT];
};

struct sqlite_db {
	sqlite3 *db;
	struct sqlite_table *tables; /* namespaces used so far */
};

static double seconds(int64_t ms)
{
	return (double)ms / 1000.0;
}

static void table_free(struct sqlite_table *t)
{
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(t->st[i]);
	free(t->ns);
	free(t);
}

static char *quoted_index(const char *table, const char *column)
{
	char *name, *quoted;
	if (asprintf(&name, "idx_%s_%s", table, column) < 0)
		return NULL;
	quoted = sqlite_quote_identifier(name);
	free(name);
	return quoted;
}

static int create_table(struct sqlite_db *db, const char *table, const char *quoted)
{
	char *idx_modified = quoted_index(table, "modified_at");
	char *idx_expires = quoted_index(table, "expires_at");
	char *sql = NULL;
	int rc = EXPOSR_ERROR;
	if (idx_modified != NULL && idx_expires != NULL &&
	    asprintf(&sql, create_sql, quoted, idx_modified, idx_expires) >= 0) {
		rc = sqlite3_exec(db->db, sql, NULL, NULL, NULL) == SQLITE_OK ? EXPOSR_OK
		                                                              : EXPOSR_ERROR;
		free(sql);
	}
	free(idx_modified);
	free(idx_expires);
	return rc;
}

static int prepare_all(struct sqlite_db *db, struct sqlite_table *t, const char *quoted)
{
	for (int i = 0; i < ST_COUNT; i++) {
		char *sql;
		if (asprintf(&sql, statement_sql[i], quoted) < 0)
			return EXPOSR_ERROR;
		int rc = sqlite3_prepare_v3(db->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &t->st[i],
		                            NULL);
		free(sql);
		if (rc != SQLITE_OK)
			return EXPOSR_ERROR;
	}
	return EXPOSR_OK;
}

/* The namespace's table with its statements, created on first use. */
static struct sqlite_table *table_for(struct sqlite_db *db, const char *ns)
{
	for (struct sqlite_table *t = db->tables; t != NULL; t = t->next)
		if (strcmp(t->ns, ns) == 0)
			return t;
	char *name = sqlite_table_name(ns);
	char *quoted = name != NULL ? sqlite_quote_identifier(name) : NULL;
	struct sqlite_table *t = quoted != NULL ? calloc(1, sizeof(*t)) : NULL;
	if (t == NULL || (t->ns = strdup(ns)) == NULL || create_table(db, name, quoted) != 0 ||
	    prepare_all(db, t, quoted) != 0) {
		if (t != NULL)
			table_free(t);
		t = NULL;
	} else {
		t->next = db->tables;
		db->tables = t;
	}
	free(name);
	free(quoted);
	return t;
}

/* Runs a statement that returns no rows; the number of rows it changed, or -1. */
static int run_change(struct sqlite_db *db, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	int changes = rc == SQLITE_DONE ? sqlite3_changes(db->db) : -1;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return changes;
}

int sqlite_db_get(struct sqlite_db *db, const char *ns, const char *key, int64_t now_ms,
                  char **value, size_t *len)
{
	*value = NULL;
	*len = 0;
	struct sqlite_table *t = table_for(db, ns);
	if (t == NULL)
		return EXPOSR_ERROR;
	sqlite3_stmt *st = t->st[ST_GET];
	int status = EXPOSR_ERROR;
	if (sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_double(st, 2, seconds(now_ms)) != SQLITE_OK)
		goto done;
	int rc = sqlite3_step(st);
	if (rc == SQLITE_DONE || (rc == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_NULL)) {
		status = EXPOSR_NOT_FOUND;
	} else if (rc == SQLITE_ROW) {
		/* Copied: the row's memory is gone once the statement is reset, and the
		 * callback may well run another statement. */
		const void *bytes = sqlite3_column_blob(st, 0);
		size_t n = (size_t)sqlite3_column_bytes(st, 0);
		if ((*value = malloc(n + 1)) != NULL) {
			if (n > 0)
				memcpy(*value, bytes, n);
			(*value)[n] = '\0';
			*len = n;
			status = EXPOSR_OK;
		}
	}
done:
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return status;
}

int sqlite_db_set(struct sqlite_db *db, const char *ns, const char *key, const char *value,
                  size_t len, bool if_absent, uint64_t ttl_ms, int64_t now_ms)
{
	struct sqlite_table *t = table_for(db, ns);
	if (t == NULL || len > (size_t)INT32_MAX)
		return EXPOSR_ERROR;
	sqlite3_stmt *st = t->st[if_absent ? ST_PUT_ABSENT : ST_PUT];
	/* Bound as text, as exposrd wrote it: its reader expects a string, not a buffer. */
	int rc = sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC) |
	         sqlite3_bind_text(st, 2, value != NULL ? value : "", (int)len, SQLITE_STATIC) |
	         sqlite3_bind_int64(st, 3, now_ms / 1000) |
	         (ttl_ms > 0 ? sqlite3_bind_double(st, 4, seconds(now_ms + (int64_t)ttl_ms))
	                     : sqlite3_bind_null(st, 4));
	if (if_absent)
		rc |= sqlite3_bind_double(st, 5, seconds(now_ms));
	if (rc != SQLITE_OK) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		return EXPOSR_ERROR;
	}
	int changes = run_change(db, st);
	if (changes < 0)
		return EXPOSR_ERROR;
	return changes == 0 && if_absent ? EXPOSR_EXISTS : EXPOSR_OK;
}

int sqlite_db_del(struct sqlite_db *db, const char *ns, const char *key, int64_t now_ms)
{
	struct sqlite_table *t = table_for(db, ns);
	if (t == NULL)
		return EXPOSR_ERROR;
	/* An expired row goes first, so that deleting it reports "not found". */
	sqlite3_stmt *purge = t->st[ST_PURGE_KEY], *del = t->st[ST_DEL];
	if (sqlite3_bind_text(purge, 1, key, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_double(purge, 2, seconds(now_ms)) != SQLITE_OK ||
	    run_change(db, purge) < 0) {
		sqlite3_reset(purge);
		sqlite3_clear_bindings(purge);
		return EXPOSR_ERROR;
	}
	if (sqlite3_bind_text(del, 1, key, -1, SQLITE_STATIC) != SQLITE_OK) {
		sqlite3_clear_bindings(del);
		return EXPOSR_ERROR;
	}
	int changes = run_change(db, del);
	return changes < 0 ? EXPOSR_ERROR : changes > 0 ? EXPOSR_OK : EXPOSR_NOT_FOUND;
}

void sqlite_page_free(struct sqlite_page *page)
{
	for (size_t i = 0; i < page->count; i++)
		free(page->keys[i]);
	free(page->keys);
	free(page->next_cursor);
	memset(page, 0, sizeof(*page));
}

/* Reads up to count + 1 keys: the extra one only tells whether a next page exists, so
 * the last page says so itself instead of an empty page after it. */
static int read_page(sqlite3_stmt *st, size_t count, struct sqlite_page *page)
{
	if ((page->keys = calloc(count, sizeof(*page->keys))) == NULL)
		return EXPOSR_ERROR;
	int rc;
	bool more = false;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (page->count == count) {
			more = true;
			break;
		}
		const char *key = (const char *)sqlite3_column_text(st, 0);
		if (key == NULL || (page->keys[page->count] = strdup(key)) == NULL)
			return EXPOSR_ERROR;
		page->count++;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return EXPOSR_ERROR;
	if (more && page->count > 0 &&
	    (page->next_cursor = strdup(page->keys[page->count - 1])) == NULL)
		return EXPOSR_ERROR;
	return EXPOSR_OK;
}

int sqlite_db_list(struct sqlite_db *db, const char *ns, const char *cursor, size_t count,
                   int64_t now_ms, struct sqlite_page *page)
{
	memset(page, 0, sizeof(*page));
	struct sqlite_table *t = table_for(db, ns);
	if (t == NULL || count == 0 || count >= (size_t)INT32_MAX)
		return EXPOSR_ERROR;
	/* Expired rows are purged lazily, here: listing walks the table anyway. */
	sqlite3_stmt *purge = t->st[ST_PURGE];
	if (sqlite3_bind_double(purge, 1, seconds(now_ms)) != SQLITE_OK ||
	    run_change(db, purge) < 0)
		return EXPOSR_ERROR;
	sqlite3_stmt *st = t->st[ST_LIST];
	int status = EXPOSR_ERROR;
	if (sqlite3_bind_text(st, 1, cursor != NULL ? cursor : "", -1, SQLITE_STATIC) ==
	            SQLITE_OK &&
	    sqlite3_bind_double(st, 2, seconds(now_ms)) == SQLITE_OK &&
	    sqlite3_bind_int64(st, 3, (sqlite3_int64)count + 1) == SQLITE_OK)
		status = read_page(st, count, page);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (status != EXPOSR_OK)
		sqlite_page_free(page);
	return status;
}

static int use_wal(sqlite3 *handle, char *error, size_t size)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(handle, "PRAGMA journal_mode = WAL", -1, &st, NULL) != SQLITE_OK) {
		snprintf(error, size, "%s", sqlite3_errmsg(handle));
		return -1;
	}
	int rc = sqlite3_step(st);
	const char *mode = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
	int result = 0;
	if (mode == NULL) {
		snprintf(error, size, "%s", sqlite3_errmsg(handle));
		result = -1;
	} else if (strcmp(mode, "wal") != 0) {
		snprintf(error, size, "cannot use write-ahead logging (journal mode stays '%s')",
		         mode);
		result = -1;
	}
	sqlite3_finalize(st);
	return result;
}

struct sqlite_db *sqlite_db_open(const char *path, char *error, size_t size)
{
	struct sqlite_db *db = calloc(1, sizeof(*db));
	if (db == NULL) {
		snprintf(error, size, "out of memory");
		return NULL;
	}
	int rc = sqlite3_open_v2(path, &db->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	if (rc != SQLITE_OK) {
		snprintf(error, size, "%s",
		         db->db != NULL ? sqlite3_errmsg(db->db) : sqlite3_errstr(rc));
		goto fail;
	}
	/* The journal mode query reads the header: it also catches a file that is not a
	 * database. A read-only file would only fail at the first write. */
	if (sqlite3_extended_result_codes(db->db, 1) != SQLITE_OK ||
	    sqlite3_busy_timeout(db->db, BUSY_TIMEOUT_MS) != SQLITE_OK ||
	    use_wal(db->db, error, size) != 0)
		goto fail;
	/* With WAL, NORMAL loses no commit when the process dies (only on power loss), and
	 * spares the loop an fsync per write. */
	if (sqlite3_exec(db->db, "PRAGMA synchronous = NORMAL", NULL, NULL, NULL) != SQLITE_OK) {
		snprintf(error, size, "%s", sqlite3_errmsg(db->db));
		goto fail;
	}
	if (sqlite3_db_readonly(db->db, "main") == 1) {
		snprintf(error, size, "the file is read-only");
		goto fail;
	}
	return db;
fail:
	sqlite_db_close(db);
	return NULL;
}

void sqlite_db_close(struct sqlite_db *db)
{
	if (db == NULL)
		return;
	while (db->tables != NULL) {
		struct sqlite_table *t = db->tables;
		db->tables = t->next;
		table_free(t);
	}
	/* Every statement is finalised above, so the close cannot be refused as busy. */
	sqlite3_close(db->db);
	free(db);
}

const char *sqlite_db_error(const struct sqlite_db *db)
{
	return sqlite3_errmsg(db->db);
}
