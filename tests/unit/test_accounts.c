/* The account service against the memory storage, with answers delivered at once
 * (suffix _sync) and later from the event loop (suffix _async). */
#include "capture.h"
#include "services_fixture.h"

FX_SUITES(accounts);

FX_TEST(accounts, create_stores_a_012_record)
{
	struct fx_result r = {0};
	accounts_api.create(fx_on_record, &r);
	fx_wait(&r.done);
	cr_assert_eq(r.status, EXPOSR_OK);
	const char *id = fx_str(r.record, "id");
	char canonical[IDS_ACCOUNT_LEN + 1];
	cr_assert(accounts_api.normalize(id, canonical));
	cr_assert_str_eq(canonical, id);
	cr_assert_str_eq(fx_str(r.record, "accountId"), id);
	cr_assert_str_eq(fx_str(r.record, "created_at"), fx_str(r.record, "updated_at"));
	cr_assert_eq(strlen(fx_str(r.record, "created_at")), 24);

	char *raw = fx_raw("account", id);
	char expected[512];
	snprintf(expected, sizeof(expected),
	         "{\"accountId\":\"%s\",\"id\":\"%s\",\"created_at\":\"%s\",\"updated_at\":\"%s\","
	         "\"tunnels\":[],\"status\":{\"disabled\":false}}",
	         id, id, fx_str(r.record, "created_at"), fx_str(r.record, "created_at"));
	cr_assert_str_eq(raw, expected);
	free(raw);
	fx_result_free(&r);
}

FX_TEST(accounts, get_accepts_every_spelling)
{
	char id[IDS_ACCOUNT_LEN + 1], hr[32], lower[32];
	fx_account(id);
	accounts_api.format_hr(id, hr, sizeof(hr));
	cr_assert_eq(strlen(hr), 19);
	for (size_t i = 0; i <= strlen(hr); i++)
		lower[i] = (char)(hr[i] >= 'A' && hr[i] <= 'Z' ? hr[i] - 'A' + 'a' : hr[i]);
	lower[4] = ' ';
	const char *forms[] = {id, hr, lower};
	for (size_t i = 0; i < 3; i++) {
		cJSON *rec = fx_get_record(true, forms[i]);
		cr_assert_not_null(rec, "%s", forms[i]);
		cr_assert_str_eq(fx_str(rec, "id"), id);
		cJSON_Delete(rec);
	}
	cr_assert_null(fx_get_record(true, "CCCCCCCCCCCCCCCC"));
	struct fx_result r = {0};
	accounts_api.get("not-an-account", fx_on_record, &r);
	fx_wait(&r.done);
	cr_assert_eq(r.status, EXPOSR_NOT_FOUND);
	accounts_api.get(NULL, fx_on_record, &(struct fx_result){0});
}

/* A storage on which every account number is taken. */
static int full_store_sets;

static void full_set(void *self, const char *ns, const char *key, const char *value, size_t len,
                     unsigned flags, uint64_t ttl, exposr_storage_done_cb cb, void *arg)
{
	(void)self;
	(void)ns;
	(void)key;
	(void)value;
	(void)len;
	(void)ttl;
	cr_assert(flags & EXPOSR_STORAGE_IF_ABSENT);
	full_store_sets++;
	cb(arg, EXPOSR_EXISTS);
}

FX_TEST(accounts, create_gives_up_after_101_collisions)
{
	static const struct exposr_storage_vtable full = {.size = sizeof(full), .set = full_set};
	store_use(&full, NULL);
	full_store_sets = 0;
	struct fx_result r = {0};
	accounts_api.create(fx_on_record, &r);
	fx_wait(&r.done);
	cr_assert_eq(r.status, EXPOSR_ERROR);
	cr_assert_null(r.record);
	cr_assert_eq(full_store_sets, 101);
}

FX_TEST(accounts, create_fails_without_storage)
{
	store_use(NULL, NULL);
	struct fx_result r = {0};
	accounts_api.create(fx_on_record, &r);
	fx_wait(&r.done);
	cr_assert_eq(r.status, EXPOSR_ERROR);
}

