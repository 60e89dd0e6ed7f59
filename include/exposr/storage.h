/* The storage interface: a namespaced key-value store of JSON text. Every call
 * completes through its callback, which may run before the call returns. */
#ifndef EXPOSR_STORAGE_H
#define EXPOSR_STORAGE_H

#include "common.h"

#define EXPOSR_STORAGE_IF_ABSENT 0x1u

/* status: EXPOSR_OK with the value, EXPOSR_NOT_FOUND, or EXPOSR_ERROR (backend down). */
typedef void (*exposr_storage_get_cb)(void *arg, int status, const char *value, size_t len);
/* status: EXPOSR_OK, EXPOSR_EXISTS (IF_ABSENT and the key is there), EXPOSR_NOT_FOUND
 * (delete of a missing key) or EXPOSR_ERROR. */
typedef void (*exposr_storage_done_cb)(void *arg, int status);
/* One page of keys (without namespace). next_cursor is NULL after the last page. */
typedef void (*exposr_storage_list_cb)(void *arg, int status, const char *const *keys, size_t count,
                                       const char *next_cursor);

/* Registered with registry->add_storage. get, set, del and list are mandatory. */
struct exposr_storage_vtable {
	size_t size;
	void (*get)(void *self, const char *ns, const char *key, exposr_storage_get_cb cb,
	            void *arg);
	/* ttl_ms == 0: no expiry. */
	void (*set)(void *self, const char *ns, const char *key, const char *value, size_t len,
	            unsigned flags, uint64_t ttl_ms, exposr_storage_done_cb cb, void *arg);
	void (*del)(void *self, const char *ns, const char *key, exposr_storage_done_cb cb,
	            void *arg);
	/* cursor: NULL or "" for the first page, else a next_cursor handed out before. */
	void (*list)(void *self, const char *ns, const char *cursor, size_t count,
	             exposr_storage_list_cb cb, void *arg);
	/* Optional, both or neither: NULL when one process owns the back-end and in-process
	 * serialisation is enough. Locks `key` (without namespace) for a read-modify-write
	 * across every process sharing the back-end: cb gets EXPOSR_OK and a handle to pass
	 * to unlock() once, or EXPOSR_ERROR and NULL (back-end down, or still taken after
	 * the retries). Check `size` before using them: older modules lack them. */
	void (*lock)(void *self, const char *key, void (*cb)(void *arg, int status, void *lock),
	             void *arg);
	void (*unlock)(void *self, void *lock);
};

#endif
