/* The storage-memory module through its vtable: get/set/del, "only if absent",
 * expiry, namespaces and cursor listing; loaded like exposrd loads it. */
#include <criterion/criterion.h>
#include <event2/event.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <exposr/storage.h>

#include "capture.h"
#include "cfg.h"
#include "host_table.h"
#include "loader.h"
#include "registry_table.h"
#include "storage_contract.h"

static struct event_base *base;
static const struct exposr_host *host;
static const struct exposr_storage_vtable *vt;
static void *self;

static void module_path(char *out, size_t size)
{
	char bin[1024];
	snprintf(bin, sizeof(bin), "%s", EXPOSRD_BIN);
	snprintf(out, size, "%s/modules/storage-memory.so", dirname(bin));
}

static void setup(void)
{
	base = event_base_new();
	host = host_table(base);
	char path[1200];
	module_path(path, sizeof(path));
	cr_assert_eq(loader_init_one(host, "storage-memory", path, NULL), EXPOSR_OK);
	const struct exposr_registry_entry *e = registry_find(EXPOSR_KIND_STORAGE, NULL);
	cr_assert_not_null(e);
	cr_assert_str_eq(e->name, "memory");
	vt = e->vtable;
	self = e->instance;
}

static void teardown(void)
{
	loader_fini_all();
	event_base_free(base);
}

TestSuite(memory, .init = setup, .fini = teardown);

struct answer {
	int calls;
	int status;
	char value[256];
	size_t len;
	char keys[64][32];
	size_t count;
	char next[32];
	bool has_next;
};

static void on_get(void *arg, int status, const char *value, size_t len)
{
	struct answer *a = arg;
	a->calls++;
	a->status = status;
	a->len = len;
	if (value != NULL) {
		cr_assert_lt(len, sizeof(a->value));
		memcpy(a->value, value, len);
		a->value[len] = '\0';
	}
}

static void on_done(void *arg, int status)
{
	struct answer *a = arg;
	a->calls++;
	a->status = status;
}

static void on_list(void *arg, int status, const char *const *keys, size_t count, const char *next)
{
	struct answer *a = arg;
	a->calls++;
	a->status = status;
	a->count = count;
	for (size_t i = 0; i < count; i++)
		snprintf(a->keys[i], sizeof(a->keys[i]), "%s", keys[i]);
	a->has_next = next != NULL;
	if (next != NULL)
		snprintf(a->next, sizeof(a->next), "%s", next);
}

static int put(const char *ns, const char *key, const char *value, unsigned flags, uint64_t ttl)
{
	struct answer a = {0};
	vt->set(self, ns, key, value, strlen(value), flags, ttl, on_done, &a);
	cr_assert_eq(a.calls, 1, "set must answer before returning");
	return a.status;
}

static struct answer get(const char *ns, const char *key)
{
	struct answer a = {0};
	vt->get(self, ns, key, on_get, &a);
	cr_assert_eq(a.calls, 1);
	return a;
}

static int del(const char *ns, const char *key)
{
	struct answer a = {0};
	vt->del(self, ns, key, on_done, &a);
	cr_assert_eq(a.calls, 1);
	return a.status;
}

static struct answer list(const char *ns, const char *cursor, size_t count)
{
	struct answer a = {0};
	vt->list(self, ns, cursor, count, on_list, &a);
	cr_assert_eq(a.calls, 1);
	return a;
}

Test(memory, set_get_replace_delete)
{
	cr_assert_eq(get("tunnel", "t1").status, EXPOSR_NOT_FOUND);
	cr_assert_eq(put("tunnel", "t1", "{\"a\":1}", 0, 0), EXPOSR_OK);
	struct answer a = get("tunnel", "t1");
	cr_assert_eq(a.status, EXPOSR_OK);
	cr_assert_str_eq(a.value, "{\"a\":1}");
	cr_assert_eq(a.len, 7);
	cr_assert_eq(put("tunnel", "t1", "{\"a\":2}", 0, 0), EXPOSR_OK);
	cr_assert_str_eq(get("tunnel", "t1").value, "{\"a\":2}");
	cr_assert_eq(del("tunnel", "t1"), EXPOSR_OK);
	cr_assert_eq(del("tunnel", "t1"), EXPOSR_NOT_FOUND);
	cr_assert_eq(get("tunnel", "t1").status, EXPOSR_NOT_FOUND);
	cr_assert_eq(del("nowhere", "t1"), EXPOSR_NOT_FOUND);
}

