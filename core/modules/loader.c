/* The module loader: finds, dlopen()s, checks and drives the lifecycle of every
 * module the configuration enables. */
#include "loader.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "cfg.h"
#include "http_listener.h"
#include "log.h"
#include "registry_table.h"
#include "settings_table.h"
#include "timer.h"

enum module_phase { PHASE_INITIALISED, PHASE_STARTED, PHASE_STOPPING, PHASE_DRAINED };

struct exposr_module_handle {
	char *name;
	char *path;
	void *dl;
	const struct exposr_module *desc;
	void *state;
	enum module_phase phase;
	struct exposr_module_handle *next;
};

static struct exposr_module_handle *modules_head; /* most recently loaded first */
static void (*drained_callback)(void);

const char *loader_module_name(const struct exposr_module_handle *mod)
{
	return mod != NULL ? mod->name : "core";
}

size_t loader_module_count(void)
{
	size_t n = 0;
	for (struct exposr_module_handle *m = modules_head; m != NULL; m = m->next)
		n++;
	return n;
}

static void handle_free(struct exposr_module_handle *m)
{
	if (m->dl != NULL)
		dlclose(m->dl);
	free(m->name);
	free(m->path);
	free(m);
}

/* Everything a module may have registered through the host goes with it. */
static void undo_registrations(struct exposr_module_handle *m)
{
	http_routes_remove_module(m);
	registry_remove_module(m);
	timers_remove_module(m);
}

static const char *check_descriptor(const struct exposr_module *d, const char *name, char *why,
                                    size_t why_size)
{
	if (d->abi_major != EXPOSR_ABI_MAJOR) {
		snprintf(why, why_size, "built for module ABI %u.%u, exposrd has %u.%u",
		         d->abi_major, d->abi_minor, EXPOSR_ABI_MAJOR, EXPOSR_ABI_MINOR);
		return why;
	}
	if (d->abi_minor > EXPOSR_ABI_MINOR) {
		snprintf(why, why_size, "needs module ABI %u.%u, exposrd has %u.%u", d->abi_major,
		         d->abi_minor, EXPOSR_ABI_MAJOR, EXPOSR_ABI_MINOR);
		return why;
	}
	if (d->name == NULL || strcmp(d->name, name) != 0) {
		snprintf(why, why_size, "declares the name '%s', expected '%s'",
		         d->name ? d->name : "(none)", name);
		return why;
	}
	if (d->init == NULL)
		return "missing mandatory hook 'init'";
	if (d->fini == NULL)
		return "missing mandatory hook 'fini'";
	return NULL;
}

int loader_init_one(const struct exposr_host *host, const char *name, const char *path,
                    const struct exposr_cfg *cfg)
{
	struct exposr_module_handle *m = calloc(1, sizeof(*m));
	if (m == NULL || (m->name = strdup(name)) == NULL || (m->path = strdup(path)) == NULL) {
		fprintf(stderr, "%s: out of memory\n", path);
		goto fail;
	}
	m->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (m->dl == NULL) {
		fprintf(stderr, "%s: cannot load module: %s\n", path, dlerror());
		goto fail;
	}
	m->desc = dlsym(m->dl, EXPOSR_MODULE_SYMBOL);
	if (m->desc == NULL) {
		fprintf(stderr, "%s: not an exposrd module: no '%s' symbol\n", path,
		        EXPOSR_MODULE_SYMBOL);
		goto fail;
	}
	char why[160];
	const char *bad = check_descriptor(m->desc, name, why, sizeof(why));
	if (bad != NULL) {
		fprintf(stderr, "%s: refused: %s\n", path, bad);
		goto fail;
	}
	/* The core checks what the module declared before the module sees it. */
	char where[96];
	snprintf(where, sizeof(where), "modules.%s", name);
	if (settings_read(cfg, where, catalog_settings(m->desc), "enabled", NULL) != EXPOSR_OK)
		goto fail;
	unsigned long errors = log_error_count();
	if (m->desc->init(host, m, cfg, &m->state) != EXPOSR_OK) {
		/* One line per error: this one only when the module said nothing itself. */
		if (log_error_count() == errors)
			fprintf(stderr, "%s: module '%s' failed to initialise\n", path, name);
		undo_registrations(m);
		goto fail;
	}
	m->phase = PHASE_INITIALISED;
	m->next = modules_head;
	modules_head = m;
	log_debug("loaded module %s %s from %s", name, m->desc->version ? m->desc->version : "",
	          path);
	return EXPOSR_OK;
fail:
	if (m != NULL)
		handle_free(m);
	return EXPOSR_ERROR;
}

