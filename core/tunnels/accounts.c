/* The account service: account numbers, records, disabling, removal, listing. */
#include <stdlib.h>
#include <string.h>

#include "cluster_tunnels.h"
#include "ids.h"
#include "keylock.h"
#include "record_io.h"
#include "seq.h"
#include "services.h"
#include "services_int.h"
#include "store.h"
#include "tunnel_state.h"

/* docs/api.md §1.2: one number and up to 100 more after collisions. */
#define ACCOUNT_CREATE_ATTEMPTS 101

/* ---- create ---- */

struct create_op {
	struct seq seq;
	unsigned attempts;
	int last;
	cJSON *record;
	char *text;
	exposr_record_cb cb;
	void *arg;
};

static void create_finish(struct create_op *op, int status)
{
	op->cb(op->arg, status, status == EXPOSR_OK ? op->record : NULL);
	cJSON_Delete(op->record);
	free(op->text);
	free(op);
}

static void on_account_stored(void *arg, int status)
{
	struct create_op *op = arg;
	op->last = status;
	seq_done(&op->seq, op);
}

static bool create_step(void *arg)
{
	struct create_op *op = arg;
	if (op->attempts > 0 && op->last != EXPOSR_EXISTS) {
		create_finish(op, op->last == EXPOSR_OK ? EXPOSR_OK : EXPOSR_ERROR);
		return false;
	}
	if (op->attempts == ACCOUNT_CREATE_ATTEMPTS) {
		create_finish(op, EXPOSR_ERROR);
		return false;
	}
	op->attempts++;
	cJSON_Delete(op->record);
	free(op->text);
	op->record = NULL;
	op->text = NULL;
	char id[IDS_ACCOUNT_LEN + 1];
	char now[IDS_ISO_SIZE];
	ids_iso_now(now);
	if (ids_account_generate(id) != EXPOSR_OK ||
	    (op->record = records_account_new(id, now)) == NULL ||
	    (op->text = records_serialize(RECORD_ACCOUNT, op->record)) == NULL) {
		create_finish(op, EXPOSR_ERROR);
		return false;
	}
	store_set(STORE_NS_ACCOUNT, id, op->text, strlen(op->text), EXPOSR_STORAGE_IF_ABSENT, 0,
	          on_account_stored, op);
	return true;
}

static void accounts_create(exposr_record_cb cb, void *arg)
{
	struct create_op *op = calloc(1, sizeof(*op));
	if (op == NULL) {
		cb(arg, EXPOSR_ERROR, NULL);
		return;
	}
	op->seq.step = create_step;
	op->cb = cb;
	op->arg = arg;
	seq_run(&op->seq, op);
}

/* ---- get ---- */

static void accounts_get(const char *account_id, exposr_record_cb cb, void *arg)
{
	char id[IDS_ACCOUNT_LEN + 1];
	if (!ids_account_normalize(account_id, id)) {
		cb(arg, EXPOSR_NOT_FOUND, NULL);
		return;
	}
	record_get(RECORD_ACCOUNT, id, cb, arg);
}

/* ---- remove ---- */

struct remove_op {
	struct seq seq;
	char id[IDS_ACCOUNT_LEN + 1];
	char **tunnels;
	size_t count;
	size_t index;
	int last;
	char *lock_key;
	exposr_done_cb cb;
	void *arg;
};

static void remove_finish(struct remove_op *op, int status)
{
	op->cb(op->arg, status);
	char *lock_key = op->lock_key;
	for (size_t i = 0; i < op->count; i++)
		free(op->tunnels[i]);
	free(op->tunnels);
	free(op);
	if (lock_key != NULL) {
		keylock_release(lock_key);
		free(lock_key);
	}
}

static void on_account_deleted(void *arg, int status)
{
	remove_finish(arg,
	              status == EXPOSR_OK || status == EXPOSR_NOT_FOUND ? status : EXPOSR_ERROR);
}

static void delete_locked(void *arg, int status)
{
	struct remove_op *op = arg;
	if (status != EXPOSR_OK) {
		free(op->lock_key);
		op->lock_key = NULL;
		remove_finish(op, EXPOSR_ERROR);
		return;
	}
	store_del(STORE_NS_ACCOUNT, op->id, on_account_deleted, op);
}

