/* The tunnel service against the memory storage, with answers delivered at once
 * (suffix _sync) and later from the event loop (suffix _async): records, tokens,
 * removal, alt-names and the connection state of this node. */
#include <unistd.h>

#include "keylock.h"
#include "services_fixture.h"

FX_SUITES(tunnels);

static char owner[IDS_ACCOUNT_LEN + 1];

static void with_tunnel(const char *tunnel_id)
{
	cJSON *account = owner[0] != '\0' ? fx_get_record(true, owner) : NULL;
	if (account == NULL)
		fx_account(owner);
	cJSON_Delete(account);
	cr_assert_eq(fx_tunnel_create(tunnel_id, owner), EXPOSR_OK);
}

FX_TEST(tunnels, create_stores_a_012_record)
{
	char id[IDS_ACCOUNT_LEN + 1], other[IDS_ACCOUNT_LEN + 1];
	fx_account(id);
	fx_account(other);
	cr_assert_eq(fx_tunnel_create("my-tunnel", id), EXPOSR_OK);
	cJSON *t = fx_get_record(false, "my-tunnel");
	cr_assert_not_null(t);
	const char *token = fx_str(t, "transport.token");
	cr_assert_eq(strlen(token), 86);
	const char *created = fx_str(t, "created_at");
	char expected[1024];
	snprintf(
	        expected, sizeof(expected),
	        "{\"transport\":{\"token\":\"%s\",\"max_connections\":1,\"ws\":{\"enabled\":false},"
	        "\"ssh\":{\"enabled\":false}},\"ingress\":{\"http\":{\"enabled\":false,\"urls\":[],"
	        "\"alt_names\":[]},\"sni\":{\"enabled\":false,\"urls\":[]}},\"target\":{},"
	        "\"id\":\"my-tunnel\",\"account\":\"%s\",\"created_at\":\"%s\","
	        "\"updated_at\":\"%s\"}",
	        token, id, created, created);
	char *raw = fx_raw("tunnel", "my-tunnel");
	cr_assert_str_eq(raw, expected);
	free(raw);
	cJSON_Delete(t);

	/* Taken, by its owner or anyone else; the owner's list holds it once. */
	cr_assert_eq(fx_tunnel_create("my-tunnel", id), EXPOSR_EXISTS);
	cr_assert_eq(fx_tunnel_create("my-tunnel", other), EXPOSR_EXISTS);
	cJSON *a = fx_get_record(true, id);
	cr_assert_eq(cJSON_GetArraySize(records_at(a, "tunnels")), 1);
	cr_assert(fx_has(records_at(a, "tunnels"), "my-tunnel"));
	cJSON_Delete(a);
	a = fx_get_record(true, other);
	cr_assert_eq(cJSON_GetArraySize(records_at(a, "tunnels")), 0);
	cJSON_Delete(a);
	/* A dashed account number is the same account. */
	char hr[32];
	accounts_api.format_hr(id, hr, sizeof(hr));
	cr_assert_eq(fx_tunnel_create("second-tunnel", hr), EXPOSR_OK);
	t = fx_get_record(false, "second-tunnel");
	cr_assert_str_eq(fx_str(t, "account"), id);
	cJSON_Delete(t);
	cr_assert_eq(keylock_count(), 0);
}

FX_TEST(tunnels, create_for_a_missing_account_leaves_nothing)
{
	cr_assert_eq(fx_tunnel_create("orphan", "CCCCCCCCCCCCCCCC"), EXPOSR_NOT_FOUND);
	cr_assert_null(fx_get_record(false, "orphan"));
	cr_assert_eq(fx_tunnel_create("orphan", "nonsense"), EXPOSR_NOT_FOUND);
	cr_assert_null(fx_get_record(false, "orphan"));
	struct fx_result r = {0};
	tunnels_api.get(NULL, fx_on_record, &r);
	cr_assert_eq(r.status, EXPOSR_NOT_FOUND);
}

