/* The module loader: loading, refusing bad modules with one clear line, undoing a
 * failed module, lifecycle order. Uses the fixture modules in FIXTURE_DIR. */
#include <criterion/criterion.h>
#include <event2/event.h>
#include <exposr/api.h>

#include "capture.h"
#include "cfg.h"
#include "host_table.h"
#include "http_listener.h"
#include "loader.h"
#include "registry_table.h"
#include "timer.h"

static struct event_base *base;
static const struct exposr_host *host;

static void setup(void)
{
	base = event_base_new();
	host = host_table(base);
}

static void teardown(void)
{
	loader_fini_all();
	http_listeners_free();
	event_base_free(base);
}

TestSuite(loader, .init = setup, .fini = teardown);

static struct exposr_cfg *yaml(const char *text)
{
	char *path = write_temp(text, ".yaml");
	struct exposr_cfg *root = cfg_load_file(path);
	unlink(path);
	free(path);
	cr_assert_not_null(root);
	return root;
}

/* Loads `file` as module `name`; returns the stderr text. */
static char *load_one(const char *name, const char *file, const struct exposr_cfg *cfg, int *rc)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", FIXTURE_DIR, file);
	FILE *tmp;
	int saved = capture_begin(&tmp);
	*rc = loader_init_one(host, name, path, cfg);
	return capture_end(tmp, saved);
}

Test(loader, loads_a_module_that_registers_through_the_host)
{
	int rc;
	char *e = load_one("fixture", "fixture.so", NULL, &rc);
	cr_assert_eq(rc, EXPOSR_OK, "%s", e);
	free(e);
	cr_assert_eq(loader_module_count(), 1);
	const struct exposr_registry_entry *entry = registry_find(EXPOSR_KIND_API, "fixture");
	cr_assert_not_null(entry);
	cr_assert_eq(((const struct exposr_api_vtable *)entry->vtable)->size,
	             sizeof(struct exposr_api_vtable));
	cr_assert_eq(http_route_count(), 1);
	cr_assert_eq(timers_count(), 1);
	loader_fini_all();
	cr_assert_eq(loader_module_count(), 0);
	cr_assert_eq(registry_count(), 0);
	cr_assert_eq(http_route_count(), 0);
	cr_assert_eq(timers_count(), 0);
}

Test(loader, missing_file)
{
	int rc;
	char *e = load_one("absent", "absent.so", NULL, &rc);
	cr_assert_eq(rc, EXPOSR_ERROR);
	cr_assert(strstr(e, FIXTURE_DIR "/absent.so: cannot load module: ") == e, "%s", e);
	cr_assert(strstr(e, "No such file or directory\n") != NULL, "%s", e);
	free(e);
}

Test(loader, file_without_descriptor)
{
	int rc;
	char *e = load_one("fixture-nosymbol", "fixture-nosymbol.so", NULL, &rc);
	cr_assert_eq(rc, EXPOSR_ERROR);
	cr_assert_str_eq(
	        e, FIXTURE_DIR
	        "/fixture-nosymbol.so: not an exposrd module: no 'exposr_module' symbol\n");
	free(e);
}

Test(loader, abi_major_mismatch)
{
	int rc;
	char *e = load_one("fixture-abi", "fixture-abi.so", NULL, &rc);
	cr_assert_eq(rc, EXPOSR_ERROR);
	char want[256];
	snprintf(want, sizeof(want),
	         "%s/fixture-abi.so: refused: built for module ABI %d.0, exposrd has %d.%d\n",
	         FIXTURE_DIR, EXPOSR_ABI_MAJOR + 1, EXPOSR_ABI_MAJOR, EXPOSR_ABI_MINOR);
	cr_assert_str_eq(e, want);
	free(e);
}

Test(loader, missing_mandatory_hook)
{
	int rc;
	char *e = load_one("fixture-nofini", "fixture-nofini.so", NULL, &rc);
	cr_assert_eq(rc, EXPOSR_ERROR);
	cr_assert_str_eq(e, FIXTURE_DIR
	                 "/fixture-nofini.so: refused: missing mandatory hook 'fini'\n");
	free(e);
}

