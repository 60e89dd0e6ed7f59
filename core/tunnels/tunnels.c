/* The tunnel service: configuration records, connection tokens, removal, listing; the
 * connection state lives in tunnel_state.c, the cluster's part of it in cluster_*.c and
 * alt-names in altnames.c. */
#include <stdlib.h>
#include <string.h>

#include "altnames.h"
#include "cluster_tunnels.h"
#include "ids.h"
#include "keylock.h"
#include "log.h"
#include "record_io.h"
#include "services.h"
#include "services_int.h"
#include "store.h"
#include "tunnel_cache.h"
#include "tunnel_reach.h"
#include "tunnel_state.h"

static unsigned tunnels_max_connections(void)
{
	return tunnel_state_max_connections();
}

/* ---- create ---- */

struct create_op {
	char *tunnel_id;
	char account[IDS_ACCOUNT_LEN + 1];
	char *text;
	int status;
	exposr_done_cb cb;
	void *arg;
};

static void create_finish(struct create_op *op, int status)
{
	op->cb(op->arg, status);
	free(op->tunnel_id);
	free(op->text);
	free(op);
}

static int add_tunnel_to_account(void *arg, cJSON *account)
{
	struct create_op *op = arg;
	cJSON *list = records_at(account, "tunnels");
	const cJSON *item;
	cJSON_ArrayForEach(item, list)
	{
		if (cJSON_IsString(item) && strcmp(item->valuestring, op->tunnel_id) == 0)
			return EXPOSR_OK;
	}
	cJSON *id = cJSON_CreateString(op->tunnel_id);
	if (id == NULL || !cJSON_AddItemToArray(list, id)) {
		cJSON_Delete(id);
		return EXPOSR_ERROR;
	}
	return EXPOSR_OK;
}

static void on_create_rolled_back(void *arg, int status)
{
	struct create_op *op = arg;
	if (status != EXPOSR_OK)
		log_warn("tunnel %s: cannot undo its creation", op->tunnel_id);
	create_finish(op, op->status);
}

static void on_account_updated(void *arg, int status, const cJSON *account)
{
	(void)account;
	struct create_op *op = arg;
	if (status == EXPOSR_OK) {
		create_finish(op, EXPOSR_OK);
		return;
	}
	/* No owner to list it: the tunnel must not stay behind. */
	op->status = status == EXPOSR_NOT_FOUND ? EXPOSR_NOT_FOUND : EXPOSR_ERROR;
	store_del(STORE_NS_TUNNEL, op->tunnel_id, on_create_rolled_back, op);
}

static void on_tunnel_stored(void *arg, int status)
{
	struct create_op *op = arg;
	if (status != EXPOSR_OK) {
		create_finish(op, status == EXPOSR_EXISTS ? EXPOSR_EXISTS : EXPOSR_ERROR);
		return;
	}
	record_update(RECORD_ACCOUNT, op->account, add_tunnel_to_account, op, on_account_updated,
	              op);
}

static void tunnels_create(const char *tunnel_id, const char *account_id, exposr_done_cb cb,
                           void *arg)
{
	struct create_op *op = calloc(1, sizeof(*op));
	if (op == NULL) {
		cb(arg, EXPOSR_ERROR);
		return;
	}
	op->cb = cb;
	op->arg = arg;
	if (tunnel_id == NULL || !ids_account_normalize(account_id, op->account)) {
		create_finish(op, EXPOSR_NOT_FOUND);
		return;
	}
	char token[IDS_TOKEN_LEN + 1];
	char now[IDS_ISO_SIZE];
	ids_iso_now(now);
	cJSON *record = NULL;
	if ((op->tunnel_id = strdup(tunnel_id)) == NULL || ids_token_generate(token) != EXPOSR_OK ||
	    (record = records_tunnel_new(tunnel_id, op->account, token, now)) == NULL ||
	    (op->text = records_serialize(RECORD_TUNNEL, record)) == NULL) {
		cJSON_Delete(record);
		create_finish(op, EXPOSR_ERROR);
		return;
	}
	cJSON_Delete(record);
	store_set(STORE_NS_TUNNEL, op->tunnel_id, op->text, strlen(op->text),
	          EXPOSR_STORAGE_IF_ABSENT, 0, on_tunnel_stored, op);
}

/* ---- get, update ---- */

struct get_op {
	char *tunnel_id;
	exposr_record_cb cb;
	void *arg;
};

/* Reads of a connected tunnel refresh its cached copy; while the storage is down the
 * copy answers instead, so the tunnel keeps carrying traffic. */