Test(memory, values_are_byte_strings_of_the_given_length)
{
	struct answer a = {0};
	vt->set(self, "ns", "k", "ab\0cd", 5, 0, 0, on_done, &a);
	cr_assert_eq(a.status, EXPOSR_OK);
	a = get("ns", "k");
	cr_assert_eq(a.len, 5);
	cr_assert_eq(memcmp(a.value, "ab\0cd", 5), 0);
	cr_assert_eq(put("ns", "empty", "", 0, 0), EXPOSR_OK);
	a = get("ns", "empty");
	cr_assert_eq(a.status, EXPOSR_OK);
	cr_assert_eq(a.len, 0);
}

Test(memory, only_if_absent)
{
	cr_assert_eq(put("account", "A", "1", EXPOSR_STORAGE_IF_ABSENT, 0), EXPOSR_OK);
	cr_assert_eq(put("account", "A", "2", EXPOSR_STORAGE_IF_ABSENT, 0), EXPOSR_EXISTS);
	cr_assert_str_eq(get("account", "A").value, "1");
	cr_assert_eq(del("account", "A"), EXPOSR_OK);
	cr_assert_eq(put("account", "A", "3", EXPOSR_STORAGE_IF_ABSENT, 0), EXPOSR_OK);
	cr_assert_str_eq(get("account", "A").value, "3");
}

Test(memory, namespaces_are_separate)
{
	cr_assert_eq(put("account", "x", "acc", 0, 0), EXPOSR_OK);
	cr_assert_eq(put("tunnel", "x", "tun", 0, 0), EXPOSR_OK);
	cr_assert_str_eq(get("account", "x").value, "acc");
	cr_assert_str_eq(get("tunnel", "x").value, "tun");
	cr_assert_eq(list("account", NULL, 10).count, 1);
	cr_assert_eq(list("ingress-altnames", NULL, 10).count, 0);
	cr_assert(!list("ingress-altnames", NULL, 10).has_next);
}

Test(memory, entries_expire)
{
	cr_assert_eq(put("lock", "k", "v", 0, 60), EXPOSR_OK);
	cr_assert_eq(put("lock", "keep", "v", 0, 0), EXPOSR_OK);
	cr_assert_eq(put("lock", "long", "v", 0, 60000), EXPOSR_OK);
	cr_assert_eq(get("lock", "k").status, EXPOSR_OK);
	cr_assert_eq(put("lock", "k", "w", EXPOSR_STORAGE_IF_ABSENT, 0), EXPOSR_EXISTS);
	usleep(100 * 1000);
	cr_assert_eq(get("lock", "k").status, EXPOSR_NOT_FOUND);
	/* An expired key counts as absent for "only if absent" and delete, too. */
	cr_assert_eq(put("lock", "k2", "v", 0, 1), EXPOSR_OK);
	cr_assert_eq(put("lock", "k3", "v", 0, 1), EXPOSR_OK);
	usleep(20 * 1000);
	cr_assert_eq(put("lock", "k2", "new", EXPOSR_STORAGE_IF_ABSENT, 0), EXPOSR_OK);
	cr_assert_str_eq(get("lock", "k2").value, "new");
	cr_assert_eq(del("lock", "k3"), EXPOSR_NOT_FOUND);
	/* ... and is not listed. */
	cr_assert_eq(put("lock", "a-short", "v", 0, 1), EXPOSR_OK);
	cr_assert_eq(put("lock", "z-short", "v", 0, 1), EXPOSR_OK);
	usleep(20 * 1000);
	struct answer a = list("lock", NULL, 10);
	cr_assert_eq(a.count, 3);
	cr_assert_str_eq(a.keys[0], "k2");
	cr_assert_str_eq(a.keys[1], "keep");
	cr_assert_str_eq(a.keys[2], "long");
	cr_assert(!a.has_next);
	/* A later set without TTL makes the key permanent. */
	cr_assert_eq(put("lock", "long", "v", 0, 0), EXPOSR_OK);
}

