/* The registry: add, find by name or kind, iterate, undo by owner; the checked
 * registration modules call refuses incomplete vtables and a second storage. */
#include <criterion/criterion.h>
#include <stddef.h>

#include <exposr/eventbus.h>
#include <exposr/ingress.h>
#include <exposr/storage.h>
#include <exposr/transport.h>

#include "capture.h"
#include "registry_table.h"

static struct exposr_module_handle *const owner_a = (struct exposr_module_handle *)0x1;
static struct exposr_module_handle *const owner_b = (struct exposr_module_handle *)0x2;
static const int vt1 = 1, vt2 = 2, vt3 = 3;

static void collect(void *arg, const struct exposr_registry_entry *e)
{
	char *names = arg;
	strcat(names, e->name);
	strcat(names, ",");
}

Test(registry, add_find_each_and_remove_by_owner)
{
	cr_assert_eq(registry_add(owner_a, "storage", "memory", &vt1, NULL), EXPOSR_OK);
	cr_assert_eq(registry_add(owner_b, "storage", "redis", &vt2, NULL), EXPOSR_OK);
	cr_assert_eq(registry_add(owner_b, "ingress", "http", &vt3, (void *)&vt3), EXPOSR_OK);
	cr_assert_eq(registry_add(owner_a, "storage", "memory", &vt1, NULL), EXPOSR_EXISTS);
	cr_assert_eq(registry_add(owner_a, NULL, "x", &vt1, NULL), EXPOSR_ERROR);

	const struct exposr_registry_entry *e = registry_find("storage", NULL);
	cr_assert_str_eq(e->name, "memory");
	e = registry_find("ingress", "http");
	cr_assert_eq(e->vtable, &vt3);
	cr_assert_eq(e->instance, (void *)&vt3);
	cr_assert_null(registry_find("ingress", "sni"));
	cr_assert_null(registry_find("api", NULL));

	char names[64] = "";
	registry_api.each("storage", collect, names);
	cr_assert_str_eq(names, "memory,redis,");

	registry_remove_module(owner_b);
	cr_assert_eq(registry_count(), 1);
	cr_assert_null(registry_find("storage", "redis"));
	registry_remove_module(owner_a);
	cr_assert_eq(registry_count(), 0);
}

/* The checked registration modules call: what each refusal prints. */
static char *refusal(int (*add)(void), int want_rc)
{
	FILE *tmp;
	int saved = capture_begin(&tmp);
	int rc = add();
	char *e = capture_end(tmp, saved);
	cr_assert_eq(rc, want_rc, "%s", e);
	return e;
}

static void get(void *self, const char *ns, const char *key, exposr_storage_get_cb cb, void *arg)
{
	(void)self;
	(void)ns;
	(void)key;
	cb(arg, EXPOSR_NOT_FOUND, NULL, 0);
}

static void set(void *self, const char *ns, const char *key, const char *value, size_t len,
                unsigned flags, uint64_t ttl_ms, exposr_storage_done_cb cb, void *arg)
{
	(void)self;
	(void)ns;
	(void)key;
	(void)value;
	(void)len;
	(void)flags;
	(void)ttl_ms;
	cb(arg, EXPOSR_OK);
}

static void del(void *self, const char *ns, const char *key, exposr_storage_done_cb cb, void *arg)
{
	(void)self;
	(void)ns;
	(void)key;
	cb(arg, EXPOSR_OK);
}

static void list(void *self, const char *ns, const char *cursor, size_t count,
                 exposr_storage_list_cb cb, void *arg)
{
	(void)self;
	(void)ns;
	(void)cursor;
	(void)count;
	cb(arg, EXPOSR_OK, NULL, 0, NULL);
}

static void unlock(void *self, void *lock)
{
	(void)self;
	(void)lock;
}

static const struct exposr_storage_vtable full_storage = {
        .size = sizeof(full_storage), .get = get, .set = set, .del = del, .list = list};
/* A table built before `list` existed ends at `del`, whatever lies beyond. */
static const struct exposr_storage_vtable short_storage = {
        .size = offsetof(struct exposr_storage_vtable, list),
        .get = get,
        .set = set,
        .del = del,
        .list = list};