static int set_target(void *arg, cJSON *record)
{
	return records_set_string(records_at(record, "target"), "url", arg);
}

static int enable_http(void *arg, cJSON *record)
{
	cJSON *http = records_at(record, "ingress.http");
	cJSON_ReplaceItemInObject(http, "enabled", cJSON_CreateTrue());
	cJSON *urls = cJSON_CreateArray();
	cJSON_AddItemToArray(urls, cJSON_CreateString(arg));
	cJSON_ReplaceItemInObject(http, "urls", urls);
	return records_set_string(http, "url", arg);
}

static int refuse(void *arg, cJSON *record)
{
	(void)arg;
	records_set_string(records_at(record, "target"), "url", "http://never.example/");
	return EXPOSR_DECLINED;
}

FX_TEST(tunnels, update_edits_and_stamps_the_record)
{
	with_tunnel("upd-tunnel");
	cJSON *before = fx_get_record(false, "upd-tunnel");
	usleep(3000);
	struct fx_result r = {0};
	tunnels_api.update("upd-tunnel", set_target, "http://example.com/", fx_on_record, &r);
	fx_wait(&r.done);
	cr_assert_eq(r.status, EXPOSR_OK);
	cr_assert_str_eq(fx_str(r.record, "target.url"), "http://example.com/");
	cr_assert_str_neq(fx_str(r.record, "updated_at"), fx_str(before, "updated_at"));
	cr_assert_str_eq(fx_str(r.record, "created_at"), fx_str(before, "created_at"));
	fx_result_free(&r);

	tunnels_api.update("upd-tunnel", enable_http, "http://upd-tunnel.localhost:8080/",
	                   fx_on_record, &r);
	fx_wait(&r.done);
	cr_assert_eq(r.status, EXPOSR_OK);
	fx_result_free(&r);
	char *raw = fx_raw("tunnel", "upd-tunnel");
	cr_assert(strstr(raw,
	                 "\"ingress\":{\"http\":{\"enabled\":true,"
	                 "\"url\":\"http://upd-tunnel.localhost:8080/\","
	                 "\"urls\":[\"http://upd-tunnel.localhost:8080/\"],\"alt_names\":[]}") !=
	                  NULL,
	          "%s", raw);
	cr_assert(strstr(raw, "\"target\":{\"url\":\"http://example.com/\"},\"id\":") != NULL, "%s",
	          raw);

	/* A refusing apply changes nothing and its status comes back. */
	tunnels_api.update("upd-tunnel", refuse, NULL, fx_on_record, &r);
	fx_wait(&r.done);
	cr_assert_eq(r.status, EXPOSR_DECLINED);
	cr_assert_null(r.record);
	char *after = fx_raw("tunnel", "upd-tunnel");
	cr_assert_str_eq(after, raw);
	free(after);
	free(raw);

	r = (struct fx_result){0};
	tunnels_api.update("no-such-tunnel", set_target, "http://x/", fx_on_record, &r);
	fx_wait(&r.done);
	cr_assert_eq(r.status, EXPOSR_NOT_FOUND);
	cJSON_Delete(before);
	cr_assert_eq(keylock_count(), 0);
}

static int append_alt_name(void *arg, cJSON *record)
{
	cJSON *s = cJSON_CreateString(arg);
	return cJSON_AddItemToArray(records_at(record, "ingress.http.alt_names"), s) ? EXPOSR_OK
	                                                                             : EXPOSR_ERROR;
}

FX_TEST(tunnels, concurrent_updates_are_not_lost)
{
	with_tunnel("busy-tunnel");
	enum { N = 20 };
	struct fx_result r[N] = {0};
	char names[N][16];
	for (int i = 0; i < N; i++) {
		snprintf(names[i], sizeof(names[i]), "n%02d.example", i);
		tunnels_api.update("busy-tunnel", append_alt_name, names[i], fx_on_record, &r[i]);
	}
	for (int i = 0; i < N; i++) {
		fx_wait(&r[i].done);
		cr_assert_eq(r[i].status, EXPOSR_OK);
		fx_result_free(&r[i]);
	}
	cJSON *t = fx_get_record(false, "busy-tunnel");
	const cJSON *list = records_at(t, "ingress.http.alt_names");
	cr_assert_eq(cJSON_GetArraySize(list), N);
	for (int i = 0; i < N; i++)
		cr_assert(fx_has(list, names[i]));
	cJSON_Delete(t);
	cr_assert_eq(keylock_count(), 0);
}

