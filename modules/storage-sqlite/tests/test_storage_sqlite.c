/* storage-sqlite as exposrd loads it (the core's loader and host table), on a file in a
 * temporary directory: the storage contract, exposrd 0.12's tables and columns, files
 * exposrd wrote, restarts, and the files it cannot use. */
#include <criterion/criterion.h>
#include <event2/event.h>
#include <sqlite3.h>
#include <time.h>
#include <unistd.h>

#include "cfg.h"
#include "host_table.h"
#include "loader.h"
#include "module_load.h"
#include "registry_table.h"
#include "storage_contract.h"

static struct event_base *base;
static const struct exposr_host *host;
static struct exposr_cfg *root;
static struct storage_ut s;
static char dir[64];
static char db_path[128];

static void setup(void)
{
	base = event_base_new();
	cr_assert_not_null(base);
	host = host_table(base);
	memset(&s, 0, sizeof(s));
	root = NULL;
	snprintf(dir, sizeof(dir), "/tmp/exposr-sqlite-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(db_path, sizeof(db_path), "%s/exposr.db", dir);
}

static void teardown(void)
{
	loader_fini_all();
	cfg_free(root);
	root = NULL;
	event_base_free(base);
	char command[128];
	snprintf(command, sizeof(command), "rm -rf '%s'", dir);
	if (system(command) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}

TestSuite(storage_sqlite, .init = setup, .fini = teardown, .timeout = 60);

/* Loads and starts the module with `settings` (YAML lines under storage-sqlite:); returns
 * what it printed. */
static char *load(const char *settings, int *rc)
{
	char *printed =
	        module_load(host, "storage-sqlite", STORAGE_SQLITE_MODULE, settings, &root, rc);
	if (*rc == EXPOSR_OK) {
		const struct exposr_registry_entry *e =
		        registry_find(EXPOSR_KIND_STORAGE, "sqlite");
		cr_assert_not_null(e);
		s.vt = e->vtable;
		s.self = e->instance;
		s.base = base;
		s.pages_bounded = true;
	}
	return printed;
}

static void start_on(const char *url)
{
	char settings[256];
	snprintf(settings, sizeof(settings), "    url: %s\n", url);
	int rc;
	char *printed = load(settings, &rc);
	cr_assert_eq(rc, EXPOSR_OK, "%s", printed);
	free(printed);
}

static void start(void)
{
	char url[160];
	snprintf(url, sizeof(url), "sqlite://%s", db_path);
	start_on(url);
}

/* A second connection to the file, as the sqlite3 shell would open it. */
static sqlite3 *peek(void)
{
	sqlite3 *db;
	cr_assert_eq(
	        sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL),
	        SQLITE_OK);
	return db;
}

/* The first column of the first row of `sql` as text, or NULL; caller frees. */
static char *peek_text(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK, "%s: %s", sql,
	             sqlite3_errmsg(db));
	char *out = NULL;
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		out = strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return out;
}

static void peek_exec(sqlite3 *db, const char *sql)
{
	char *error = NULL;
	cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, &error), SQLITE_OK, "%s: %s", sql, error);
}

static void expect_text(sqlite3 *db, const char *sql, const char *expected)
{
	char *v = peek_text(db, sql);
	cr_assert_not_null(v, "%s: no row", sql);
	cr_assert_str_eq(v, expected, "%s", sql);
	free(v);
}

Test(storage_sqlite, get_set_if_absent_delete)
{
	start();
	st_contract_basics(&s);
}

Test(storage_sqlite, ttl_with_expires_at)
{
	start();
	st_contract_ttl(&s);
}

Test(storage_sqlite, listing_visits_every_key_once)
{
	start();
	st_contract_listing(&s);
}

Test(storage_sqlite, namespaces_are_separate)
{
	start();
	st_contract_namespaces(&s);
}

Test(storage_sqlite, values_are_byte_exact)
{
	start();
	st_contract_bytes(&s);
}

