/* Reading records from storage and read-modify-write under the record's key lock. */
#ifndef EXPOSR_CORE_RECORD_IO_H
#define EXPOSR_CORE_RECORD_IO_H

#include <exposr/accounts.h>

#include "records.h"

/* Edits the record in place; a status other than EXPOSR_OK aborts the update. */
typedef int (*record_apply_fn)(void *arg, cJSON *record);

/* cb: EXPOSR_OK with the canonical record, EXPOSR_NOT_FOUND or EXPOSR_ERROR (also
 * for a stored value that is not a JSON object). */
void record_get(enum record_kind kind, const char *key, exposr_record_cb cb, void *arg);
/* Reads, applies, sets updated_at and writes, holding the record's key lock (keylock.h:
 * the storage's lock too, when it has one); cb gets the written record (still under
 * the lock: an update it starts on the same record runs after this one), or
 * EXPOSR_ERROR with nothing written when the lock could not be taken. */
void record_update(enum record_kind kind, const char *key, record_apply_fn apply, void *apply_arg,
                   exposr_record_cb cb, void *arg);
/* The keylock key of a record, "<namespace>:<key>"; caller frees. */
char *record_lock_key(enum record_kind kind, const char *key);

#endif
