/* storage-sqlite: single-node persistent storage in one SQLite file, in exposrd 0.12's
 * layout (docs/storage.md §8.1). SQLite is local and fast, so every call completes (and
 * calls back) before it returns. */
#include <exposr/module.h>
#include <exposr/storage.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sqlite_db.h"
#include "sqlite_names.h"

/* As storage-memory: a page never holds more keys than this, whatever is asked. */
#define SQLITE_MAX_PAGE     10000
#define SQLITE_DEFAULT_PAGE 10

struct sqlite_store {
	const struct exposr_host *host;
	struct exposr_module_handle *mod;
	char *url;
	char *path;
	struct sqlite_db *db; /* NULL until started: calls fail */
};

/* Wall-clock: the file holds epoch seconds that exposrd (and a restart) must read alike. */
static int64_t now_ms(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void log_failure(struct sqlite_store *s, const char *what, const char *ns)
{
	s->host->log(s->mod, EXPOSR_LOG_WARN, "%s in %s failed: %s", what, ns,
	             sqlite_db_error(s->db));
}

static void sqlite_get(void *self, const char *ns, const char *key, exposr_storage_get_cb cb,
                       void *arg)
{
	struct sqlite_store *s = self;
	char *value = NULL;
	size_t len = 0;
	int status = EXPOSR_ERROR;
	if (s->db != NULL && ns != NULL && key != NULL) {
		status = sqlite_db_get(s->db, ns, key, now_ms(), &value, &len);
		if (status == EXPOSR_ERROR)
			log_failure(s, "reading", ns);
	}
	cb(arg, status, value, len);
	free(value);
}

static void sqlite_set(void *self, const char *ns, const char *key, const char *value, size_t len,
                       unsigned flags, uint64_t ttl_ms, exposr_storage_done_cb cb, void *arg)
{
	struct sqlite_store *s = self;
	int status = EXPOSR_ERROR;
	if (s->db != NULL && ns != NULL && key != NULL && (value != NULL || len == 0)) {
		status = sqlite_db_set(s->db, ns, key, value, len,
		                       (flags & EXPOSR_STORAGE_IF_ABSENT) != 0, ttl_ms, now_ms());
		if (status == EXPOSR_ERROR)
			log_failure(s, "writing", ns);
	}
	cb(arg, status);
}

static void sqlite_del(void *self, const char *ns, const char *key, exposr_storage_done_cb cb,
                       void *arg)
{
	struct sqlite_store *s = self;
	int status = EXPOSR_ERROR;
	if (s->db != NULL && ns != NULL && key != NULL) {
		status = sqlite_db_del(s->db, ns, key, now_ms());
		if (status == EXPOSR_ERROR)
			log_failure(s, "deleting", ns);
	}
	cb(arg, status);
}

static void sqlite_list(void *self, const char *ns, const char *cursor, size_t count,
                        exposr_storage_list_cb cb, void *arg)
{
	struct sqlite_store *s = self;
	struct sqlite_page page = {0};
	int status = EXPOSR_ERROR;
	if (count == 0)
		count = SQLITE_DEFAULT_PAGE;
	if (count > SQLITE_MAX_PAGE)
		count = SQLITE_MAX_PAGE;
	if (s->db != NULL && ns != NULL) {
		status = sqlite_db_list(s->db, ns, cursor, count, now_ms(), &page);
		if (status == EXPOSR_ERROR)
			log_failure(s, "listing", ns);
	}
	if (status == EXPOSR_OK)
		cb(arg, status, (const char *const *)page.keys, page.count, page.next_cursor);
	else
		cb(arg, status, NULL, 0, NULL);
	sqlite_page_free(&page);
}

/* No lock: one process owns the file (SQLite is refused in a cluster), and the core
 * serialises its own read-modify-writes. */
static const struct exposr_storage_vtable sqlite_vtable = {
        .size = sizeof(struct exposr_storage_vtable),
        .get = sqlite_get,
        .set = sqlite_set,
        .del = sqlite_del,
        .list = sqlite_list,
};

static void sqlite_fini(void *state)
{
	struct sqlite_store *s = state;
	if (s == NULL)
		return;
	sqlite_db_close(s->db);
	free(s->path);
	free(s->url);
	free(s);
}

/* --storage-url sqlite://... sets `url` (the core picks the module by the scheme). It is
 * required, with a message of this module's own. */
static const struct exposr_setting sqlite_settings[] = {
        {.key = "url",
         .type = EXPOSR_SETTING_STRING,
         .value_name = "URL",
         .def_help = "none: required",
         .help = "sqlite://<relative path> or sqlite:///<absolute path>"},
        {0},
};

static int read_settings(struct sqlite_store *s, const struct exposr_cfg *cfg)
{
	const struct exposr_config_api *c = s->host->config;
	const char *url;
	if (c->read(cfg, sqlite_settings, &url) != EXPOSR_OK)
		return EXPOSR_ERROR;
	if (url == NULL) {
		if (cfg != NULL)
			c->error(cfg, "url",
			         "is required: sqlite://<relative path> or "
			         "sqlite:///<absolute path>");
		else
			s->host->log(s->mod, EXPOSR_LOG_ERROR,
			             "url is required: sqlite://<relative path> or "
			             "sqlite:///<absolute path>");
		return EXPOSR_ERROR;
	}
	char reason[256];
	if (sqlite_url_path(url, &s->path, reason, sizeof(reason)) != 0) {
		c->error(c->child(cfg, "url"), NULL, "%s", reason);
		return EXPOSR_ERROR;
	}
	return (s->url = strdup(url)) != NULL ? EXPOSR_OK : EXPOSR_ERROR;
}

static int sqlite_init(const struct exposr_host *host, struct exposr_module_handle *mod,
                       const struct exposr_cfg *cfg, void **state)
{
	struct sqlite_store *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return EXPOSR_ERROR;
	s->host = host;
	s->mod = mod;
	if (read_settings(s, cfg) != EXPOSR_OK ||
	    host->registry->add_storage(mod, "sqlite", &sqlite_vtable, s) != EXPOSR_OK) {
		sqlite_fini(s);
		return EXPOSR_ERROR;
	}
	*state = s;
	return EXPOSR_OK;
}

static int sqlite_start(void *state)
{
	struct sqlite_store *s = state;
	char reason[256];
	if ((s->db = sqlite_db_open(s->path, reason, sizeof(reason))) == NULL) {
		s->host->log(s->mod, EXPOSR_LOG_ERROR, "cannot open %s (%s): %s", s->url, s->path,
		             reason);
		return EXPOSR_ERROR;
	}
	s->host->log(s->mod, EXPOSR_LOG_INFO, "storage in %s", s->path);
	return EXPOSR_OK;
}

/* No stop hook: the modules that drain still read and write their records. */
EXPOSR_MODULE_DEFINE(.name = "storage-sqlite", .version = "1.0",
                     .description = "SQLite storage in one file (single node)", .init = sqlite_init,
                     .start = sqlite_start, .fini = sqlite_fini, .settings = sqlite_settings);