FX_TEST(accounts, disable_and_enable)
{
	char id[IDS_ACCOUNT_LEN + 1];
	fx_account(id);
	cr_assert_eq(fx_tunnel_create("tun-one", id), EXPOSR_OK);
	cr_assert_eq(fx_tunnel_create("tun-two", id), EXPOSR_OK);
	struct fx_conn a, b, c;
	cr_assert(fx_connect(&a, "tun-one", FX_REMOVE_NOW));
	cr_assert(fx_connect(&b, "tun-two", FX_STAY));
	cr_assert(fx_connect(&c, "elsewhere", FX_REMOVE_NOW));

	struct fx_result r = {0};
	accounts_api.set_disabled(id, true, "spam", fx_on_record, &r);
	fx_wait(&r.done);
	cr_assert_eq(r.status, EXPOSR_OK);
	cr_assert(cJSON_IsTrue(records_at(r.record, "status.disabled")));
	cr_assert_str_eq(fx_str(r.record, "status.disabled_reason"), "spam");
	cr_assert_eq(strlen(fx_str(r.record, "status.disabled_at")), 24);
	cr_assert_eq(a.disconnects, 1);
	cr_assert_eq(a.reason, EXPOSR_DISCONNECT_REVOKED);
	cr_assert_eq(b.disconnects, 1);
	cr_assert_eq(b.reason, EXPOSR_DISCONNECT_REVOKED);
	cr_assert_eq(c.disconnects, 0);
	fx_result_free(&r);

	char *raw = fx_raw("account", id);
	cr_assert(strstr(raw, "\"status\":{\"disabled\":true,\"disabled_at\":\"") != NULL, "%s",
	          raw);
	cr_assert(strstr(raw, "\"disabled_reason\":\"spam\"}}") != NULL, "%s", raw);
	free(raw);

	/* Disabling without a reason leaves none. */
	accounts_api.set_disabled(id, true, NULL, fx_on_record, &r);
	fx_wait(&r.done);
	cr_assert_eq(r.status, EXPOSR_OK);
	cr_assert_null(records_at(r.record, "status.disabled_reason"));
	fx_result_free(&r);

	accounts_api.set_disabled(id, false, "ignored", fx_on_record, &r);
	fx_wait(&r.done);
	cr_assert_eq(r.status, EXPOSR_OK);
	cr_assert(cJSON_IsFalse(records_at(r.record, "status.disabled")));
	cr_assert_null(records_at(r.record, "status.disabled_at"));
	cr_assert_null(records_at(r.record, "status.disabled_reason"));
	fx_result_free(&r);
	raw = fx_raw("account", id);
	cr_assert(strstr(raw, "\"status\":{\"disabled\":false}}") != NULL, "%s", raw);
	free(raw);
	tunnels_api.connection_remove(b.handle);
	tunnels_api.connection_remove(c.handle);

	accounts_api.set_disabled("CCCCCCCCCCCCCCCC", true, NULL, fx_on_record, &r);
	fx_wait(&r.done);
	cr_assert_eq(r.status, EXPOSR_NOT_FOUND);
	fx_result_free(&r);
	accounts_api.set_disabled("bad", true, NULL, fx_on_record, &r);
	fx_wait(&r.done);
	cr_assert_eq(r.status, EXPOSR_NOT_FOUND);
}

static void on_alt_names(void *arg, int status, const char *conflict)
{
	(void)conflict;
	struct fx_result *r = arg;
	r->done = true;
	r->status = status;
}

/* What the API does after claiming: store the list in the tunnel. */
static int store_alt_name(void *arg, cJSON *record)
{
	cJSON *list = cJSON_CreateArray();
	cJSON_AddItemToArray(list, cJSON_CreateString(arg));
	return cJSON_ReplaceItemInObject(records_at(record, "ingress.http"), "alt_names", list)
	               ? EXPOSR_OK
	               : EXPOSR_ERROR;
}