Test(memory, listing_pages_in_key_order)
{
	static const char *const keys[] = {"e", "a", "d", "b", "c", "f", "g"};
	for (size_t i = 0; i < 7; i++)
		cr_assert_eq(put("tunnel", keys[i], "{}", 0, 0), EXPOSR_OK);
	struct answer a = list("tunnel", NULL, 3);
	cr_assert_eq(a.status, EXPOSR_OK);
	cr_assert_eq(a.count, 3);
	cr_assert_str_eq(a.keys[0], "a");
	cr_assert_str_eq(a.keys[2], "c");
	cr_assert(a.has_next);
	cr_assert_str_eq(a.next, "c");
	a = list("tunnel", "c", 3);
	cr_assert_str_eq(a.keys[0], "d");
	cr_assert_str_eq(a.next, "f");
	a = list("tunnel", "f", 3);
	cr_assert_eq(a.count, 1);
	cr_assert_str_eq(a.keys[0], "g");
	cr_assert(!a.has_next);
	/* Exactly a full last page: no further cursor. */
	a = list("tunnel", "d", 3);
	cr_assert_eq(a.count, 3);
	cr_assert(!a.has_next);
	a = list("tunnel", "", 100);
	cr_assert_eq(a.count, 7);
	a = list("tunnel", NULL, 0); /* no count: a default page */
	cr_assert_eq(a.count, 7);
}

Test(memory, every_key_once_while_keys_come_and_go)
{
	for (char c = 'a'; c <= 'j'; c++) {
		char key[2] = {c, '\0'};
		cr_assert_eq(put("tunnel", key, "{}", 0, 0), EXPOSR_OK);
	}
	struct answer a = list("tunnel", NULL, 4); /* a b c d */
	cr_assert_str_eq(a.next, "d");
	/* The cursor key itself goes, keys appear before and after it, one ahead goes. */
	cr_assert_eq(del("tunnel", "d"), EXPOSR_OK);
	cr_assert_eq(del("tunnel", "f"), EXPOSR_OK);
	cr_assert_eq(put("tunnel", "bb", "{}", 0, 0), EXPOSR_OK);
	cr_assert_eq(put("tunnel", "dd", "{}", 0, 0), EXPOSR_OK);
	a = list("tunnel", "d", 4);
	cr_assert_eq(a.count, 4);
	cr_assert_str_eq(a.keys[0], "dd");
	cr_assert_str_eq(a.keys[1], "e");
	cr_assert_str_eq(a.keys[2], "g");
	cr_assert_str_eq(a.keys[3], "h");
	a = list("tunnel", a.next, 4);
	cr_assert_eq(a.count, 2);
	cr_assert_str_eq(a.keys[0], "i");
	cr_assert_str_eq(a.keys[1], "j");
	cr_assert(!a.has_next);
}

/* The callback may change the store while it holds the value it was given. */
static void reentrant_get(void *arg, int status, const char *value, size_t len)
{
	(void)arg;
	cr_assert_eq(status, EXPOSR_OK);
	cr_assert_eq(put("ns", "k", "a much longer replacement value", 0, 0), EXPOSR_OK);
	cr_assert_eq(del("ns", "k"), EXPOSR_OK);
	cr_assert_eq(len, 5);
	cr_assert_eq(memcmp(value, "first", 5), 0);
}