static void on_tunnel_read(void *arg, int status, const cJSON *record)
{
	struct get_op op = *(struct get_op *)arg;
	free(arg);
	struct exposr_tunnel_state state;
	tunnel_state_get(op.tunnel_id, &state);
	const cJSON *cached = tunnel_cache_get(op.tunnel_id);
	cJSON *fallback = NULL;
	if (status == EXPOSR_OK && state.connected)
		tunnel_cache_put(op.tunnel_id, record);
	else if (status == EXPOSR_ERROR && state.connected && cached != NULL)
		fallback = cJSON_Duplicate(cached, true);
	else if (status != EXPOSR_ERROR)
		tunnel_cache_drop(op.tunnel_id);
	free(op.tunnel_id);
	if (fallback != NULL) {
		op.cb(op.arg, EXPOSR_OK, fallback);
		cJSON_Delete(fallback);
		return;
	}
	op.cb(op.arg, status, record);
}

static void tunnels_get(const char *tunnel_id, exposr_record_cb cb, void *arg)
{
	struct get_op *op = tunnel_id != NULL ? malloc(sizeof(*op)) : NULL;
	if (op == NULL || (op->tunnel_id = strdup(tunnel_id)) == NULL) {
		free(op);
		cb(arg, tunnel_id == NULL ? EXPOSR_NOT_FOUND : EXPOSR_ERROR, NULL);
		return;
	}
	op->cb = cb;
	op->arg = arg;
	record_get(RECORD_TUNNEL, tunnel_id, on_tunnel_read, op);
}

static void tunnels_update(const char *tunnel_id, exposr_tunnel_apply_fn apply, void *apply_arg,
                           exposr_record_cb cb, void *arg)
{
	if (tunnel_id == NULL || apply == NULL) {
		cb(arg, tunnel_id == NULL ? EXPOSR_NOT_FOUND : EXPOSR_ERROR, NULL);
		return;
	}
	/* The next read refills the cache with what was written. */
	tunnel_cache_drop(tunnel_id);
	record_update(RECORD_TUNNEL, tunnel_id, apply, apply_arg, cb, arg);
}

/* ---- remove ---- */

struct remove_op {
	char *tunnel_id;
	char *owner; /* NULL: any */
	char *lock_key;
	char *account;
	char **alt_names;
	size_t alt_count;
	exposr_done_cb cb;
	void *arg;
};

static void remove_finish(struct remove_op *op, int status)
{
	op->cb(op->arg, status);
	char *lock_key = op->lock_key;
	free(op->tunnel_id);
	free(op->owner);
	free(op->account);
	for (size_t i = 0; i < op->alt_count; i++)
		free(op->alt_names[i]);
	free(op->alt_names);
	free(op);
	if (lock_key != NULL) {
		keylock_release(lock_key);
		free(lock_key);
	}
}

static int remove_tunnel_from_account(void *arg, cJSON *account)
{
	struct remove_op *op = arg;
	cJSON *list = records_at(account, "tunnels");
	for (int i = cJSON_GetArraySize(list) - 1; i >= 0; i--) {
		const cJSON *item = cJSON_GetArrayItem(list, i);
		if (cJSON_IsString(item) && strcmp(item->valuestring, op->tunnel_id) == 0)
			cJSON_DeleteItemFromArray(list, i);
	}
	return EXPOSR_OK;
}

static void on_owner_updated(void *arg, int status, const cJSON *account)
{
	(void)account;
	struct remove_op *op = arg;
	/* The tunnel is gone either way; a stale id in the list is harmless. */
	if (status == EXPOSR_ERROR)
		log_warn("tunnel %s: deleted, but not removed from account %s", op->tunnel_id,
		         op->account);
	remove_finish(op, EXPOSR_OK);
}

static void on_record_deleted(void *arg, int status)
{
	struct remove_op *op = arg;
	if (status != EXPOSR_OK || op->account == NULL) {
		remove_finish(op, status == EXPOSR_OK || status == EXPOSR_NOT_FOUND ? status
		                                                                    : EXPOSR_ERROR);
		return;
	}
	record_update(RECORD_ACCOUNT, op->account, remove_tunnel_from_account, op, on_owner_updated,
	              op);
}

static void on_altnames_released(void *arg, int status)
{
	struct remove_op *op = arg;
	if (status != EXPOSR_OK)
		log_warn("tunnel %s: some alt-names could not be released", op->tunnel_id);
	store_del(STORE_NS_TUNNEL, op->tunnel_id, on_record_deleted, op);
}

