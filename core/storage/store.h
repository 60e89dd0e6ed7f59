/* The storage backend the services use (found in the registry at start); every call
 * fails through its callback while there is none. */
#ifndef EXPOSR_CORE_STORE_H
#define EXPOSR_CORE_STORE_H

#include <exposr/storage.h>

#define STORE_NS_ACCOUNT  "account"
#define STORE_NS_TUNNEL   "tunnel"
#define STORE_NS_ALTNAMES "ingress-altnames"

/* vt NULL: forget the backend. */
void store_use(const struct exposr_storage_vtable *vt, void *self);
bool store_available(void);

void store_get(const char *ns, const char *key, exposr_storage_get_cb cb, void *arg);
void store_set(const char *ns, const char *key, const char *value, size_t len, unsigned flags,
               uint64_t ttl_ms, exposr_storage_done_cb cb, void *arg);
void store_del(const char *ns, const char *key, exposr_storage_done_cb cb, void *arg);
void store_list(const char *ns, const char *cursor, size_t count, exposr_storage_list_cb cb,
                void *arg);
/* Whether the backend locks keys across processes (storage.h: lock/unlock). */
bool store_has_lock(void);
/* The backend's lock; EXPOSR_ERROR when there is none. */
void store_lock(const char *key, void (*cb)(void *arg, int status, void *lock), void *arg);
void store_unlock(void *lock);

#endif