static const struct exposr_storage_vtable unlock_only = {.size = sizeof(unlock_only),
                                                         .get = get,
                                                         .set = set,
                                                         .del = del,
                                                         .list = list,
                                                         .unlock = unlock};
static const struct exposr_eventbus_vtable no_publish = {.size = sizeof(no_publish)};
static const struct exposr_ingress_vtable no_tunnel_url = {.size = sizeof(no_tunnel_url)};
static const struct exposr_transport_vtable no_describe = {.size = sizeof(no_describe)};

static int add_full(void)
{
	return registry_api.add_storage(NULL, "full", &full_storage, NULL);
}
static int add_short(void)
{
	return registry_api.add_storage(NULL, "short", &short_storage, NULL);
}
static int add_unlock_only(void)
{
	return registry_api.add_storage(NULL, "unlocking", &unlock_only, NULL);
}
static int add_no_publish(void)
{
	return registry_api.add_eventbus(NULL, "bus", &no_publish, NULL);
}
static int add_no_tunnel_url(void)
{
	return registry_api.add_ingress(NULL, "sni", &no_tunnel_url, NULL);
}
static int add_no_describe(void)
{
	return registry_api.add_transport(NULL, "ws", &no_describe, NULL);
}

Test(registry, a_missing_mandatory_slot_is_refused_by_name)
{
	char *e = refusal(add_short, EXPOSR_ERROR);
	cr_assert_str_eq(e, "exposrd: module core: cannot register storage 'short': the mandatory "
	                    "slot 'list' is missing\n");
	free(e);
	e = refusal(add_unlock_only, EXPOSR_ERROR);
	cr_assert_str_eq(e, "exposrd: module core: cannot register storage 'unlocking': the "
	                    "mandatory slot 'lock' is missing\n");
	free(e);
	e = refusal(add_no_publish, EXPOSR_ERROR);
	cr_assert(strstr(e, "eventbus 'bus': the mandatory slot 'publish' is missing\n"), "%s", e);
	free(e);
	e = refusal(add_no_tunnel_url, EXPOSR_ERROR);
	cr_assert(strstr(e, "ingress 'sni': the mandatory slot 'tunnel_url' is missing\n"), "%s",
	          e);
	free(e);
	e = refusal(add_no_describe, EXPOSR_ERROR);
	cr_assert(strstr(e, "transport 'ws': the mandatory slot 'describe' is missing\n"), "%s", e);
	free(e);
	cr_assert_eq(registry_count(), 0);
}

Test(registry, a_second_storage_is_refused)
{
	char *e = refusal(add_full, EXPOSR_OK);
	cr_assert_str_eq(e, "");
	free(e);
	e = refusal(add_full, EXPOSR_ERROR);
	cr_assert_str_eq(e, "exposrd: module core: cannot register storage 'full': it registered "
	                    "'full' already, but exactly one storage module can be\n");
	free(e);
	cr_assert_eq(registry_count(), 1);
	registry_remove_module(NULL);
}

static int url(void *self, const char *tunnel_id, char *out, size_t out_size)
{
	(void)self;
	return snprintf(out, out_size, "tcps://%s", tunnel_id) > 0 ? EXPOSR_OK : EXPOSR_ERROR;
}

static const struct exposr_ingress_vtable ingress = {.size = sizeof(ingress), .tunnel_url = url};

static int add_ingress_http(void)
{
	return registry_api.add_ingress(NULL, "http", &ingress, NULL);
}

static int add_unnamed(void)
{
	return registry_api.add_ingress(NULL, NULL, &ingress, NULL);
}

Test(registry, a_taken_name_or_none_is_refused)
{
	char *e = refusal(add_ingress_http, EXPOSR_OK);
	free(e);
	e = refusal(add_ingress_http, EXPOSR_EXISTS);
	cr_assert_str_eq(e, "exposrd: module core: cannot register ingress 'http': module core "
	                    "registered one under that name\n");
	free(e);
	e = refusal(add_unnamed, EXPOSR_ERROR);
	cr_assert_str_eq(e, "exposrd: module core: cannot register ingress '': no name\n");
	free(e);
	registry_remove_module(NULL);
	cr_assert_eq(registry_count(), 0);
}
