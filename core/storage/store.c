/* The storage backend the services use. */
#include "store.h"

#include <stddef.h>

static const struct exposr_storage_vtable *store_vt;
static void *store_self;

void store_use(const struct exposr_storage_vtable *vt, void *self)
{
	store_vt = vt;
	store_self = vt != NULL ? self : NULL;
}

bool store_available(void)
{
	return store_vt != NULL;
}

void store_get(const char *ns, const char *key, exposr_storage_get_cb cb, void *arg)
{
	if (store_vt == NULL)
		cb(arg, EXPOSR_ERROR, NULL, 0);
	else
		store_vt->get(store_self, ns, key, cb, arg);
}

void store_set(const char *ns, const char *key, const char *value, size_t len, unsigned flags,
               uint64_t ttl_ms, exposr_storage_done_cb cb, void *arg)
{
	if (store_vt == NULL)
		cb(arg, EXPOSR_ERROR);
	else
		store_vt->set(store_self, ns, key, value, len, flags, ttl_ms, cb, arg);
}

void store_del(const char *ns, const char *key, exposr_storage_done_cb cb, void *arg)
{
	if (store_vt == NULL)
		cb(arg, EXPOSR_ERROR);
	else
		store_vt->del(store_self, ns, key, cb, arg);
}

void store_list(const char *ns, const char *cursor, size_t count, exposr_storage_list_cb cb,
                void *arg)
{
	if (store_vt == NULL)
		cb(arg, EXPOSR_ERROR, NULL, 0, NULL);
	else
		store_vt->list(store_self, ns, cursor, count, cb, arg);
}

bool store_has_lock(void)
{
	return store_vt != NULL &&
	       store_vt->size >=
	               offsetof(struct exposr_storage_vtable, unlock) + sizeof(store_vt->unlock) &&
	       store_vt->lock != NULL && store_vt->unlock != NULL;
}

void store_lock(const char *key, void (*cb)(void *arg, int status, void *lock), void *arg)
{
	if (!store_has_lock())
		cb(arg, EXPOSR_ERROR, NULL);
	else
		store_vt->lock(store_self, key, cb, arg);
}

void store_unlock(void *lock)
{
	if (store_has_lock())
		store_vt->unlock(store_self, lock);
}