static void on_alt_names(void *arg, int status, const char *conflict)
{
	fx_on_text(arg, status, conflict);
}

static int set_alt_names(const char *tunnel_id, const char *const *names, size_t count,
                         char **conflict)
{
	struct fx_result r = {0};
	tunnels_api.set_alt_names(tunnel_id, names, count, on_alt_names, &r);
	fx_wait(&r.done);
	if (conflict != NULL)
		*conflict = r.text;
	else
		free(r.text);
	return r.status;
}

/* The tunnel holding the claim, or NULL. */
static char *holder(const char *name)
{
	struct fx_result r = {0};
	tunnels_api.lookup_alt_name("http", name, fx_on_text, &r);
	fx_wait(&r.done);
	cr_assert(r.status == EXPOSR_OK || r.status == EXPOSR_NOT_FOUND);
	return r.text;
}

static int store_alt_names(void *arg, cJSON *record)
{
	const char *const *names = arg;
	cJSON *list = cJSON_CreateArray();
	for (size_t i = 0; names[i] != NULL; i++)
		cJSON_AddItemToArray(list, cJSON_CreateString(names[i]));
	return cJSON_ReplaceItemInObject(records_at(record, "ingress.http"), "alt_names", list)
	               ? EXPOSR_OK
	               : EXPOSR_ERROR;
}

/* What the API does: claim, then store the list. */
static void configure_alt_names(const char *tunnel_id, const char *const *names)
{
	size_t n = 0;
	while (names[n] != NULL)
		n++;
	cr_assert_eq(set_alt_names(tunnel_id, names, n, NULL), EXPOSR_OK);
	struct fx_result r = {0};
	tunnels_api.update(tunnel_id, store_alt_names, (void *)names, fx_on_record, &r);
	fx_wait(&r.done);
	cr_assert_eq(r.status, EXPOSR_OK);
	fx_result_free(&r);
}

static void assert_holder(const char *name, const char *tunnel_id)
{
	char *h = holder(name);
	if (tunnel_id == NULL)
		cr_assert_null(h, "%s is held by %s", name, h);
	else
		cr_assert(h != NULL && strcmp(h, tunnel_id) == 0, "%s: %s", name, h ? h : "none");
	free(h);
}

FX_TEST(tunnels, alt_names_are_claimed_and_released)
{
	with_tunnel("alt-one");
	with_tunnel("alt-two");
	configure_alt_names("alt-one", (const char *[]){"a.example.net", "B.Example.net", NULL});
	assert_holder("a.example.net", "alt-one");
	assert_holder("b.example.net", "alt-one");
	assert_holder("B.EXAMPLE.NET", "alt-one");
	char *raw = fx_raw("ingress-altnames", "http-a.example.net");
	cr_assert(strncmp(raw, "{\"tunnelId\":\"alt-one\",\"created_at\":\"", 36) == 0, "%s", raw);
	cr_assert_eq(strlen(raw), 36 + 24 + 2, "%s", raw);
	free(raw);

	/* Keeping b (D8), adding c, dropping a. */
	configure_alt_names("alt-one", (const char *[]){"b.example.net", "c.example.net", NULL});
	assert_holder("a.example.net", NULL);
	assert_holder("b.example.net", "alt-one");
	assert_holder("c.example.net", "alt-one");

	/* Another tunnel asking for c gets the conflict; what it claimed on the way goes,
	 * what it held before stays. */
	configure_alt_names("alt-two", (const char *[]){"own.example.org", NULL});
	char *conflict = NULL;
	const char *wanted[] = {"new.example.org", "own.example.org", "C.example.net",
	                        "later.example.org"};
	cr_assert_eq(set_alt_names("alt-two", wanted, 4, &conflict), EXPOSR_EXISTS);
	cr_assert_str_eq(conflict, "c.example.net");
	free(conflict);
	assert_holder("new.example.org", NULL);
	assert_holder("later.example.org", NULL);
	assert_holder("own.example.org", "alt-two");
	assert_holder("c.example.net", "alt-one");

	/* An empty list releases everything the tunnel holds. */
	configure_alt_names("alt-one", (const char *[]){NULL});
	assert_holder("b.example.net", NULL);
	assert_holder("c.example.net", NULL);
	cr_assert_eq(set_alt_names("no-such-tunnel", wanted, 1, NULL), EXPOSR_NOT_FOUND);
	assert_holder("new.example.org", NULL);
	cr_assert_eq(keylock_count(), 0);
}