Test(loader, name_must_match_the_file)
{
	int rc;
	char *e = load_one("other", "fixture.so", NULL, &rc);
	cr_assert_eq(rc, EXPOSR_ERROR);
	cr_assert_str_eq(e, FIXTURE_DIR
	                 "/fixture.so: refused: declares the name 'fixture', expected 'other'\n");
	free(e);
}

Test(loader, failed_init_is_rolled_back)
{
	struct exposr_cfg *cfg = yaml("fail: true\n");
	int rc;
	char *e = load_one("fixture", "fixture.so", cfg, &rc);
	cr_assert_eq(rc, EXPOSR_ERROR);
	/* The module's own line is the whole error. */
	cr_assert(strstr(e, "fixture init failing as configured\n") != NULL, "%s", e);
	cr_assert_str_eq(strchr(e, '\n'), "\n", "more than one line: %s", e);
	free(e);
	cr_assert_eq(loader_module_count(), 0);
	cr_assert_eq(registry_count(), 0);
	cr_assert_eq(http_route_count(), 0);
	cr_assert_eq(timers_count(), 0);
	cfg_free(cfg);
}

Test(loader, a_registration_without_a_mandatory_slot_is_refused_and_undone)
{
	struct exposr_cfg *cfg = yaml("kind: storage\nname: half\n");
	int rc;
	char *e = load_one("fixture", "fixture.so", cfg, &rc);
	cr_assert_eq(rc, EXPOSR_ERROR);
	/* The core's line names the module, the interface and the slot; nothing else. */
	cr_assert_str_eq(e, "exposrd: module fixture: cannot register storage 'half': the "
	                    "mandatory slot 'set' is missing\n");
	free(e);
	/* What the module registered before the refusal went with it. */
	cr_assert_eq(loader_module_count(), 0);
	cr_assert_eq(registry_count(), 0);
	cr_assert_eq(http_route_count(), 0);
	cr_assert_eq(timers_count(), 0);
	cfg_free(cfg);
}

Test(loader, a_module_failing_without_a_word_is_named)
{
	struct exposr_cfg *cfg = yaml("fail-silently: true\n");
	int rc;
	char *e = load_one("fixture", "fixture.so", cfg, &rc);
	cr_assert_eq(rc, EXPOSR_ERROR);
	cr_assert_str_eq(e, FIXTURE_DIR "/fixture.so: module 'fixture' failed to initialise\n");
	free(e);
	cfg_free(cfg);
}

/* Loads the `modules:` of `text`; returns the stderr text. */
static char *load_all(const char *text, int *rc)
{
	struct exposr_cfg *root = yaml(text);
	FILE *tmp;
	int saved = capture_begin(&tmp);
	*rc = loader_init_all(host, FIXTURE_DIR, cfg_api.child(root, "modules"));
	char *e = capture_end(tmp, saved);
	cfg_free(root);
	return e;
}

Test(loader, two_storage_modules_are_refused_naming_both)
{
	int rc;
	char *e = load_all("modules:\n  storage-memory: {}\n"
	                   "  storage-sqlite: {url: 'sqlite:///nonexistent/x.sqlite'}\n",
	                   &rc);
	cr_assert_eq(rc, EXPOSR_ERROR);
	cr_assert_str_eq(e, "exposrd: modules storage-memory and storage-sqlite are both enabled, "
	                    "but exactly one storage module can be: remove one of them from "
	                    "modules: or set its enabled: false\n");
	free(e);
	cr_assert_eq(loader_module_count(), 0);
	cr_assert_eq(registry_count(), 0);
}

Test(loader, a_storage_module_turned_off_leaves_one)
{
	int rc;
	char *e = load_all("modules:\n  storage-memory: {enabled: false}\n"
	                   "  storage-sqlite: {url: 'sqlite:///nonexistent/x.sqlite'}\n",
	                   &rc);
	cr_assert_eq(rc, EXPOSR_OK, "%s", e);
	cr_assert_str_eq(e, "");
	free(e);
}

