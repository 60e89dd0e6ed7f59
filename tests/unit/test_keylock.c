/* Read-modify-writes take the storage's lock when it has one (storage.h lock/unlock),
 * around the read and the write, and fail without writing when it cannot be taken; a
 * storage without a lock slot (storage-memory) needs only the in-process lock. */
#include "keylock.h"
#include "services_fixture.h"

/* ---- a storage with a lock: storage-memory behind a wrapper that logs every call ---- */

enum lk_mode { LK_GRANT, LK_GRANT_LATER, LK_REFUSE };

static enum lk_mode lk_mode;
static char lk_log[1024]; /* "L:<key> G S U ..." */
static int lk_held;

static void lk_note(const char *fmt, const char *arg)
{
	size_t len = strlen(lk_log);
	snprintf(lk_log + len, sizeof(lk_log) - len, fmt, arg);
}

static void lk_get(void *self, const char *ns, const char *key, exposr_storage_get_cb cb, void *arg)
{
	(void)self;
	lk_note("G:%s ", ns);
	fx_inner.vt->get(fx_inner.self, ns, key, cb, arg);
}

static void lk_set(void *self, const char *ns, const char *key, const char *value, size_t len,
                   unsigned flags, uint64_t ttl, exposr_storage_done_cb cb, void *arg)
{
	(void)self;
	lk_note("S:%s ", ns);
	fx_inner.vt->set(fx_inner.self, ns, key, value, len, flags, ttl, cb, arg);
}

static void lk_del(void *self, const char *ns, const char *key, exposr_storage_done_cb cb,
                   void *arg)
{
	(void)self;
	lk_note("D:%s ", ns);
	fx_inner.vt->del(fx_inner.self, ns, key, cb, arg);
}

static void lk_list(void *self, const char *ns, const char *cursor, size_t count,
                    exposr_storage_list_cb cb, void *arg)
{
	(void)self;
	fx_inner.vt->list(fx_inner.self, ns, cursor, count, cb, arg);
}

struct lk_grant {
	void (*cb)(void *arg, int status, void *lock);
	void *arg;
};

static int lk_handle; /* what unlock() must get back */

static void lk_grant_now(void *arg)
{
	struct lk_grant *g = arg;
	lk_held++;
	g->cb(g->arg, EXPOSR_OK, &lk_handle);
	free(g);
}

static void lk_grant_later(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	lk_grant_now(arg);
}

static void lk_lock(void *self, const char *key, void (*cb)(void *arg, int status, void *lock),
                    void *arg)
{
	(void)self;
	lk_note("L:%s ", key);
	cr_assert_eq(lk_held, 0, "a second storage lock while one is held");
	if (lk_mode == LK_REFUSE) {
		cb(arg, EXPOSR_ERROR, NULL);
		return;
	}
	struct lk_grant *g = malloc(sizeof(*g));
	cr_assert_not_null(g);
	g->cb = cb;
	g->arg = arg;
	if (lk_mode == LK_GRANT) {
		lk_grant_now(g);
		return;
	}
	struct timeval tv = {0, 1000};
	fx_outstanding++;
	cr_assert_eq(event_base_once(fx_base, -1, EV_TIMEOUT, lk_grant_later, g, &tv), 0);
}

static void lk_unlock(void *self, void *lock)
{
	(void)self;
	cr_assert_eq(lock, &lk_handle);
	cr_assert_eq(lk_held, 1, "unlock without a held lock");
	lk_held--;
	lk_note("U%s ", "");
}

static const struct exposr_storage_vtable lk_vt = {
        .size = sizeof(struct exposr_storage_vtable),
        .get = lk_get,
        .set = lk_set,
        .del = lk_del,
        .list = lk_list,
        .lock = lk_lock,
        .unlock = lk_unlock,
};

static void lk_setup(void)
{
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
	store_use(&lk_vt, NULL);
	lk_mode = LK_GRANT;
	lk_log[0] = '\0';
	lk_held = 0;
}