static void on_tunnel_removed(void *arg, int status)
{
	struct remove_op *op = arg;
	op->last = status;
	seq_done(&op->seq, op);
}

static bool remove_step(void *arg)
{
	struct remove_op *op = arg;
	/* A tunnel that could not be deleted keeps the account, so a retry can finish. */
	if (op->index > 0 && op->last == EXPOSR_ERROR) {
		remove_finish(op, EXPOSR_ERROR);
		return false;
	}
	if (op->index < op->count) {
		const char *tunnel_id = op->tunnels[op->index++];
		tunnel_remove_owned(tunnel_id, op->id, on_tunnel_removed, op);
		return true;
	}
	/* The last step leaves the sequence: the delete may complete (and free op)
	 * before keylock_acquire returns. */
	char *lock_key = record_lock_key(RECORD_ACCOUNT, op->id);
	if (lock_key == NULL) {
		remove_finish(op, EXPOSR_ERROR);
		return false;
	}
	op->lock_key = lock_key;
	if (keylock_acquire(lock_key, delete_locked, op) != EXPOSR_OK) {
		op->lock_key = NULL;
		free(lock_key);
		remove_finish(op, EXPOSR_ERROR);
	}
	return false;
}

static void on_remove_read(void *arg, int status, const cJSON *account)
{
	struct remove_op *op = arg;
	if (status != EXPOSR_OK) {
		remove_finish(op, status);
		return;
	}
	const cJSON *list = records_at(account, "tunnels");
	int n = cJSON_GetArraySize(list);
	if (n > 0 && (op->tunnels = calloc((size_t)n, sizeof(*op->tunnels))) == NULL) {
		remove_finish(op, EXPOSR_ERROR);
		return;
	}
	const cJSON *item;
	cJSON_ArrayForEach(item, list)
	{
		if (!cJSON_IsString(item))
			continue;
		if ((op->tunnels[op->count] = strdup(item->valuestring)) == NULL) {
			remove_finish(op, EXPOSR_ERROR);
			return;
		}
		op->count++;
	}
	seq_run(&op->seq, op);
}

static void accounts_remove(const char *account_id, exposr_done_cb cb, void *arg)
{
	struct remove_op *op = calloc(1, sizeof(*op));
	if (op == NULL) {
		cb(arg, EXPOSR_ERROR);
		return;
	}
	op->seq.step = remove_step;
	op->cb = cb;
	op->arg = arg;
	/* D18: the canonical number, so the tunnels go with the account. */
	if (!ids_account_normalize(account_id, op->id)) {
		remove_finish(op, EXPOSR_NOT_FOUND);
		return;
	}
	record_get(RECORD_ACCOUNT, op->id, on_remove_read, op);
}

/* ---- set_disabled ---- */

struct disable_op {
	bool disabled;
	char *reason;
	exposr_record_cb cb;
	void *arg;
};

static int apply_disabled(void *arg, cJSON *account)
{
	struct disable_op *op = arg;
	cJSON *status = records_at(account, "status");
	cJSON *flag = cJSON_CreateBool(op->disabled);
	if (flag == NULL || !cJSON_ReplaceItemInObjectCaseSensitive(status, "disabled", flag)) {
		cJSON_Delete(flag);
		return EXPOSR_ERROR;
	}
	char now[IDS_ISO_SIZE];
	ids_iso_now(now);
	const char *at = op->disabled ? now : NULL;
	const char *reason = op->disabled ? op->reason : NULL;
	if (records_set_string(status, "disabled_at", at) != EXPOSR_OK ||
	    records_set_string(status, "disabled_reason", reason) != EXPOSR_OK)
		return EXPOSR_ERROR;
	return EXPOSR_OK;
}

static void on_disabled_written(void *arg, int status, const cJSON *account)
{
	struct disable_op *op = arg;
	if (status == EXPOSR_OK && op->disabled) {
		const cJSON *item;
		cJSON_ArrayForEach(item, records_at(account, "tunnels"))
		{
			if (cJSON_IsString(item))
				cluster_disconnect_tunnel(item->valuestring,
				                          EXPOSR_DISCONNECT_REVOKED);
		}
	}
	op->cb(op->arg, status, account);
	free(op->reason);
	free(op);
}

