/* Reading records from storage and read-modify-write under the record's key lock. */
#include "record_io.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ids.h"
#include "keylock.h"
#include "store.h"

struct get_op {
	enum record_kind kind;
	exposr_record_cb cb;
	void *arg;
};

static void on_get(void *arg, int status, const char *value, size_t len)
{
	struct get_op *op = arg;
	cJSON *record = NULL;
	if (status == EXPOSR_OK && (record = records_parse(op->kind, value, len)) == NULL)
		status = EXPOSR_ERROR;
	else if (status != EXPOSR_OK && status != EXPOSR_NOT_FOUND)
		status = EXPOSR_ERROR;
	op->cb(op->arg, status, record);
	cJSON_Delete(record);
	free(op);
}

void record_get(enum record_kind kind, const char *key, exposr_record_cb cb, void *arg)
{
	struct get_op *op = calloc(1, sizeof(*op));
	if (op == NULL) {
		cb(arg, EXPOSR_ERROR, NULL);
		return;
	}
	op->kind = kind;
	op->cb = cb;
	op->arg = arg;
	store_get(records_namespace(kind), key, on_get, op);
}

char *record_lock_key(enum record_kind kind, const char *key)
{
	char *lock_key;
	if (asprintf(&lock_key, "%s:%s", records_namespace(kind), key) < 0)
		return NULL;
	return lock_key;
}

struct update_op {
	enum record_kind kind;
	char *key;
	char *lock_key;
	record_apply_fn apply;
	void *apply_arg;
	exposr_record_cb cb;
	void *arg;
	cJSON *record;
	char *text; /* kept until the backend has answered the write */
};

static void update_free(struct update_op *op)
{
	cJSON_Delete(op->record);
	free(op->text);
	free(op->key);
	free(op->lock_key);
	free(op);
}

/* The callback runs before the lock is handed on, so the record it sees is the one
 * stored and follow-up updates it starts queue behind the waiting ones. */
static void update_finish(struct update_op *op, int status)
{
	op->cb(op->arg, status, status == EXPOSR_OK ? op->record : NULL);
	char *lock_key = op->lock_key;
	op->lock_key = NULL;
	update_free(op);
	if (lock_key != NULL) {
		keylock_release(lock_key);
		free(lock_key);
	}
}

static void on_written(void *arg, int status)
{
	update_finish(arg, status == EXPOSR_OK ? EXPOSR_OK : EXPOSR_ERROR);
}

static void on_read(void *arg, int status, const char *value, size_t len)
{
	struct update_op *op = arg;
	if (status != EXPOSR_OK) {
		update_finish(op, status == EXPOSR_NOT_FOUND ? EXPOSR_NOT_FOUND : EXPOSR_ERROR);
		return;
	}
	op->record = records_parse(op->kind, value, len);
	if (op->record == NULL) {
		update_finish(op, EXPOSR_ERROR);
		return;
	}
	int rc = op->apply(op->apply_arg, op->record);
	if (rc != EXPOSR_OK) {
		update_finish(op, rc);
		return;
	}
	char now[IDS_ISO_SIZE];
	ids_iso_now(now);
	if (records_set_string(op->record, "updated_at", now) != EXPOSR_OK) {
		update_finish(op, EXPOSR_ERROR);
		return;
	}
	/* Hand callers back the canonical form, in the order it is stored. */
	cJSON *canonical = records_normalize(op->kind, op->record);
	if (canonical == NULL) {
		update_finish(op, EXPOSR_ERROR);
		return;
	}
	cJSON_Delete(op->record);
	op->record = canonical;
	op->text = cJSON_PrintUnformatted(op->record);
	if (op->text == NULL) {
		update_finish(op, EXPOSR_ERROR);
		return;
	}
	store_set(records_namespace(op->kind), op->key, op->text, strlen(op->text), 0, 0,
	          on_written, op);
}

static void update_start(void *arg, int status)
{
	struct update_op *op = arg;
	if (status != EXPOSR_OK) {
		/* Not held: nothing to release, and nothing written. */
		free(op->lock_key);
		op->lock_key = NULL;
		update_finish(op, EXPOSR_ERROR);
		return;
	}
	store_get(records_namespace(op->kind), op->key, on_read, op);
}

void record_update(enum record_kind kind, const char *key, record_apply_fn apply, void *apply_arg,
                   exposr_record_cb cb, void *arg)
{
	struct update_op *op = calloc(1, sizeof(*op));
	if (op == NULL || (op->key = strdup(key)) == NULL ||
	    (op->lock_key = record_lock_key(kind, key)) == NULL)
		goto fail;
	op->kind = kind;
	op->apply = apply;
	op->apply_arg = apply_arg;
	op->cb = cb;
	op->arg = arg;
	if (keylock_acquire(op->lock_key, update_start, op) != EXPOSR_OK)
		goto fail;
	return;
fail:
	if (op != NULL)
		update_free(op);
	cb(arg, EXPOSR_ERROR, NULL);
}
