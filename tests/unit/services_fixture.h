/* Test fixture for the account and tunnel services: the real storage-memory module,
 * optionally behind a wrapper that delivers every storage callback later from the
 * event loop (in a shuffled order), plus a fake transport and helpers that wait. */
#ifndef EXPOSR_TEST_SERVICES_FIXTURE_H
#define EXPOSR_TEST_SERVICES_FIXTURE_H

#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <event2/event.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cfg.h"
#include "host_table.h"
#include "ids.h"
#include "loader.h"
#include "records.h"
#include "registry_table.h"
#include "services.h"
#include "store.h"
#include "tunnel_state.h"

static struct event_base *fx_base;
static struct exposr_cfg *fx_root;
static bool fx_deferred;

/* ---- the deferring storage wrapper ---- */

struct fx_inner {
	const struct exposr_storage_vtable *vt;
	void *self;
};

static struct fx_inner fx_inner;
static int fx_outstanding; /* answers not delivered yet */

struct fx_call {
	int kind; /* 0 get, 1 done, 2 list */
	int status;
	char *value;
	size_t len;
	char **keys;
	size_t count;
	char *next;
	exposr_storage_get_cb get_cb;
	exposr_storage_done_cb done_cb;
	exposr_storage_list_cb list_cb;
	void *arg;
};

static inline void fx_deliver(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct fx_call *c = arg;
	fx_outstanding--;
	if (c->kind == 0)
		c->get_cb(c->arg, c->status, c->value, c->len);
	else if (c->kind == 1)
		c->done_cb(c->arg, c->status);
	else
		c->list_cb(c->arg, c->status, (const char *const *)c->keys, c->count, c->next);
	free(c->value);
	for (size_t i = 0; i < c->count; i++)
		free(c->keys[i]);
	free(c->keys);
	free(c->next);
	free(c);
}

/* A delay of 0-2 ms, so answers come back in another order than the calls. */
static inline void fx_defer(struct fx_call *c)
{
	struct timeval tv = {0, (rand() % 3) * 1000};
	fx_outstanding++;
	cr_assert_eq(event_base_once(fx_base, -1, EV_TIMEOUT, fx_deliver, c, &tv), 0);
}

static inline struct fx_call *fx_call_new(int kind, void *arg)
{
	struct fx_call *c = calloc(1, sizeof(*c));
	cr_assert_not_null(c);
	c->kind = kind;
	c->arg = arg;
	return c;
}

static inline void fx_got(void *arg, int status, const char *value, size_t len)
{
	struct fx_call *c = arg;
	c->status = status;
	if (value != NULL) {
		c->value = malloc(len + 1);
		cr_assert_not_null(c->value);
		memcpy(c->value, value, len);
		c->value[len] = '\0';
		c->len = len;
	}
}

static inline void fx_done(void *arg, int status)
{
	((struct fx_call *)arg)->status = status;
}

static inline void fx_listed(void *arg, int status, const char *const *keys, size_t count,
                             const char *next)
{
	struct fx_call *c = arg;
	c->status = status;
	c->keys = calloc(count + 1, sizeof(*c->keys));
	cr_assert_not_null(c->keys);
	for (size_t i = 0; i < count; i++)
		c->keys[i] = strdup(keys[i]);
	c->count = count;
	c->next = next != NULL ? strdup(next) : NULL;
}

static inline void fx_get(void *self, const char *ns, const char *key, exposr_storage_get_cb cb,
                          void *arg)
{
	(void)self;
	struct fx_call *c = fx_call_new(0, arg);
	c->get_cb = cb;
	fx_inner.vt->get(fx_inner.self, ns, key, fx_got, c);
	fx_defer(c);
}

static inline void fx_set(void *self, const char *ns, const char *key, const char *value,
                          size_t len, unsigned flags, uint64_t ttl, exposr_storage_done_cb cb,
                          void *arg)
{
	(void)self;
	struct fx_call *c = fx_call_new(1, arg);
	c->done_cb = cb;
	fx_inner.vt->set(fx_inner.self, ns, key, value, len, flags, ttl, fx_done, c);
	fx_defer(c);
}

static inline void fx_del(void *self, const char *ns, const char *key, exposr_storage_done_cb cb,
                          void *arg)
{
	(void)self;
	struct fx_call *c = fx_call_new(1, arg);
	c->done_cb = cb;
	fx_inner.vt->del(fx_inner.self, ns, key, fx_done, c);
	fx_defer(c);
}

static inline void fx_list(void *self, const char *ns, const char *cursor, size_t count,
                           exposr_storage_list_cb cb, void *arg)
{
	(void)self;
	struct fx_call *c = fx_call_new(2, arg);
	c->list_cb = cb;
	fx_inner.vt->list(fx_inner.self, ns, cursor, count, fx_listed, c);
	fx_defer(c);
}

static const struct exposr_storage_vtable fx_deferred_vt = {
        .size = sizeof(struct exposr_storage_vtable),
        .get = fx_get,
        .set = fx_set,
        .del = fx_del,
        .list = fx_list,
};