Test(loader, two_cluster_buses_are_refused_naming_both)
{
	int rc;
	char *e = load_all("modules:\n  cluster-redis: {url: 'redis://127.0.0.1:1'}\n"
	                   "  fixture: {kind: eventbus}\n",
	                   &rc);
	cr_assert_eq(rc, EXPOSR_ERROR);
	cr_assert_str_eq(e, "exposrd: modules cluster-redis and fixture are both enabled, "
	                    "but at most one cluster bus module can be: remove one of them from "
	                    "modules: or set its enabled: false\n");
	free(e);
	cr_assert_eq(loader_module_count(), 0);
}

Test(loader, module_validates_its_own_subtree)
{
	struct exposr_cfg *root = yaml("modules:\n  fixture:\n    port: many\n");
	const struct exposr_cfg *mods = cfg_api.child(root, "modules");
	FILE *tmp;
	int saved = capture_begin(&tmp);
	int rc = loader_init_all(host, FIXTURE_DIR, mods);
	char *e = capture_end(tmp, saved);
	cr_assert_eq(rc, EXPOSR_ERROR);
	cr_assert(strstr(e, ":3:11: modules.fixture.port: 'many' is not an integer\n") != NULL,
	          "%s", e);
	free(e);
	cfg_free(root);
}

Test(loader, init_all_skips_disabled_and_undoes_earlier_modules_on_failure)
{
	struct exposr_cfg *root = yaml("modules:\n  fixture:\n    name: first\n"
	                               "  fixture-abi:\n    enabled: false\n"
	                               "  absent:\n");
	const struct exposr_cfg *mods = cfg_api.child(root, "modules");
	FILE *tmp;
	int saved = capture_begin(&tmp);
	int rc = loader_init_all(host, FIXTURE_DIR, mods);
	char *e = capture_end(tmp, saved);
	cr_assert_eq(rc, EXPOSR_ERROR);
	/* The disabled module was never opened; the failing one is named. */
	cr_assert(strstr(e, "fixture-abi") == NULL, "%s", e);
	cr_assert(strstr(e, FIXTURE_DIR "/absent.so: cannot load module") != NULL, "%s", e);
	cr_assert_eq(loader_module_count(), 0);
	cr_assert_eq(registry_count(), 0);
	free(e);
	cfg_free(root);
}

Test(loader, module_mentioned_only_by_a_flag_stays_off)
{
	struct exposr_cfg *root = cfg_new_root();
	cr_assert_eq(cfg_set(root, "modules.absent.url", "x", "--flag"), EXPOSR_OK);
	cr_assert_eq(loader_init_all(host, FIXTURE_DIR, cfg_api.child(root, "modules")), EXPOSR_OK);
	cr_assert_eq(loader_module_count(), 0);
	cfg_free(root);
}

Test(loader, bad_module_names_are_refused)
{
	struct exposr_cfg *root = yaml("modules:\n  ../etc/evil:\n");
	FILE *tmp;
	int saved = capture_begin(&tmp);
	int rc = loader_init_all(host, FIXTURE_DIR, cfg_api.child(root, "modules"));
	char *e = capture_end(tmp, saved);
	cr_assert_eq(rc, EXPOSR_ERROR);
	cr_assert(strstr(e, ":2:15: modules.../etc/evil: not a module name\n") != NULL, "%s", e);
	free(e);
	cfg_free(root);
}

static int drained_calls;
static void on_drained(void)
{
	drained_calls++;
}

Test(loader, start_and_stop_lifecycle)
{
	struct exposr_cfg *root = yaml("modules:\n  fixture:\n");
	cr_assert_eq(loader_init_all(host, FIXTURE_DIR, cfg_api.child(root, "modules")), EXPOSR_OK);
	cr_assert_eq(loader_start_all(), EXPOSR_OK);
	drained_calls = 0;
	loader_stop_all(on_drained);
	cr_assert_eq(drained_calls, 1);
	cfg_free(root);
}