static void accounts_set_disabled(const char *account_id, bool disabled, const char *reason,
                                  exposr_record_cb cb, void *arg)
{
	char id[IDS_ACCOUNT_LEN + 1];
	if (!ids_account_normalize(account_id, id)) {
		cb(arg, EXPOSR_NOT_FOUND, NULL);
		return;
	}
	struct disable_op *op = calloc(1, sizeof(*op));
	if (op == NULL || (reason != NULL && (op->reason = strdup(reason)) == NULL)) {
		free(op);
		cb(arg, EXPOSR_ERROR, NULL);
		return;
	}
	op->disabled = disabled;
	op->cb = cb;
	op->arg = arg;
	record_update(RECORD_ACCOUNT, id, apply_disabled, op, on_disabled_written, op);
}

/* ---- list ---- */

struct list_op;

struct list_slot {
	struct list_op *op;
	cJSON *record; /* NULL when the account went away meanwhile */
};

struct list_op {
	bool verbose;
	size_t count;
	size_t pending; /* reads in flight, plus one while they are being started */
	struct list_slot *slots;
	char *next_cursor;
	int status;
	exposr_page_cb cb;
	void *arg;
};

static void list_free(struct list_op *op)
{
	for (size_t i = 0; i < op->count; i++)
		cJSON_Delete(op->slots[i].record);
	free(op->slots);
	free(op->next_cursor);
	free(op);
}

/* The page keeps the storage's key order whatever order the reads complete in. */
static void list_pending_done(struct list_op *op)
{
	if (--op->pending > 0)
		return;
	cJSON *items = op->status == EXPOSR_OK ? cJSON_CreateArray() : NULL;
	for (size_t i = 0; items != NULL && i < op->count; i++) {
		if (op->slots[i].record == NULL)
			continue;
		if (!cJSON_AddItemToArray(items, op->slots[i].record)) {
			cJSON_Delete(items);
			items = NULL;
			break;
		}
		op->slots[i].record = NULL;
	}
	if (items != NULL)
		op->cb(op->arg, EXPOSR_OK, items, op->next_cursor);
	else
		op->cb(op->arg, EXPOSR_ERROR, NULL, NULL);
	cJSON_Delete(items);
	list_free(op);
}

static void on_list_record(void *arg, int status, const cJSON *account)
{
	struct list_slot *slot = arg;
	struct list_op *op = slot->op;
	if (status == EXPOSR_OK) {
		slot->record = op->verbose ? cJSON_Duplicate(account, true)
		                           : records_account_summary(account);
		if (slot->record == NULL)
			op->status = EXPOSR_ERROR;
	} else if (status != EXPOSR_NOT_FOUND) {
		op->status = EXPOSR_ERROR;
	}
	list_pending_done(op);
}

static void on_account_keys(void *arg, int status, const char *const *keys, size_t count,
                            const char *next_cursor)
{
	struct list_op *op = arg;
	if (status != EXPOSR_OK ||
	    (count > 0 && (op->slots = calloc(count, sizeof(*op->slots))) == NULL) ||
	    (next_cursor != NULL && (op->next_cursor = strdup(next_cursor)) == NULL)) {
		op->cb(op->arg, EXPOSR_ERROR, NULL, NULL);
		list_free(op);
		return;
	}
	op->count = count;
	op->pending = count + 1;
	for (size_t i = 0; i < count; i++) {
		op->slots[i].op = op;
		record_get(RECORD_ACCOUNT, keys[i], on_list_record, &op->slots[i]);
	}
	list_pending_done(op);
}

static void accounts_list(const char *cursor, size_t count, bool verbose, exposr_page_cb cb,
                          void *arg)
{
	struct list_op *op = calloc(1, sizeof(*op));
	if (op == NULL) {
		cb(arg, EXPOSR_ERROR, NULL, NULL);
		return;
	}
	op->verbose = verbose;
	op->status = EXPOSR_OK;
	op->cb = cb;
	op->arg = arg;
	store_list(STORE_NS_ACCOUNT, cursor, count > 0 ? count : SERVICES_LIST_DEFAULT_COUNT,
	           on_account_keys, op);
}

const struct exposr_account_api accounts_api = {
        .size = sizeof(struct exposr_account_api),
        .normalize = ids_account_normalize,
        .format_hr = ids_account_format_hr,
        .create = accounts_create,
        .get = accounts_get,
        .remove = accounts_remove,
        .set_disabled = accounts_set_disabled,
        .list = accounts_list,
};