Test(storage_sqlite, calls_complete_before_returning_and_need_no_lock)
{
	start();
	cr_assert_null(s.vt->lock);
	cr_assert_null(s.vt->unlock);
	struct st_result r = {0};
	s.vt->set(s.self, "tunnel", "t", "{}", 2, 0, 0, st_on_done, &r);
	cr_assert_eq(r.calls, 1);
	cr_assert_eq(r.status, EXPOSR_OK);
	memset(&r, 0, sizeof(r));
	s.vt->get(s.self, "tunnel", "t", st_on_get, &r);
	cr_assert_eq(r.calls, 1);
	st_result_free(&r);
}

/* The cursor is the last key; the last page says it is the last. */
Test(storage_sqlite, pages_in_key_order)
{
	start();
	char key[16];
	for (int i = 19; i >= 0; i--) {
		snprintf(key, sizeof(key), "k%02d", i);
		cr_assert_eq(st_set(&s, "tunnel", key, "{}", 0, 0), EXPOSR_OK);
	}
	struct st_result page;
	cr_assert_eq(st_list(&s, "tunnel", "", 10, &page), EXPOSR_OK);
	cr_assert_eq(page.count, 10);
	cr_assert_str_eq(page.keys[0], "k00");
	cr_assert_str_eq(page.keys[9], "k09");
	cr_assert_str_eq(page.cursor, "k09");
	st_result_free(&page);
	cr_assert_eq(st_list(&s, "tunnel", "k09", 10, &page), EXPOSR_OK);
	cr_assert_eq(page.count, 10);
	cr_assert_str_eq(page.keys[0], "k10");
	cr_assert_null(page.cursor);
	st_result_free(&page);
	cr_assert_eq(st_list(&s, "tunnel", "k05", 0, &page), EXPOSR_OK);
	cr_assert_eq(page.count, 10, "count 0 takes the default page");
	cr_assert_str_eq(page.keys[0], "k06");
	st_result_free(&page);
}

/* docs/storage.md §8.1: one table per namespace, exposrd's names, columns and journal. */
Test(storage_sqlite, tables_and_columns_of_exposrd)
{
	start();
	st_contract_namespaces(&s);
	cr_assert_eq(st_set(&s, "1abc", "x", "{}", 0, 0), EXPOSR_OK);
	cr_assert_eq(st_set(&s, "tunnel", "ttl", "{}", 0, 60000), EXPOSR_OK);
	sqlite3 *db = peek();
	expect_text(db,
	            "SELECT group_concat(name, ',') FROM (SELECT name FROM sqlite_master "
	            "WHERE type = 'table' ORDER BY name)",
	            "account,ingress_altnames,t_1abc,tunnel");
	expect_text(db,
	            "SELECT group_concat(name || ':' || type || ':' || pk, ',') FROM "
	            "pragma_table_info('tunnel')",
	            "key:TEXT:1,value:BLOB:0,modified_at:INTEGER:0,expires_at:INTEGER:0");
	expect_text(db,
	            "SELECT group_concat(name, ',') FROM (SELECT name FROM sqlite_master "
	            "WHERE type = 'index' AND tbl_name = 'ingress_altnames' AND sql IS NOT NULL "
	            "ORDER BY name)",
	            "idx_ingress_altnames_expires_at,idx_ingress_altnames_modified_at");
	expect_text(db, "PRAGMA journal_mode", "wal");
	/* Values are text, as exposrd binds them; times are epoch seconds. */
	expect_text(db, "SELECT typeof(value) FROM account WHERE key = 'MNF4P6Y6M2MRRVCT'", "text");
	expect_text(db, "SELECT value FROM account WHERE key = 'MNF4P6Y6M2MRRVCT'", "{\"a\":1}");
	expect_text(db,
	            "SELECT abs(modified_at - unixepoch()) <= 5 AND expires_at IS NULL FROM "
	            "account WHERE key = 'MNF4P6Y6M2MRRVCT'",
	            "1");
	expect_text(
	        db,
	        "SELECT expires_at - unixepoch() BETWEEN 55 AND 61 FROM tunnel WHERE key = 'ttl'",
	        "1");
	sqlite3_close(db);
}