/* The grants still on their way are delivered before the teardown. */
static void lk_teardown(void)
{
	while (fx_outstanding > 0 && event_base_loop(fx_base, EVLOOP_ONCE) == 0)
		;
	fx_teardown();
}

TestSuite(storage_lock, .init = lk_setup, .fini = lk_teardown);

/* ---- helpers ---- */

static int set_target(void *arg, cJSON *record)
{
	cJSON *target = cJSON_GetObjectItemCaseSensitive(record, "target");
	cJSON_DeleteItemFromObjectCaseSensitive(target, "url");
	return cJSON_AddStringToObject(target, "url", arg) != NULL ? EXPOSR_OK : EXPOSR_ERROR;
}

static char owner[IDS_ACCOUNT_LEN + 1];

static void new_tunnel(const char *id)
{
	fx_account(owner);
	cr_assert_eq(fx_tunnel_create(id, owner), EXPOSR_OK);
	lk_log[0] = '\0';
}

static const char *stored_target(const char *id)
{
	static char url[256];
	cJSON *t = fx_get_record(false, id);
	cr_assert_not_null(t);
	snprintf(url, sizeof(url), "%s", fx_str(t, "target.url"));
	cJSON_Delete(t);
	return url;
}

/* ---- with a lock ---- */

Test(storage_lock, an_update_reads_and_writes_under_the_storage_lock_of_the_bare_key)
{
	new_tunnel("my-tunnel");
	struct fx_result r = {0};
	tunnels_api.update("my-tunnel", set_target, "http://a.example", fx_on_record, &r);
	fx_wait(&r.done);
	cr_assert_eq(r.status, EXPOSR_OK);
	/* exposrd 0.12 locks lock:<key>, without the namespace (docs/storage.md §8.1). */
	cr_assert_str_eq(lk_log, "L:my-tunnel G:tunnel S:tunnel U ");
	cr_assert_str_eq(stored_target("my-tunnel"), "http://a.example");
	cr_assert_eq(keylock_count(), 0);
	fx_result_free(&r);
}

Test(storage_lock, queued_updates_each_take_the_storage_lock_in_turn)
{
	new_tunnel("my-tunnel");
	lk_mode = LK_GRANT_LATER;
	struct fx_result a = {0}, b = {0};
	tunnels_api.update("my-tunnel", set_target, "http://a.example", fx_on_record, &a);
	tunnels_api.update("my-tunnel", set_target, "http://b.example", fx_on_record, &b);
	fx_wait(&a.done);
	fx_wait(&b.done);
	cr_assert_eq(a.status, EXPOSR_OK);
	cr_assert_eq(b.status, EXPOSR_OK);
	cr_assert_str_eq(lk_log,
	                 "L:my-tunnel G:tunnel S:tunnel U L:my-tunnel G:tunnel S:tunnel U ");
	cr_assert_str_eq(stored_target("my-tunnel"), "http://b.example");
	cr_assert_eq(keylock_count(), 0);
	fx_result_free(&a);
	fx_result_free(&b);
}

Test(storage_lock, a_lock_not_taken_fails_the_update_without_reading_or_writing)
{
	new_tunnel("my-tunnel");
	lk_mode = LK_REFUSE;
	struct fx_result a = {0}, b = {0};
	tunnels_api.update("my-tunnel", set_target, "http://a.example", fx_on_record, &a);
	tunnels_api.update("my-tunnel", set_target, "http://b.example", fx_on_record, &b);
	fx_wait(&a.done);
	fx_wait(&b.done);
	/* EXPOSR_ERROR is what the API answers 503 storage_unavailable for. */
	cr_assert_eq(a.status, EXPOSR_ERROR);
	cr_assert_eq(b.status, EXPOSR_ERROR);
	cr_assert_null(a.record);
	cr_assert_str_eq(lk_log, "L:my-tunnel L:my-tunnel ");
	cr_assert_eq(keylock_count(), 0);
	cr_assert_str_eq(stored_target("my-tunnel"), "(absent)");
	/* The key is free again once the lock can be had. */
	lk_mode = LK_GRANT;
	fx_result_free(&a);
	tunnels_api.update("my-tunnel", set_target, "http://c.example", fx_on_record, &a);
	fx_wait(&a.done);
	cr_assert_eq(a.status, EXPOSR_OK);
	cr_assert_str_eq(stored_target("my-tunnel"), "http://c.example");
	fx_result_free(&a);
	fx_result_free(&b);
}