static int copy_alt_names(struct remove_op *op, const cJSON *record)
{
	const cJSON *names = records_at(record, "ingress.http.alt_names");
	int n = cJSON_GetArraySize(names);
	if (n <= 0)
		return EXPOSR_OK;
	op->alt_names = calloc((size_t)n, sizeof(*op->alt_names));
	if (op->alt_names == NULL)
		return EXPOSR_ERROR;
	const cJSON *item;
	cJSON_ArrayForEach(item, names)
	{
		if (!cJSON_IsString(item))
			continue;
		if ((op->alt_names[op->alt_count] = strdup(item->valuestring)) == NULL)
			return EXPOSR_ERROR;
		op->alt_count++;
	}
	return EXPOSR_OK;
}

static void on_remove_read(void *arg, int status, const cJSON *record)
{
	struct remove_op *op = arg;
	if (status != EXPOSR_OK) {
		remove_finish(op, status);
		return;
	}
	const char *account = records_string(record, "account");
	if (op->owner != NULL && (account == NULL || strcmp(account, op->owner) != 0)) {
		remove_finish(op, EXPOSR_NOT_FOUND);
		return;
	}
	if ((account != NULL && (op->account = strdup(account)) == NULL) ||
	    copy_alt_names(op, record) != EXPOSR_OK) {
		remove_finish(op, EXPOSR_ERROR);
		return;
	}
	cluster_disconnect_tunnel(op->tunnel_id, EXPOSR_DISCONNECT_REVOKED);
	altnames_release(op->tunnel_id, (const char *const *)op->alt_names, op->alt_count,
	                 on_altnames_released, op);
}

static void remove_locked(void *arg, int status)
{
	struct remove_op *op = arg;
	if (status != EXPOSR_OK) {
		free(op->lock_key);
		op->lock_key = NULL;
		remove_finish(op, EXPOSR_ERROR);
		return;
	}
	record_get(RECORD_TUNNEL, op->tunnel_id, on_remove_read, op);
}

void tunnel_remove_owned(const char *tunnel_id, const char *owner, exposr_done_cb cb, void *arg)
{
	if (tunnel_id == NULL) {
		cb(arg, EXPOSR_NOT_FOUND);
		return;
	}
	struct remove_op *op = calloc(1, sizeof(*op));
	if (op == NULL || (op->tunnel_id = strdup(tunnel_id)) == NULL ||
	    (owner != NULL && (op->owner = strdup(owner)) == NULL) ||
	    (op->lock_key = record_lock_key(RECORD_TUNNEL, tunnel_id)) == NULL) {
		if (op != NULL) {
			free(op->tunnel_id);
			free(op->owner);
			free(op);
		}
		cb(arg, EXPOSR_ERROR);
		return;
	}
	op->cb = cb;
	op->arg = arg;
	tunnel_cache_drop(tunnel_id);
	/* Under the tunnel's lock, so an update in flight cannot write it back. */
	if (keylock_acquire(op->lock_key, remove_locked, op) != EXPOSR_OK) {
		free(op->lock_key);
		op->lock_key = NULL;
		remove_finish(op, EXPOSR_ERROR);
	}
}

static void tunnels_remove(const char *tunnel_id, exposr_done_cb cb, void *arg)
{
	tunnel_remove_owned(tunnel_id, NULL, cb, arg);
}

/* ---- list ---- */

struct list_op {
	exposr_page_cb cb;
	void *arg;
};

static void on_tunnel_keys(void *arg, int status, const char *const *keys, size_t count,
                           const char *next_cursor)
{
	struct list_op *op = arg;
	cJSON *items = status == EXPOSR_OK ? cJSON_CreateArray() : NULL;
	for (size_t i = 0; items != NULL && i < count; i++) {
		cJSON *id = cJSON_CreateString(keys[i]);
		if (id == NULL || !cJSON_AddItemToArray(items, id)) {
			cJSON_Delete(id);
			cJSON_Delete(items);
			items = NULL;
		}
	}
	if (items != NULL)
		op->cb(op->arg, EXPOSR_OK, items, next_cursor);
	else
		op->cb(op->arg, EXPOSR_ERROR, NULL, NULL);
	cJSON_Delete(items);
	free(op);
}

static void tunnels_list(const char *cursor, size_t count, exposr_page_cb cb, void *arg)
{
	struct list_op *op = calloc(1, sizeof(*op));
	if (op == NULL) {
		cb(arg, EXPOSR_ERROR, NULL, NULL);
		return;
	}
	op->cb = cb;
	op->arg = arg;
	store_list(STORE_NS_TUNNEL, cursor, count > 0 ? count : SERVICES_LIST_DEFAULT_COUNT,
	           on_tunnel_keys, op);
}