static bool valid_module_name(const char *name)
{
	if (name[0] == '\0')
		return false;
	for (const char *p = name; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' ||
		      *p == '_'))
			return false;
	return true;
}

/* A module listed in the file is on unless it says `enabled: false`; one that only
 * a flag or variable mentioned must be switched on explicitly. */
static int module_enabled(const struct exposr_cfg *entry, bool *enabled)
{
	if (cfg_api.type(entry) == EXPOSR_CFG_SCALAR) {
		/* `name:` with no value, or `name: true|false`. */
		const char *v;
		if (cfg_api.get_string(entry, NULL, NULL, &v) != EXPOSR_OK)
			return EXPOSR_ERROR;
		*enabled = cfg_from_file(entry);
		return EXPOSR_OK;
	}
	return cfg_api.get_bool(entry, "enabled", cfg_from_file(entry), enabled);
}

int loader_init_all(const struct exposr_host *host, const char *module_dir,
                    const struct exposr_cfg *modules)
{
	if (modules != NULL && cfg_api.type(modules) != EXPOSR_CFG_MAPPING) {
		cfg_api.error(modules, NULL, "must be a mapping of module names");
		return EXPOSR_ERROR;
	}
	for (size_t i = 0; i < cfg_count(modules); i++) {
		const char *name;
		const struct exposr_cfg *entry = cfg_at(modules, i, &name);
		if (cfg_api.type(entry) == EXPOSR_CFG_SEQUENCE) {
			cfg_api.error(entry, NULL, "must be a mapping of settings");
			goto fail;
		}
		bool enabled;
		if (module_enabled(entry, &enabled) != EXPOSR_OK)
			goto fail;
		if (!enabled)
			continue;
		if (!valid_module_name(name)) {
			cfg_api.error(entry, NULL, "not a module name");
			goto fail;
		}
		char *path;
		if (asprintf(&path, "%s/%s.so", module_dir, name) < 0)
			goto fail;
		const struct exposr_cfg *settings =
		        cfg_api.type(entry) == EXPOSR_CFG_MAPPING ? entry : NULL;
		int rc = loader_init_one(host, name, path, settings);
		free(path);
		if (rc != EXPOSR_OK)
			goto fail;
	}
	return EXPOSR_OK;
fail:
	loader_fini_all();
	return EXPOSR_ERROR;
}

int loader_start_all(void)
{
	/* Start in load order: the list is newest first, so walk it reversed. */
	size_t n = loader_module_count();
	for (size_t k = n; k > 0; k--) {
		struct exposr_module_handle *m = modules_head;
		for (size_t i = 1; i < k; i++)
			m = m->next;
		unsigned long errors = log_error_count();
		if (m->desc->start != NULL && m->desc->start(m->state) != EXPOSR_OK) {
			if (log_error_count() == errors)
				fprintf(stderr, "%s: module '%s' failed to start\n", m->path,
				        m->name);
			return EXPOSR_ERROR;
		}
		m->phase = PHASE_STARTED;
	}
	return EXPOSR_OK;
}

static void check_all_drained(void)
{
	for (struct exposr_module_handle *m = modules_head; m != NULL; m = m->next)
		if (m->phase == PHASE_STOPPING)
			return;
	void (*cb)(void) = drained_callback;
	drained_callback = NULL;
	if (cb != NULL)
		cb();
}

void loader_module_drained(struct exposr_module_handle *mod)
{
	if (mod != NULL && mod->phase == PHASE_STOPPING) {
		mod->phase = PHASE_DRAINED;
		check_all_drained();
	}
}

void loader_stop_all(void (*all_drained)(void))
{
	drained_callback = all_drained;
	/* Everything is marked first so a module that reports drained at once does
	 * not end the wait before the others were asked. */
	for (struct exposr_module_handle *m = modules_head; m != NULL; m = m->next)
		m->phase = PHASE_STOPPING;
	for (struct exposr_module_handle *m = modules_head; m != NULL; m = m->next) {
		int rc = m->desc->stop != NULL ? m->desc->stop(m->state) : EXPOSR_OK;
		if (rc != EXPOSR_AGAIN && m->phase == PHASE_STOPPING)
			m->phase = PHASE_DRAINED;
	}
	check_all_drained();
}

void loader_fini_all(void)
{
	while (modules_head != NULL) {
		struct exposr_module_handle *m = modules_head;
		modules_head = m->next;
		m->desc->fini(m->state);
		undo_registrations(m);
		handle_free(m);
	}
}