/* ---- setup ---- */

static inline void fx_load_memory_module(const struct exposr_host *host)
{
	char bin[1024];
	snprintf(bin, sizeof(bin), "%s", EXPOSRD_BIN);
	char path[1200];
	snprintf(path, sizeof(path), "%s/modules/storage-memory.so", dirname(bin));
	cr_assert_eq(loader_init_one(host, "storage-memory", path, NULL), EXPOSR_OK,
	             "cannot load %s", path);
}

static inline void fx_setup(bool deferred)
{
	/* FX_SEED varies the order in which deferred answers arrive. */
	const char *seed = getenv("FX_SEED");
	srand(seed != NULL ? (unsigned)strtoul(seed, NULL, 10) : 1);
	fx_deferred = deferred;
	fx_base = event_base_new();
	cr_assert_not_null(fx_base);
	const struct exposr_host *host = host_table(fx_base);
	fx_root = cfg_new_root();
	cr_assert_not_null(fx_root);
	cr_assert_eq(services_configure(fx_root), EXPOSR_OK);
	fx_load_memory_module(host);
	const struct exposr_registry_entry *mem = registry_find(EXPOSR_KIND_STORAGE, "memory");
	cr_assert_not_null(mem);
	fx_inner.vt = mem->vtable;
	fx_inner.self = mem->instance;
	cr_assert_eq(services_start(), EXPOSR_OK);
	/* The wrapper stands in for the one storage the registry allows. */
	if (deferred)
		store_use(&fx_deferred_vt, NULL);
}

static inline void fx_setup_sync(void)
{
	fx_setup(false);
}

static inline void fx_setup_async(void)
{
	fx_setup(true);
}

static inline void fx_teardown(void)
{
	/* Answers still on their way are delivered before anything is freed. */
	while (fx_outstanding > 0 && event_base_loop(fx_base, EVLOOP_ONCE) == 0)
		;
	loader_fini_all();
	registry_remove_module(NULL);
	services_free();
	cfg_free(fx_root);
	event_base_free(fx_base);
}

