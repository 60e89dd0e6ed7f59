/* Per-key FIFO serialisation of read-modify-write operations, so that updates of one
 * record never interleave, whether the storage answers at once or later, and whether
 * they come from this process or from another node sharing the storage. */
#ifndef EXPOSR_CORE_KEYLOCK_H
#define EXPOSR_CORE_KEYLOCK_H

#include <exposr/common.h>

/* Runs `fn(arg, status)` once `key` ("<namespace>:<key>", see record_lock_key) is
 * held: before returning if nobody holds it and the storage answers at once, else after
 * the operations queued before it. The key is held first in this process, then, when
 * the storage has a lock (storage.h), across every process sharing the storage, with
 * the storage's bounded wait. status EXPOSR_OK: the operation holds the key until it
 * calls keylock_release(key) once. EXPOSR_ERROR: the storage's lock could not be
 * taken; the key is not held and must not be released. keylock_acquire returns
 * EXPOSR_ERROR (fn never runs) when out of memory. */
int keylock_acquire(const char *key, void (*fn)(void *arg, int status), void *arg);
/* Releases the storage's lock, then hands the key to the next queued operation (which
 * runs now) or frees it. */
void keylock_release(const char *key);
/* Keys held or waited for (tests). */
size_t keylock_count(void);
/* Forgets every lock and queued operation (the operations are not run, the storage's
 * locks are left to expire). */
void keylock_free_all(void);

#endif