FX_TEST(accounts, remove_takes_the_tunnels_along)
{
	char id[IDS_ACCOUNT_LEN + 1], other[IDS_ACCOUNT_LEN + 1];
	fx_account(id);
	fx_account(other);
	cr_assert_eq(fx_tunnel_create("first", id), EXPOSR_OK);
	cr_assert_eq(fx_tunnel_create("second", id), EXPOSR_OK);
	cr_assert_eq(fx_tunnel_create("foreign", other), EXPOSR_OK);
	struct fx_result r = {0};
	const char *names[] = {"first.example.net"};
	tunnels_api.set_alt_names("first", names, 1, on_alt_names, &r);
	fx_wait(&r.done);
	cr_assert_eq(r.status, EXPOSR_OK);
	r = (struct fx_result){0};
	tunnels_api.update("first", store_alt_name, (void *)names[0], fx_on_record, &r);
	fx_wait(&r.done);
	cr_assert_eq(r.status, EXPOSR_OK);
	fx_result_free(&r);
	/* A stale entry pointing at someone else's tunnel must not delete it. */
	char *raw = fx_raw("account", id);
	char *edited = strdup(raw);
	char *list = strstr(edited, "\"tunnels\":[");
	cr_assert_not_null(list);
	char patched[1024];
	snprintf(patched, sizeof(patched), "%.*s\"tunnels\":[\"foreign\",%s", (int)(list - edited),
	         edited, list + strlen("\"tunnels\":["));
	fx_raw_put("account", id, patched);
	free(raw);
	free(edited);
	struct fx_conn conn;
	cr_assert(fx_connect(&conn, "second", FX_REMOVE_NOW));

	/* D18: a formatted, lower-case number still reaches the tunnels. */
	char hr[32];
	accounts_api.format_hr(id, hr, sizeof(hr));
	for (char *p = hr; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	r = (struct fx_result){0};
	accounts_api.remove(hr, fx_on_done, &r);
	fx_wait(&r.done);
	cr_assert_eq(r.status, EXPOSR_OK);
	cr_assert_null(fx_get_record(true, id));
	cr_assert_null(fx_get_record(false, "first"));
	cr_assert_null(fx_get_record(false, "second"));
	cJSON *foreign = fx_get_record(false, "foreign");
	cr_assert_not_null(foreign);
	cJSON_Delete(foreign);
	cr_assert_null(fx_raw("ingress-altnames", "http-first.example.net"));
	cr_assert_eq(conn.disconnects, 1);
	cr_assert_eq(conn.reason, EXPOSR_DISCONNECT_REVOKED);

	r = (struct fx_result){0};
	accounts_api.remove(id, fx_on_done, &r);
	fx_wait(&r.done);
	cr_assert_eq(r.status, EXPOSR_NOT_FOUND);
	r = (struct fx_result){0};
	accounts_api.remove("###", fx_on_done, &r);
	fx_wait(&r.done);
	cr_assert_eq(r.status, EXPOSR_NOT_FOUND);
}

static int compare_ids(const void *a, const void *b)
{
	return strcmp(a, b);
}

FX_TEST(accounts, list_pages_through_every_account_once)
{
	enum { N = 25 };
	char ids[N][IDS_ACCOUNT_LEN + 1];
	for (int i = 0; i < N; i++)
		fx_account(ids[i]);
	cr_assert_eq(fx_tunnel_create("listed-tunnel", ids[3]), EXPOSR_OK);
	qsort(ids, N, sizeof(ids[0]), compare_ids);
	int seen = 0, pages = 0;
	char *cursor = NULL;
	do {
		struct fx_result r = {0};
		accounts_api.list(cursor, 10, false, fx_on_page, &r);
		fx_wait(&r.done);
		cr_assert_eq(r.status, EXPOSR_OK);
		pages++;
		const cJSON *item;
		cJSON_ArrayForEach(item, r.record)
		{
			cr_assert_lt(seen, N);
			cr_assert_str_eq(fx_str(item, "id"), ids[seen]);
			cr_assert_str_eq(fx_str(item, "accountId"), ids[seen]);
			cr_assert(cJSON_IsArray(cJSON_GetObjectItem(item, "tunnels")));
			cr_assert(cJSON_IsFalse(records_at(item, "status.disabled")));
			cr_assert_null(cJSON_GetObjectItem(item, "created_at"));
			cr_assert_eq(cJSON_GetArraySize(item), 4);
			seen++;
		}
		free(cursor);
		cursor = r.next != NULL ? strdup(r.next) : NULL;
		fx_result_free(&r);
	} while (cursor != NULL);
	cr_assert_eq(seen, N);
	cr_assert_eq(pages, 3);

	struct fx_result r = {0};
	accounts_api.list(NULL, 100, true, fx_on_page, &r);
	fx_wait(&r.done);
	cr_assert_eq(r.status, EXPOSR_OK);
	cr_assert_eq(cJSON_GetArraySize(r.record), N);
	cr_assert_null(r.next);
	bool found = false;
	const cJSON *item;
	cJSON_ArrayForEach(item, r.record)
	{
		cr_assert_not_null(cJSON_GetObjectItem(item, "created_at"));
		found |= fx_has(records_at(item, "tunnels"), "listed-tunnel");
	}
	cr_assert(found);
	fx_result_free(&r);
}

FX_TEST(accounts, concurrent_changes_of_one_account_are_not_lost)
{
	char id[IDS_ACCOUNT_LEN + 1];
	fx_account(id);
	enum { N = 12 };
	struct fx_result created[N] = {0};
	struct fx_result disabled = {0};
	char names[N][16];
	for (int i = 0; i < N; i++) {
		snprintf(names[i], sizeof(names[i]), "tunnel-%02d", i);
		tunnels_api.create(names[i], id, fx_on_done, &created[i]);
		if (i == N / 2)
			accounts_api.set_disabled(id, true, "midway", fx_on_record, &disabled);
	}
	for (int i = 0; i < N; i++) {
		fx_wait(&created[i].done);
		cr_assert_eq(created[i].status, EXPOSR_OK);
	}
	fx_wait(&disabled.done);
	cr_assert_eq(disabled.status, EXPOSR_OK);
	fx_result_free(&disabled);
	cJSON *account = fx_get_record(true, id);
	cr_assert_eq(cJSON_GetArraySize(records_at(account, "tunnels")), N);
	for (int i = 0; i < N; i++)
		cr_assert(fx_has(records_at(account, "tunnels"), names[i]), "%s", names[i]);
	cr_assert(cJSON_IsTrue(records_at(account, "status.disabled")));
	cJSON_Delete(account);
}

Test(accounts_start, fails_without_a_storage_module)
{
	struct event_base *base = event_base_new();
	host_table(base);
	FILE *tmp;
	int saved = capture_begin(&tmp);
	int rc = services_start();
	char *err = capture_end(tmp, saved);
	cr_assert_eq(rc, EXPOSR_ERROR);
	cr_assert_str_eq(err, "exposrd: no storage module is enabled (enable storage-memory, "
	                      "storage-redis or storage-sqlite)\n");
	free(err);
	services_free();
	services_free(); /* twice is harmless */
	event_base_free(base);
}

Test(accounts_start, reads_max_connections)
{
	struct exposr_cfg *root = cfg_new_root();
	cr_assert_eq(services_configure(root), EXPOSR_OK);
	cr_assert_eq(tunnels_api.max_connections(), 2);
	cr_assert_eq(cfg_set(root, "tunnels.max-connections", "5", "--transport-max-connections"),
	             EXPOSR_OK);
	cr_assert_eq(services_configure(root), EXPOSR_OK);
	cr_assert_eq(tunnels_api.max_connections(), 5);
	cfg_free(root);
	services_free();
}