static void reentrant_list(void *arg, int status, const char *const *keys, size_t count,
                           const char *next)
{
	(void)arg;
	(void)next;
	cr_assert_eq(status, EXPOSR_OK);
	cr_assert_eq(count, 2);
	cr_assert_eq(del("ns", "k1"), EXPOSR_OK);
	cr_assert_eq(del("ns", "k2"), EXPOSR_OK);
	cr_assert_str_eq(keys[0], "k1");
	cr_assert_str_eq(keys[1], "k2");
}

Test(memory, callbacks_may_change_the_store)
{
	cr_assert_eq(put("ns", "k", "first", 0, 0), EXPOSR_OK);
	vt->get(self, "ns", "k", reentrant_get, NULL);
	cr_assert_eq(put("ns", "k1", "1", 0, 0), EXPOSR_OK);
	cr_assert_eq(put("ns", "k2", "2", 0, 0), EXPOSR_OK);
	vt->list(self, "ns", NULL, 10, reentrant_list, NULL);
	cr_assert_eq(list("ns", NULL, 10).count, 0);
}

Test(memory, many_keys)
{
	char key[16];
	for (int i = 0; i < 2000; i++) {
		snprintf(key, sizeof(key), "k%05d", (i * 7919) % 2000);
		cr_assert_eq(put("big", key, "v", EXPOSR_STORAGE_IF_ABSENT, 0), EXPOSR_OK);
	}
	size_t seen = 0;
	char cursor[32] = "";
	char last[32] = "";
	for (;;) {
		struct answer a = list("big", cursor, 64);
		for (size_t i = 0; i < a.count; i++) {
			cr_assert_gt(strcmp(a.keys[i], last), 0);
			snprintf(last, sizeof(last), "%s", a.keys[i]);
		}
		seen += a.count;
		if (!a.has_next)
			break;
		snprintf(cursor, sizeof(cursor), "%s", a.next);
	}
	cr_assert_eq(seen, 2000);
	for (int i = 0; i < 2000; i += 2) {
		snprintf(key, sizeof(key), "k%05d", i);
		cr_assert_eq(del("big", key), EXPOSR_OK);
	}
	cr_assert_eq(get("big", "k00001").status, EXPOSR_OK);
	cr_assert_eq(get("big", "k00002").status, EXPOSR_NOT_FOUND);
}

Test(memory, refuses_unknown_config_keys)
{
	loader_fini_all();
	struct exposr_cfg *root = cfg_new_root();
	cr_assert_eq(cfg_set(root, "storage-memory.enabled", "true", "test"), EXPOSR_OK);
	cr_assert_eq(cfg_set(root, "storage-memory.size", "10", "--storage-memory-size"),
	             EXPOSR_OK);
	char path[1200];
	module_path(path, sizeof(path));
	FILE *tmp;
	int saved = capture_begin(&tmp);
	int rc = loader_init_one(host, "storage-memory", path,
	                         cfg_api.child(root, "storage-memory"));
	char *err = capture_end(tmp, saved);
	cr_assert_eq(rc, EXPOSR_ERROR);
	cr_assert(strstr(err, "unknown key") != NULL, "%s", err);
	cr_assert_null(registry_find(EXPOSR_KIND_STORAGE, NULL));
	free(err);
	cfg_free(root);
}

/* The behaviour every storage back-end shares (tests/unit/storage_contract.h). */
static struct storage_ut contract(void)
{
	return (struct storage_ut){.vt = vt, .self = self, .base = base, .pages_bounded = true};
}

Test(memory, contract_basics)
{
	struct storage_ut s = contract();
	st_contract_basics(&s);
}

Test(memory, contract_ttl)
{
	struct storage_ut s = contract();
	st_contract_ttl(&s);
}

Test(memory, contract_listing)
{
	struct storage_ut s = contract();
	st_contract_listing(&s);
}

Test(memory, contract_namespaces)
{
	struct storage_ut s = contract();
	st_contract_namespaces(&s);
}

Test(memory, contract_bytes)
{
	struct storage_ut s = contract();
	st_contract_bytes(&s);
}