FX_TEST(tunnels, alt_names_of_a_deleted_tunnel_are_not_released_from_its_successor)
{
	with_tunnel("alt-three");
	/* A claim recorded in the tunnel but held by another tunnel stays with it. */
	fx_raw_put("ingress-altnames", "http-taken.example", "{\"tunnelId\":\"someone-else\"}");
	struct fx_result r = {0};
	tunnels_api.update("alt-three", store_alt_names,
	                   (void *)(const char *[]){"taken.example", NULL}, fx_on_record, &r);
	fx_wait(&r.done);
	fx_result_free(&r);
	cr_assert_eq(set_alt_names("alt-three", NULL, 0, NULL), EXPOSR_OK);
	assert_holder("taken.example", "someone-else");
	/* Garbage in a claim is never taken over. */
	fx_raw_put("ingress-altnames", "http-garbage.example", "not json");
	char *conflict = NULL;
	const char *names[] = {"garbage.example"};
	cr_assert_eq(set_alt_names("alt-three", names, 1, &conflict), EXPOSR_EXISTS);
	cr_assert_str_eq(conflict, "garbage.example");
	free(conflict);
}

static struct fx_conn *connect_ok(struct fx_conn *c, const char *tunnel_id, int mode)
{
	cr_assert(fx_connect(c, tunnel_id, mode), "connection to %s refused", tunnel_id);
	return c;
}

FX_TEST(tunnels, remove_disconnects_releases_and_deletes)
{
	with_tunnel("doomed");
	with_tunnel("kept");
	configure_alt_names("doomed", (const char *[]){"doomed.example.com", NULL});
	struct fx_conn c1, c2;
	connect_ok(&c1, "doomed", FX_REMOVE_NOW);
	connect_ok(&c2, "doomed", FX_STAY);
	struct fx_result r = {0};
	tunnels_api.remove("doomed", fx_on_done, &r);
	fx_wait(&r.done);
	cr_assert_eq(r.status, EXPOSR_OK);
	cr_assert_eq(c1.disconnects, 1);
	cr_assert_eq(c1.reason, EXPOSR_DISCONNECT_REVOKED);
	cr_assert_eq(c2.disconnects, 1);
	cr_assert_eq(c2.reason, EXPOSR_DISCONNECT_REVOKED);
	cr_assert_null(fx_get_record(false, "doomed"));
	assert_holder("doomed.example.com", NULL);
	cJSON *a = fx_get_record(true, owner);
	cr_assert(!fx_has(records_at(a, "tunnels"), "doomed"));
	cr_assert(fx_has(records_at(a, "tunnels"), "kept"));
	cJSON_Delete(a);
	tunnels_api.connection_remove(c2.handle);

	r = (struct fx_result){0};
	tunnels_api.remove("doomed", fx_on_done, &r);
	fx_wait(&r.done);
	cr_assert_eq(r.status, EXPOSR_NOT_FOUND);
	cr_assert_eq(keylock_count(), 0);
}