/* ---- authorize ---- */

struct authorize_op {
	char *tunnel_id;
	char *token;
	char account[IDS_ACCOUNT_LEN + 1];
	exposr_authorize_cb cb;
	void *arg;
};

static void authorize_finish(struct authorize_op *op, int status)
{
	op->cb(op->arg, status, status == EXPOSR_OK ? op->account : NULL);
	free(op->tunnel_id);
	free(op->token);
	free(op);
}

/* Under the tunnel's lock: of two connections racing with one token, the second sees
 * the token the first one's rotation wrote. */
static int rotate_token(void *arg, cJSON *record)
{
	struct authorize_op *op = arg;
	const char *account = records_string(record, "account");
	cJSON *transport = records_at(record, "transport");
	if (account == NULL || strcmp(account, op->account) != 0 ||
	    !ids_token_equal(records_string(record, "transport.token"), op->token))
		return EXPOSR_DECLINED;
	char token[IDS_TOKEN_LEN + 1];
	if (ids_token_generate(token) != EXPOSR_OK ||
	    records_set_string(transport, "token", token) != EXPOSR_OK)
		return EXPOSR_ERROR;
	return EXPOSR_OK;
}

static void on_rotated(void *arg, int status, const cJSON *record)
{
	(void)record;
	authorize_finish(arg, status);
}

static void on_owner_read(void *arg, int status, const cJSON *account)
{
	struct authorize_op *op = arg;
	if (status == EXPOSR_ERROR) {
		authorize_finish(op, EXPOSR_ERROR);
		return;
	}
	const cJSON *disabled = records_at(account, "status.disabled");
	if (status != EXPOSR_OK || cJSON_IsTrue(disabled)) {
		authorize_finish(op, EXPOSR_DECLINED);
		return;
	}
	record_update(RECORD_TUNNEL, op->tunnel_id, rotate_token, op, on_rotated, op);
}

static void on_authorize_read(void *arg, int status, const cJSON *record)
{
	struct authorize_op *op = arg;
	if (status != EXPOSR_OK) {
		authorize_finish(op, status);
		return;
	}
	/* A wrong token is refused before the account is read. */
	if (!ids_token_equal(records_string(record, "transport.token"), op->token) ||
	    !ids_account_normalize(records_string(record, "account"), op->account)) {
		authorize_finish(op, EXPOSR_DECLINED);
		return;
	}
	record_get(RECORD_ACCOUNT, op->account, on_owner_read, op);
}

static void tunnels_authorize(const char *tunnel_id, const char *token, exposr_authorize_cb cb,
                              void *arg)
{
	if (tunnel_id == NULL || token == NULL) {
		cb(arg, tunnel_id == NULL ? EXPOSR_NOT_FOUND : EXPOSR_DECLINED, NULL);
		return;
	}
	struct authorize_op *op = calloc(1, sizeof(*op));
	if (op == NULL || (op->tunnel_id = strdup(tunnel_id)) == NULL ||
	    (op->token = strdup(token)) == NULL) {
		if (op != NULL)
			free(op->tunnel_id);
		free(op);
		cb(arg, EXPOSR_ERROR, NULL);
		return;
	}
	op->cb = cb;
	op->arg = arg;
	record_get(RECORD_TUNNEL, tunnel_id, on_authorize_read, op);
}

/* ---- alt-names, connection state ---- */

static void tunnels_set_alt_names(const char *tunnel_id, const char *const *names, size_t count,
                                  void (*cb)(void *arg, int status, const char *conflict),
                                  void *arg)
{
	altnames_set(tunnel_id, names, count, cb, arg);
}

const struct exposr_tunnel_api tunnels_api = {
        .size = sizeof(struct exposr_tunnel_api),
        .valid_id = ids_tunnel_id_valid,
        .max_connections = tunnels_max_connections,
        .create = tunnels_create,
        .get = tunnels_get,
        .update = tunnels_update,
        .remove = tunnels_remove,
        .list = tunnels_list,
        .authorize = tunnels_authorize,
        .set_alt_names = tunnels_set_alt_names,
        .lookup_alt_name = altnames_lookup,
        .connection_add = tunnel_state_add,
        .connection_remove = tunnel_state_remove,
        .state = tunnel_state_get,
        .disconnect = cluster_tunnels_disconnect,
        .open_stream = tunnel_state_open_stream,
        .cancel_open = tunnel_state_cancel_open,
        .route = cluster_tunnels_route,
        .connections = tunnel_state_connections,
        .reach = tunnel_reach,
        .cancel_reach = tunnel_reach_cancel,
        .reach_from = tunnel_reach_from,
};