/* Both suites run every test: once with answers in the call, once later. */
#define FX_SUITES(name)                                                                            \
	TestSuite(name##_sync, .init = fx_setup_sync, .fini = fx_teardown);                        \
	TestSuite(name##_async, .init = fx_setup_async, .fini = fx_teardown)

#define FX_TEST(suite, name)                                                                       \
	static void name(void);                                                                    \
	Test(suite##_sync, name)                                                                   \
	{                                                                                          \
		name();                                                                            \
	}                                                                                          \
	Test(suite##_async, name)                                                                  \
	{                                                                                          \
		name();                                                                            \
	}                                                                                          \
	static void name(void)

/* ---- waiting ---- */

static inline void fx_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
}

/* Runs the loop until *flag is set or `ms` have passed. */
static inline bool fx_wait_ms(const bool *flag, int64_t ms)
{
	/* A short repeating event, so the loop never blocks on a long timer alone. */
	struct event *tick = event_new(fx_base, -1, EV_PERSIST, fx_tick, NULL);
	struct timeval tv = {0, 5000};
	cr_assert_not_null(tick);
	cr_assert_eq(event_add(tick, &tv), 0);
	int64_t deadline = ids_now_ms() + ms;
	while (!*flag && ids_now_ms() < deadline)
		event_base_loop(fx_base, EVLOOP_ONCE);
	event_free(tick);
	return *flag;
}

static inline void fx_wait(const bool *flag)
{
	cr_assert(fx_wait_ms(flag, 5000), "timed out waiting for a callback");
}

/* ---- results ---- */

struct fx_result {
	bool done;
	int status;
	cJSON *record;
	char *text;
	char *next;
};

static inline void fx_result_free(struct fx_result *r)
{
	cJSON_Delete(r->record);
	free(r->text);
	free(r->next);
	memset(r, 0, sizeof(*r));
}

static inline void fx_on_record(void *arg, int status, const cJSON *record)
{
	struct fx_result *r = arg;
	cr_assert(!r->done, "callback ran twice");
	r->done = true;
	r->status = status;
	r->record = record != NULL ? cJSON_Duplicate(record, true) : NULL;
}

static inline void fx_on_done(void *arg, int status)
{
	struct fx_result *r = arg;
	cr_assert(!r->done, "callback ran twice");
	r->done = true;
	r->status = status;
}

static inline void fx_on_page(void *arg, int status, const cJSON *items, const char *next)
{
	struct fx_result *r = arg;
	r->done = true;
	r->status = status;
	r->record = items != NULL ? cJSON_Duplicate(items, true) : NULL;
	r->next = next != NULL ? strdup(next) : NULL;
}

static inline void fx_on_text(void *arg, int status, const char *text)
{
	struct fx_result *r = arg;
	r->done = true;
	r->status = status;
	r->text = text != NULL ? strdup(text) : NULL;
}

static inline void fx_on_value(void *arg, int status, const char *value, size_t len)
{
	struct fx_result *r = arg;
	r->done = true;
	r->status = status;
	r->text = value != NULL ? strndup(value, len) : NULL;
}

/* The stored JSON text of ns/key, NULL when absent; caller frees. */
static inline char *fx_raw(const char *ns, const char *key)
{
	struct fx_result r = {0};
	store_get(ns, key, fx_on_value, &r);
	fx_wait(&r.done);
	return r.text;
}

static inline void fx_raw_put(const char *ns, const char *key, const char *value)
{
	struct fx_result r = {0};
	store_set(ns, key, value, strlen(value), 0, 0, fx_on_done, &r);
	fx_wait(&r.done);
	cr_assert_eq(r.status, EXPOSR_OK);
}

/* ---- service calls that wait ---- */

/* A new account; its canonical id is copied to `id`. */
static inline void fx_account(char id[IDS_ACCOUNT_LEN + 1])
{
	struct fx_result r = {0};
	accounts_api.create(fx_on_record, &r);
	fx_wait(&r.done);
	cr_assert_eq(r.status, EXPOSR_OK);
	snprintf(id, IDS_ACCOUNT_LEN + 1, "%s", cJSON_GetObjectItem(r.record, "id")->valuestring);
	fx_result_free(&r);
}

static inline int fx_tunnel_create(const char *tunnel_id, const char *account_id)
{
	struct fx_result r = {0};
	tunnels_api.create(tunnel_id, account_id, fx_on_done, &r);
	fx_wait(&r.done);
	return r.status;
}

/* The record (caller deletes) or NULL. */
static inline cJSON *fx_get_record(bool account, const char *id)
{
	struct fx_result r = {0};
	if (account)
		accounts_api.get(id, fx_on_record, &r);
	else
		tunnels_api.get(id, fx_on_record, &r);
	fx_wait(&r.done);
	cr_assert(r.status == EXPOSR_OK || r.status == EXPOSR_NOT_FOUND, "status %d", r.status);
	return r.record;
}

static inline const char *fx_str(const cJSON *record, const char *path)
{
	const char *s = records_string(record, path);
	return s != NULL ? s : "(absent)";
}

/* Whether the JSON array holds the string. */
static inline bool fx_has(const cJSON *array, const char *s)
{
	const cJSON *item;
	cJSON_ArrayForEach(item, array)
	{
		if (cJSON_IsString(item) && strcmp(item->valuestring, s) == 0)
			return true;
	}
	return false;
}

/* ---- a fake transport ---- */

struct fx_conn {
	struct exposr_tunnel_conn *handle;
	int disconnects;
	enum exposr_disconnect_reason reason;
	int mode; /* FX_REMOVE_NOW, FX_REMOVE_LATER, FX_STAY */
	int opens;
	int cancels;
	bool async_open;
	exposr_channel_cb pending_cb;
	void *pending_arg;
};

enum { FX_REMOVE_NOW, FX_REMOVE_LATER, FX_STAY };

static inline void fx_remove_later(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct fx_conn *c = arg;
	tunnels_api.connection_remove(c->handle);
}

static inline void fx_conn_disconnect(void *conn, enum exposr_disconnect_reason reason)
{
	struct fx_conn *c = conn;
	c->disconnects++;
	c->reason = reason;
	if (c->mode == FX_REMOVE_NOW) {
		tunnels_api.connection_remove(c->handle);
	} else if (c->mode == FX_REMOVE_LATER) {
		struct timeval tv = {0, 20000};
		cr_assert_eq(event_base_once(fx_base, -1, EV_TIMEOUT, fx_remove_later, c, &tv), 0);
	}
}

static char fx_stream_marker;

static inline void *fx_conn_open(void *conn, exposr_channel_cb cb, void *arg)
{
	struct fx_conn *c = conn;
	c->opens++;
	if (c->async_open) {
		c->pending_cb = cb;
		c->pending_arg = arg;
		return c;
	}
	cb(arg, EXPOSR_OK, (struct exposr_stream *)&fx_stream_marker);
	return NULL;
}

static inline void fx_conn_cancel(void *conn, void *token)
{
	struct fx_conn *c = conn;
	cr_assert_eq(token, c);
	c->cancels++;
	c->pending_cb = NULL;
}

static const struct exposr_transport_conn_vtable fx_conn_vt = {
        .size = sizeof(struct exposr_transport_conn_vtable),
        .open_channel = fx_conn_open,
        .cancel_open = fx_conn_cancel,
        .disconnect = fx_conn_disconnect,
};

static inline bool fx_connect(struct fx_conn *c, const char *tunnel_id, int mode)
{
	memset(c, 0, sizeof(*c));
	c->mode = mode;
	c->handle = tunnels_api.connection_add(tunnel_id, "127.0.0.1", &fx_conn_vt, c);
	return c->handle != NULL;
}

#endif