FX_TEST(tunnels, an_update_queued_behind_a_removal_does_not_revive_the_tunnel)
{
	with_tunnel("racing");
	struct fx_result before = {0}, removed = {0}, after = {0};
	tunnels_api.update("racing", set_target, "http://first/", fx_on_record, &before);
	tunnels_api.remove("racing", fx_on_done, &removed);
	tunnels_api.update("racing", set_target, "http://second/", fx_on_record, &after);
	fx_wait(&before.done);
	fx_wait(&removed.done);
	fx_wait(&after.done);
	cr_assert_eq(before.status, EXPOSR_OK);
	cr_assert_eq(removed.status, EXPOSR_OK);
	cr_assert_eq(after.status, EXPOSR_NOT_FOUND);
	cr_assert_null(fx_get_record(false, "racing"));
	fx_result_free(&before);
}

FX_TEST(tunnels, list_returns_ids_page_by_page)
{
	static const char *const ids[] = {"list-c", "list-a", "list-e", "list-b", "list-d"};
	for (size_t i = 0; i < 5; i++)
		with_tunnel(ids[i]);
	struct fx_result r = {0};
	tunnels_api.list(NULL, 2, fx_on_page, &r);
	fx_wait(&r.done);
	cr_assert_eq(r.status, EXPOSR_OK);
	cr_assert_eq(cJSON_GetArraySize(r.record), 2);
	cr_assert_str_eq(cJSON_GetArrayItem(r.record, 0)->valuestring, "list-a");
	cr_assert_str_eq(cJSON_GetArrayItem(r.record, 1)->valuestring, "list-b");
	cr_assert_str_eq(r.next, "list-b");
	char *cursor = strdup(r.next);
	fx_result_free(&r);
	tunnels_api.list(cursor, 10, fx_on_page, &r);
	fx_wait(&r.done);
	cr_assert_eq(cJSON_GetArraySize(r.record), 3);
	cr_assert_str_eq(cJSON_GetArrayItem(r.record, 2)->valuestring, "list-e");
	cr_assert_null(r.next);
	free(cursor);
	fx_result_free(&r);
}

static char *authorize(const char *tunnel_id, const char *token, int *status)
{
	struct fx_result r = {0};
	tunnels_api.authorize(tunnel_id, token, fx_on_text, &r);
	fx_wait(&r.done);
	*status = r.status;
	return r.text;
}

static char *token_of(const char *tunnel_id)
{
	cJSON *t = fx_get_record(false, tunnel_id);
	cr_assert_not_null(t);
	char *token = strdup(fx_str(t, "transport.token"));
	cJSON_Delete(t);
	return token;
}