/* A file exposrd 0.12 wrote (its SQL, integer expiry) reads the same here. */
Test(storage_sqlite, reads_a_file_exposrd_wrote)
{
	sqlite3 *db = peek();
	peek_exec(db, "PRAGMA journal_mode = WAL;"
	              "CREATE TABLE IF NOT EXISTS tunnel (key TEXT PRIMARY KEY, value BLOB, "
	              "modified_at INTEGER, expires_at INTEGER NULL);"
	              "INSERT INTO tunnel VALUES ('t1', '{\"id\":\"t1\"}', unixepoch(), NULL);"
	              "INSERT INTO tunnel VALUES ('gone', '{}', unixepoch() - 10, unixepoch() - 5);"
	              "INSERT INTO tunnel VALUES ('later', '{}', unixepoch(), unixepoch() + 100);");
	sqlite3_close(db);
	start();
	char *v = st_value(&s, "tunnel", "t1");
	cr_assert_str_eq(v, "{\"id\":\"t1\"}");
	free(v);
	struct st_result r;
	cr_assert_eq(st_get(&s, "tunnel", "gone", &r), EXPOSR_NOT_FOUND);
	const char *const alive[] = {"t1", "later"};
	st_expect_listing(&s, "tunnel", 10, alive, 2);
	/* Listing purged the expired row. */
	db = peek();
	expect_text(db, "SELECT count(*) FROM tunnel", "2");
	sqlite3_close(db);
}

Test(storage_sqlite, data_survives_a_restart)
{
	start();
	cr_assert_eq(st_set(&s, "account", "A", "{\"kept\":1}", 0, 0), EXPOSR_OK);
	loader_fini_all();
	start();
	char *v = st_value(&s, "account", "A");
	cr_assert_str_eq(v, "{\"kept\":1}");
	free(v);
}

Test(storage_sqlite, relative_path_is_relative_to_the_working_directory)
{
	cr_assert_eq(chdir(dir), 0);
	start_on("sqlite://relative.db");
	cr_assert_eq(st_set(&s, "account", "A", "{}", 0, 0), EXPOSR_OK);
	char path[160];
	snprintf(path, sizeof(path), "%s/relative.db", dir);
	cr_assert_eq(access(path, F_OK), 0);
}

Test(storage_sqlite, unusable_files_fail_the_start)
{
	int rc;
	char *printed = load("    url: sqlite:///nonexistent-dir/x.db\n", &rc);
	cr_assert_eq(rc, EXPOSR_ERROR);
	cr_assert(strstr(printed, "[storage-sqlite] cannot open sqlite:///nonexistent-dir/x.db "
	                          "(/nonexistent-dir/x.db): unable to open database file") != NULL,
	          "%s", printed);
	free(printed);
	loader_fini_all();

	FILE *junk = fopen(db_path, "w");
	cr_assert_not_null(junk);
	for (int i = 0; i < 200; i++)
		fputs("this is not a database file. ", junk);
	fclose(junk);
	char settings[192];
	snprintf(settings, sizeof(settings), "    url: sqlite://%s\n", db_path);
	printed = load(settings, &rc);
	cr_assert_eq(rc, EXPOSR_ERROR);
	cr_assert(strstr(printed, "file is not a database") != NULL, "%s", printed);
	free(printed);
}

Test(storage_sqlite, bad_settings_fail_the_init)
{
	static const char *const cases[][2] = {
	        {"    enabled: true\n", "modules.storage-sqlite.url: is required"},
	        {"    url: sqlite://\n", "no database file"},
	        {"    url: memory://\n", "is not a sqlite:// URL"},
	        {"    url: sqlite://x.db\n    pool: 3\n",
	         "modules.storage-sqlite.pool: unknown key"},
	};
	expect_settings_refused(load, cases, sizeof(cases) / sizeof(cases[0]));
}
