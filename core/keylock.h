/* Per-key FIFO serialisation of read-modify-write operations, so that updates of one
 * record never interleave, whether the storage answers at once or later. */
#ifndef EXPOSR_CORE_KEYLOCK_H
#define EXPOSR_CORE_KEYLOCK_H

#include <exposr/common.h>

/* Runs `fn(arg)` once `key` is free: before returning if nobody holds it, else after
 * the operations queued before it. The operation then holds the key until it calls
 * keylock_release(key) once. EXPOSR_ERROR (fn never runs) when out of memory. */
int keylock_acquire(const char *key, void (*fn)(void *arg), void *arg);
/* Hands the key to the next queued operation (which runs now) or frees it. */
void keylock_release(const char *key);
/* Keys held or waited for (tests). */
size_t keylock_count(void);
/* Forgets every lock and queued operation (the operations are not run). */
void keylock_free_all(void);

#endif