FX_TEST(tunnels, authorize_rotates_the_token)
{
	with_tunnel("auth-tunnel");
	char *token = token_of("auth-tunnel");
	int status;
	char *account = authorize("auth-tunnel", token, &status);
	cr_assert_eq(status, EXPOSR_OK);
	cr_assert_str_eq(account, owner);
	free(account);
	/* Already replaced, in storage, when the callback ran. */
	char *fresh = token_of("auth-tunnel");
	cr_assert_str_neq(fresh, token);
	cr_assert_eq(strlen(fresh), 86);
	cr_assert_null(authorize("auth-tunnel", token, &status));
	cr_assert_eq(status, EXPOSR_DECLINED);

	char shorter[86];
	memcpy(shorter, fresh, 85);
	shorter[85] = '\0';
	cr_assert_null(authorize("auth-tunnel", shorter, &status));
	cr_assert_eq(status, EXPOSR_DECLINED);
	cr_assert_null(authorize("auth-tunnel", "", &status));
	cr_assert_eq(status, EXPOSR_DECLINED);
	cr_assert_null(authorize("auth-tunnel", NULL, &status));
	cr_assert_eq(status, EXPOSR_DECLINED);
	cr_assert_null(authorize("no-such-tunnel", fresh, &status));
	cr_assert_eq(status, EXPOSR_NOT_FOUND);
	/* Refusals do not use the token up. */
	char *still = token_of("auth-tunnel");
	cr_assert_str_eq(still, fresh);
	free(still);

	/* A disabled account's tunnels are refused, and keep their token. */
	struct fx_result r = {0};
	accounts_api.set_disabled(owner, true, "test", fx_on_record, &r);
	fx_wait(&r.done);
	fx_result_free(&r);
	cr_assert_null(authorize("auth-tunnel", fresh, &status));
	cr_assert_eq(status, EXPOSR_DECLINED);
	still = token_of("auth-tunnel");
	cr_assert_str_eq(still, fresh);
	free(still);
	accounts_api.set_disabled(owner, false, NULL, fx_on_record, &r);
	fx_wait(&r.done);
	fx_result_free(&r);
	account = authorize("auth-tunnel", fresh, &status);
	cr_assert_eq(status, EXPOSR_OK);
	free(account);

	/* A tunnel whose account is gone is refused. */
	char *latest = token_of("auth-tunnel");
	r = (struct fx_result){0};
	store_del("account", owner, fx_on_done, &r);
	fx_wait(&r.done);
	cr_assert_null(authorize("auth-tunnel", latest, &status));
	cr_assert_eq(status, EXPOSR_DECLINED);
	free(latest);
	free(token);
	free(fresh);
	cr_assert_eq(keylock_count(), 0);
}

FX_TEST(tunnels, one_token_authorises_one_connection)
{
	with_tunnel("race-tunnel");
	char *token = token_of("race-tunnel");
	enum { N = 6 };
	struct fx_result r[N] = {0};
	for (int i = 0; i < N; i++)
		tunnels_api.authorize("race-tunnel", token, fx_on_text, &r[i]);
	int ok = 0;
	for (int i = 0; i < N; i++) {
		fx_wait(&r[i].done);
		cr_assert(r[i].status == EXPOSR_OK || r[i].status == EXPOSR_DECLINED);
		ok += r[i].status == EXPOSR_OK;
		fx_result_free(&r[i]);
	}
	cr_assert_eq(ok, 1);
	free(token);
}

FX_TEST(tunnels, connection_limit_and_state)
{
	struct exposr_tunnel_state st;
	tunnels_api.state("cap", &st);
	cr_assert(!st.connected);
	cr_assert_eq(st.connections, 0);
	cr_assert_eq(st.connected_at + st.disconnected_at + st.alive_at, 0);

	int64_t t0 = ids_now_ms();
	struct fx_conn a, b, c;
	connect_ok(&a, "cap", FX_REMOVE_NOW);
	connect_ok(&b, "cap", FX_REMOVE_NOW);
	cr_assert(!fx_connect(&c, "cap", FX_REMOVE_NOW), "a third connection was accepted");
	const char *ida = tunnel_state_connection_id(a.handle);
	cr_assert_eq(strlen(ida), 77);
	cr_assert(strncmp(ida, ids_node_id(), 40) == 0 && ida[40] == ':');
	cr_assert_str_neq(ida, tunnel_state_connection_id(b.handle));
	tunnels_api.state("cap", &st);
	cr_assert(st.connected);
	cr_assert_eq(st.connections, 2);
	cr_assert(st.connected_at >= t0 && st.connected_at <= ids_now_ms());
	cr_assert(st.alive_at >= st.connected_at);
	cr_assert_eq(st.disconnected_at, 0);
	int64_t connected_at = st.connected_at;

	tunnels_api.connection_remove(a.handle);
	connect_ok(&c, "cap", FX_REMOVE_NOW);
	tunnels_api.state("cap", &st);
	cr_assert_eq(st.connections, 2);
	cr_assert_eq(st.connected_at, connected_at); /* connected all along */

	tunnels_api.connection_remove(b.handle);
	tunnels_api.connection_remove(c.handle);
	tunnels_api.connection_remove(c.handle); /* twice is harmless */
	tunnels_api.state("cap", &st);
	cr_assert(!st.connected);
	cr_assert_eq(st.connections, 0);
	cr_assert_eq(st.connected_at, connected_at);
	cr_assert(st.disconnected_at >= connected_at);
	int64_t disconnected_at = st.disconnected_at;

	/* Ageing: the connections go after a minute, the tunnel's entry after five. */
	int64_t now = ids_now_ms();
	tunnel_state_sweep(now + 30000);
	cr_assert_eq(tunnel_state_count(), 1);
	tunnel_state_sweep(now + 61000);
	cr_assert_eq(tunnel_state_count(), 1);
	tunnels_api.state("cap", &st);
	cr_assert_eq(st.disconnected_at, disconnected_at);
	tunnel_state_sweep(disconnected_at + 5 * 60000 + 1);
	cr_assert_eq(tunnel_state_count(), 0);
	tunnels_api.state("cap", &st);
	cr_assert_eq(st.connected_at + st.disconnected_at + st.alive_at, 0);
}

