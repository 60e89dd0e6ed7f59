/* The registry: add, find by name or kind, iterate, undo by owner. */
#include <criterion/criterion.h>

#include "registry.h"

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