static void on_authorized(void *arg, int status, const char *account)
{
	(void)account;
	fx_on_done(arg, status);
}

Test(storage_lock, a_connection_token_is_not_accepted_without_the_lock)
{
	new_tunnel("my-tunnel");
	cJSON *t = fx_get_record(false, "my-tunnel");
	char *token = strdup(fx_str(t, "transport.token"));
	cJSON_Delete(t);
	lk_mode = LK_REFUSE;
	struct fx_result r = {0};
	tunnels_api.authorize("my-tunnel", token, on_authorized, &r);
	fx_wait(&r.done);
	cr_assert_eq(r.status, EXPOSR_ERROR);
	/* Not used up: it is still good once the lock can be had, and only once. */
	lk_mode = LK_GRANT;
	memset(&r, 0, sizeof(r));
	tunnels_api.authorize("my-tunnel", token, on_authorized, &r);
	fx_wait(&r.done);
	cr_assert_eq(r.status, EXPOSR_OK);
	memset(&r, 0, sizeof(r));
	tunnels_api.authorize("my-tunnel", token, on_authorized, &r);
	fx_wait(&r.done);
	cr_assert_eq(r.status, EXPOSR_DECLINED);
	free(token);
	cr_assert_eq(keylock_count(), 0);
}

static void on_claimed(void *arg, int status, const char *conflict)
{
	(void)conflict;
	fx_on_done(arg, status);
}

Test(storage_lock, alt_names_removals_fail_without_the_lock)
{
	new_tunnel("my-tunnel");
	lk_mode = LK_REFUSE;
	const char *names[] = {"alt.example.com"};
	struct fx_result r = {0};
	tunnels_api.set_alt_names("my-tunnel", names, 1, on_claimed, &r);
	fx_wait(&r.done);
	cr_assert_eq(r.status, EXPOSR_ERROR);
	char *claim = fx_raw("ingress-altnames", "http-alt.example.com");
	cr_assert_null(claim, "claimed without the lock: %s", claim);

	memset(&r, 0, sizeof(r));
	tunnels_api.remove("my-tunnel", fx_on_done, &r);
	fx_wait(&r.done);
	cr_assert_eq(r.status, EXPOSR_ERROR);
	cJSON *t = fx_get_record(false, "my-tunnel");
	cr_assert_not_null(t, "the tunnel was removed without its lock");
	cJSON_Delete(t);

	memset(&r, 0, sizeof(r));
	accounts_api.remove(owner, fx_on_done, &r);
	fx_wait(&r.done);
	cr_assert_eq(r.status, EXPOSR_ERROR);
	cJSON *a = fx_get_record(true, owner);
	cr_assert_not_null(a, "the account was removed without its lock");
	cJSON_Delete(a);
	cr_assert_eq(keylock_count(), 0);
}

/* ---- without a lock slot: the real storage-memory, answers now and later ---- */

FX_SUITES(no_storage_lock);

FX_TEST(no_storage_lock, updates_of_one_record_are_serialised_in_process)
{
	new_tunnel("my-tunnel");
	struct fx_result a = {0}, b = {0};
	tunnels_api.update("my-tunnel", set_target, "http://a.example", fx_on_record, &a);
	tunnels_api.update("my-tunnel", set_target, "http://b.example", fx_on_record, &b);
	cr_assert_eq(keylock_count(), fx_deferred ? 1 : 0);
	fx_wait(&a.done);
	fx_wait(&b.done);
	cr_assert_eq(a.status, EXPOSR_OK);
	cr_assert_eq(b.status, EXPOSR_OK);
	cr_assert_str_eq(stored_target("my-tunnel"), "http://b.example");
	cr_assert_eq(keylock_count(), 0);
	fx_result_free(&a);
	fx_result_free(&b);
}