FX_TEST(tunnels, alive_at_is_refreshed_while_connected)
{
	struct fx_conn a;
	connect_ok(&a, "alive", FX_REMOVE_NOW);
	struct exposr_tunnel_state st;
	int64_t later = ids_now_ms() + 10000;
	tunnel_state_sweep(later);
	tunnels_api.state("alive", &st);
	cr_assert_eq(st.alive_at, later);
	/* A connected tunnel is never forgotten. */
	tunnel_state_sweep(later + 3600 * 1000);
	tunnels_api.state("alive", &st);
	cr_assert(st.connected);
	tunnels_api.connection_remove(a.handle);
}

static void on_stream(void *arg, int status, struct exposr_stream *stream)
{
	struct fx_result *r = arg;
	r->done = true;
	r->status = status;
	cr_assert(status != EXPOSR_OK || stream == (struct exposr_stream *)&fx_stream_marker);
}

FX_TEST(tunnels, streams_go_round_robin)
{
	struct fx_conn a, b;
	connect_ok(&a, "rr", FX_REMOVE_NOW);
	connect_ok(&b, "rr", FX_REMOVE_NOW);
	/* Connection id order decides who starts. */
	bool a_first = strcmp(tunnel_state_connection_id(a.handle),
	                      tunnel_state_connection_id(b.handle)) < 0;
	struct fx_conn *first = a_first ? &a : &b, *second = a_first ? &b : &a;
	for (int i = 0; i < 4; i++) {
		struct fx_result r = {0};
		cr_assert_null(tunnels_api.open_stream("rr", on_stream, &r));
		cr_assert(r.done);
		cr_assert_eq(r.status, EXPOSR_OK);
		cr_assert_eq(first->opens, i / 2 + 1);
		cr_assert_eq(second->opens, (i + 1) / 2);
	}
	/* With the last chosen one gone, the rotation goes on with the others. */
	tunnels_api.connection_remove(second->handle);
	struct fx_result r = {0};
	cr_assert_null(tunnels_api.open_stream("rr", on_stream, &r));
	cr_assert_eq(first->opens, 3);
	tunnels_api.connection_remove(first->handle);
	r = (struct fx_result){0};
	cr_assert_null(tunnels_api.open_stream("rr", on_stream, &r));
	cr_assert(r.done);
	cr_assert_eq(r.status, EXPOSR_NOT_FOUND);
	r = (struct fx_result){0};
	cr_assert_null(tunnels_api.open_stream("never-connected", on_stream, &r));
	cr_assert_eq(r.status, EXPOSR_NOT_FOUND);
}

FX_TEST(tunnels, pending_opens_can_be_cancelled_or_fail_with_their_connection)
{
	struct fx_conn a;
	connect_ok(&a, "slow", FX_REMOVE_NOW);
	a.async_open = true;
	struct fx_result r = {0};
	void *token = tunnels_api.open_stream("slow", on_stream, &r);
	cr_assert_not_null(token);
	cr_assert(!r.done);
	tunnels_api.cancel_open(token);
	cr_assert_eq(a.cancels, 1);
	cr_assert(!r.done);
	tunnels_api.cancel_open(NULL);

	/* Answered later. */
	token = tunnels_api.open_stream("slow", on_stream, &r);
	cr_assert_not_null(token);
	a.pending_cb(a.pending_arg, EXPOSR_AGAIN, NULL);
	cr_assert(r.done);
	cr_assert_eq(r.status, EXPOSR_AGAIN);

	/* Still pending when the connection goes: cancelled, and the caller told. */
	r = (struct fx_result){0};
	token = tunnels_api.open_stream("slow", on_stream, &r);
	cr_assert_not_null(token);
	tunnels_api.connection_remove(a.handle);
	cr_assert_eq(a.cancels, 2);
	cr_assert(r.done);
	cr_assert_eq(r.status, EXPOSR_ERROR);
}

static void on_disconnected(void *arg, int status)
{
	fx_on_done(arg, status);
}

FX_TEST(tunnels, disconnect_waits_for_the_connections_to_go)
{
	struct fx_conn now, later, stay;
	connect_ok(&now, "dc-now", FX_REMOVE_NOW);
	connect_ok(&later, "dc-later", FX_REMOVE_LATER);
	connect_ok(&stay, "dc-stay", FX_STAY);
	struct fx_result r = {0};
	tunnels_api.disconnect("dc-now", EXPOSR_DISCONNECT_REQUESTED, on_disconnected, &r);
	cr_assert(r.done);
	cr_assert_eq(r.status, EXPOSR_OK);
	cr_assert_eq(now.reason, EXPOSR_DISCONNECT_REQUESTED);

	r = (struct fx_result){0};
	tunnels_api.disconnect("dc-later", EXPOSR_DISCONNECT_REQUESTED, on_disconnected, &r);
	cr_assert(!r.done);
	cr_assert_eq(later.disconnects, 1);
	fx_wait(&r.done);
	cr_assert_eq(r.status, EXPOSR_OK);

	r = (struct fx_result){0};
	int64_t t0 = ids_now_ms();
	tunnels_api.disconnect("dc-stay", EXPOSR_DISCONNECT_REQUESTED, on_disconnected, &r);
	fx_wait(&r.done);
	cr_assert_eq(r.status, EXPOSR_ERROR);
	cr_assert_geq(ids_now_ms() - t0, TUNNEL_STATE_DISCONNECT_WAIT_MS - 10);
	tunnels_api.connection_remove(stay.handle);

	r = (struct fx_result){0};
	tunnels_api.disconnect("never-connected", EXPOSR_DISCONNECT_REQUESTED, on_disconnected, &r);
	cr_assert(r.done);
	cr_assert_eq(r.status, EXPOSR_OK);
}

FX_TEST(tunnels, shutdown_closes_everything_and_refuses_more)
{
	struct fx_conn a, b, c;
	connect_ok(&a, "sd-one", FX_REMOVE_NOW);
	connect_ok(&b, "sd-one", FX_STAY);
	connect_ok(&c, "sd-two", FX_REMOVE_LATER);
	services_shutdown();
	cr_assert_eq(a.disconnects, 1);
	cr_assert_eq(a.reason, EXPOSR_DISCONNECT_SHUTDOWN);
	cr_assert_eq(b.reason, EXPOSR_DISCONNECT_SHUTDOWN);
	cr_assert_eq(c.reason, EXPOSR_DISCONNECT_SHUTDOWN);
	struct fx_conn d;
	cr_assert(!fx_connect(&d, "sd-three", FX_REMOVE_NOW));
	cr_assert(!fx_connect(&d, "sd-one", FX_REMOVE_NOW));
	/* A pending disconnect is dropped, not answered, when everything is freed. */
	struct fx_result r = {0};
	tunnels_api.disconnect("sd-one", EXPOSR_DISCONNECT_REQUESTED, on_disconnected, &r);
	cr_assert(!r.done);
}
