/* Alt-name claims of the HTTP ingress, one storage key per name. Claims and releases
 * run one at a time so a conflict stops the claiming before anything else changes. */
#include "altnames.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ids.h"
#include "keylock.h"
#include "record_io.h"
#include "seq.h"
#include "store.h"

#define ALTNAMES_SERVICE "http"
/* A claim that vanishes between "exists" and reading it is claimed again, a few times. */
#define ALTNAMES_MAX_RETRIES 3

enum altname_phase {
	PH_READ,
	PH_READ_DONE,
	PH_CLAIM,
	PH_CLAIM_DONE,
	PH_CHECK_DONE,
	PH_ROLLBACK,
	PH_ROLLBACK_DONE,
	PH_RELEASE,
	PH_RELEASE_GET_DONE,
	PH_RELEASE_DEL_DONE,
};

/* What a claim's holder is, as far as this tunnel is concerned. */
enum claim_holder { HOLDER_ERROR, HOLDER_NONE, HOLDER_US, HOLDER_OTHER };

struct altname_op {
	struct seq seq;
	enum altname_phase phase;
	char *tunnel_id;
	char **names; /* requested, lower-cased */
	size_t count;
	bool *claimed; /* by this call */
	char **release;
	size_t release_count;
	size_t index;
	unsigned retries;
	int status;           /* the answer so far */
	int last;             /* result of the step's call */
	const char *conflict; /* one of names */
	char *key;            /* the key of the call in flight */
	char *claim_value;
	char *lock_key; /* set while this operation holds the tunnel's lock */
	altnames_set_cb set_cb;
	exposr_done_cb done_cb;
	void *arg;
};

static void lower_ascii(char *s)
{
	for (; *s != '\0'; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

static char *claim_key(const char *service, const char *name)
{
	char *key;
	if (asprintf(&key, "%s-%s", service, name) < 0)
		return NULL;
	lower_ascii(key + strlen(service) + 1);
	return key;
}

static void free_strings(char **list, size_t count)
{
	if (list == NULL)
		return;
	for (size_t i = 0; i < count; i++)
		free(list[i]);
	free(list);
}

static void op_free(struct altname_op *op)
{
	free(op->tunnel_id);
	free_strings(op->names, op->count);
	free_strings(op->release, op->release_count);
	free(op->claimed);
	free(op->key);
	free(op->claim_value);
	free(op->lock_key);
	free(op);
}

static void op_finish(struct altname_op *op)
{
	if (op->set_cb != NULL)
		op->set_cb(op->arg, op->status, op->status == EXPOSR_EXISTS ? op->conflict : NULL);
	else
		op->done_cb(op->arg, op->status);
	char *lock_key = op->lock_key;
	op->lock_key = NULL;
	op_free(op);
	if (lock_key != NULL) {
		keylock_release(lock_key);
		free(lock_key);
	}
}

static enum claim_holder holder_of(const char *tunnel_id, const char *value, size_t len)
{
	cJSON *claim = cJSON_ParseWithLength(value, len);
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(claim, "tunnelId");
	/* Anything unreadable counts as someone else's: it is never taken over. */
	enum claim_holder h = cJSON_IsString(id) && strcmp(id->valuestring, tunnel_id) == 0
	                              ? HOLDER_US
	                              : HOLDER_OTHER;
	cJSON_Delete(claim);
	return h;
}

static void on_done(void *arg, int status)
{
	struct altname_op *op = arg;
	op->last = status;
	seq_done(&op->seq, op);
}

static void on_holder(void *arg, int status, const char *value, size_t len)
{
	struct altname_op *op = arg;
	if (status == EXPOSR_OK)
		op->last = holder_of(op->tunnel_id, value, len);
	else
		op->last = status == EXPOSR_NOT_FOUND ? HOLDER_NONE : HOLDER_ERROR;
	seq_done(&op->seq, op);
}

static bool requested(const struct altname_op *op, const char *name)
{
	for (size_t i = 0; i < op->count; i++)
		if (strcmp(op->names[i], name) == 0)
			return true;
	return false;
}

/* The stored names that are not requested any more become the release list. */
static void on_read(void *arg, int status, const cJSON *record)
{
	struct altname_op *op = arg;
	op->last = status;
	const cJSON *stored = records_at(record, "ingress.http.alt_names");
	size_t n = (size_t)cJSON_GetArraySize(stored);
	if (status == EXPOSR_OK && n > 0) {
		op->release = calloc(n, sizeof(*op->release));
		if (op->release == NULL)
			op->last = EXPOSR_ERROR;
		const cJSON *item;
		cJSON_ArrayForEach(item, stored)
		{
			if (op->last != EXPOSR_OK || !cJSON_IsString(item))
				continue;
			char *name = strdup(item->valuestring);
			if (name == NULL) {
				op->last = EXPOSR_ERROR;
				continue;
			}
			lower_ascii(name);
			if (requested(op, name))
				free(name);
			else
				op->release[op->release_count++] = name;
		}
	}
	seq_done(&op->seq, op);
}

static bool set_key(struct altname_op *op, const char *name)
{
	free(op->key);
	op->key = claim_key(ALTNAMES_SERVICE, name);
	if (op->key != NULL)
		return true;
	op->status = EXPOSR_ERROR;
	return false;
}

static void start_rollback(struct altname_op *op, int status)
{
	op->status = status;
	op->index = 0;
	op->phase = PH_ROLLBACK;
}

static bool op_step(void *arg)
{
	struct altname_op *op = arg;
	for (;;) {
		switch (op->phase) {
		case PH_READ:
			op->phase = PH_READ_DONE;
			record_get(RECORD_TUNNEL, op->tunnel_id, on_read, op);
			return true;
		case PH_READ_DONE:
			if (op->last != EXPOSR_OK) {
				op->status = op->last;
				op_finish(op);
				return false;
			}
			op->index = 0;
			op->phase = PH_CLAIM;
			break;
		case PH_CLAIM:
			if (op->index == op->count) {
				op->index = 0;
				op->phase = PH_RELEASE;
				break;
			}
			if (!set_key(op, op->names[op->index])) {
				start_rollback(op, EXPOSR_ERROR);
				break;
			}
			op->phase = PH_CLAIM_DONE;
			store_set(STORE_NS_ALTNAMES, op->key, op->claim_value,
			          strlen(op->claim_value), EXPOSR_STORAGE_IF_ABSENT, 0, on_done,
			          op);
			return true;
		case PH_CLAIM_DONE:
			if (op->last == EXPOSR_OK) {
				op->claimed[op->index++] = true;
				op->phase = PH_CLAIM;
			} else if (op->last == EXPOSR_EXISTS) {
				op->phase = PH_CHECK_DONE;
				store_get(STORE_NS_ALTNAMES, op->key, on_holder, op);
				return true;
			} else {
				start_rollback(op, EXPOSR_ERROR);
			}
			break;
		case PH_CHECK_DONE:
			if (op->last == HOLDER_US) {
				op->index++;
				op->phase = PH_CLAIM;
			} else if (op->last == HOLDER_OTHER) {
				op->conflict = op->names[op->index];
				start_rollback(op, EXPOSR_EXISTS);
			} else if (op->last == HOLDER_NONE &&
			           ++op->retries <= ALTNAMES_MAX_RETRIES) {
				op->phase = PH_CLAIM;
			} else {
				start_rollback(op, EXPOSR_ERROR);
			}
			break;
		case PH_ROLLBACK:
			while (op->index < op->count && !op->claimed[op->index])
				op->index++;
			if (op->index == op->count || !set_key(op, op->names[op->index])) {
				op_finish(op);
				return false;
			}
			op->phase = PH_ROLLBACK_DONE;
			store_del(STORE_NS_ALTNAMES, op->key, on_done, op);
			return true;
		case PH_ROLLBACK_DONE:
			op->claimed[op->index++] = false;
			op->phase = PH_ROLLBACK;
			break;
		case PH_RELEASE:
			if (op->index == op->release_count ||
			    !set_key(op, op->release[op->index])) {
				op_finish(op);
				return false;
			}
			op->phase = PH_RELEASE_GET_DONE;
			store_get(STORE_NS_ALTNAMES, op->key, on_holder, op);
			return true;
		case PH_RELEASE_GET_DONE:
			if (op->last == HOLDER_US) {
				op->phase = PH_RELEASE_DEL_DONE;
				store_del(STORE_NS_ALTNAMES, op->key, on_done, op);
				return true;
			}
			if (op->last == HOLDER_ERROR)
				op->status = EXPOSR_ERROR;
			op->index++;
			op->phase = PH_RELEASE;
			break;
		case PH_RELEASE_DEL_DONE:
			if (op->last == EXPOSR_ERROR)
				op->status = EXPOSR_ERROR;
			op->index++;
			op->phase = PH_RELEASE;
			break;
		}
	}
}

static char **copy_names(const char *const *names, size_t count)
{
	char **out = calloc(count > 0 ? count : 1, sizeof(*out));
	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < count; i++) {
		if (names[i] == NULL || (out[i] = strdup(names[i])) == NULL) {
			free_strings(out, i);
			return NULL;
		}
		lower_ascii(out[i]);
	}
	return out;
}

static char *claim_value(const char *tunnel_id)
{
	char now[IDS_ISO_SIZE];
	ids_iso_now(now);
	cJSON *v = cJSON_CreateObject();
	char *text = NULL;
	if (v != NULL && cJSON_AddStringToObject(v, "tunnelId", tunnel_id) != NULL &&
	    cJSON_AddStringToObject(v, "created_at", now) != NULL)
		text = cJSON_PrintUnformatted(v);
	cJSON_Delete(v);
	return text;
}

static void start_locked(void *arg, int status)
{
	struct altname_op *op = arg;
	if (status != EXPOSR_OK) {
		free(op->lock_key);
		op->lock_key = NULL;
		op->status = EXPOSR_ERROR;
		op_finish(op);
		return;
	}
	seq_run(&op->seq, op);
}

void altnames_set(const char *tunnel_id, const char *const *names, size_t count, altnames_set_cb cb,
                  void *arg)
{
	struct altname_op *op = calloc(1, sizeof(*op));
	if (op == NULL)
		goto fail;
	op->seq.step = op_step;
	op->phase = PH_READ;
	op->status = EXPOSR_OK;
	op->set_cb = cb;
	op->arg = arg;
	if (tunnel_id == NULL || (count > 0 && names == NULL) ||
	    (op->tunnel_id = strdup(tunnel_id)) == NULL ||
	    (op->names = copy_names(names, count)) == NULL)
		goto fail;
	op->count = count;
	if ((op->claimed = calloc(count > 0 ? count : 1, sizeof(*op->claimed))) == NULL ||
	    (op->claim_value = claim_value(tunnel_id)) == NULL ||
	    (op->lock_key = record_lock_key(RECORD_TUNNEL, tunnel_id)) == NULL ||
	    keylock_acquire(op->lock_key, start_locked, op) != EXPOSR_OK)
		goto fail;
	return;
fail:
	if (op != NULL)
		op_free(op);
	cb(arg, EXPOSR_ERROR, NULL);
}

void altnames_release(const char *tunnel_id, const char *const *names, size_t count,
                      exposr_done_cb cb, void *arg)
{
	struct altname_op *op = calloc(1, sizeof(*op));
	if (op == NULL || tunnel_id == NULL || (count > 0 && names == NULL) ||
	    (op->tunnel_id = strdup(tunnel_id)) == NULL ||
	    (op->release = copy_names(names, count)) == NULL) {
		if (op != NULL)
			op_free(op);
		cb(arg, EXPOSR_ERROR);
		return;
	}
	op->release_count = count;
	op->seq.step = op_step;
	op->phase = PH_RELEASE;
	op->status = EXPOSR_OK;
	op->done_cb = cb;
	op->arg = arg;
	seq_run(&op->seq, op);
}

struct lookup_op {
	char *key;
	exposr_lookup_cb cb;
	void *arg;
};

static void on_lookup(void *arg, int status, const char *value, size_t len)
{
	struct lookup_op *op = arg;
	cJSON *claim = status == EXPOSR_OK ? cJSON_ParseWithLength(value, len) : NULL;
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(claim, "tunnelId");
	if (status == EXPOSR_OK && cJSON_IsString(id))
		op->cb(op->arg, EXPOSR_OK, id->valuestring);
	else
		op->cb(op->arg, status == EXPOSR_NOT_FOUND ? EXPOSR_NOT_FOUND : EXPOSR_ERROR, NULL);
	cJSON_Delete(claim);
	free(op->key);
	free(op);
}

void altnames_lookup(const char *service, const char *name, exposr_lookup_cb cb, void *arg)
{
	struct lookup_op *op = calloc(1, sizeof(*op));
	if (op == NULL || service == NULL || name == NULL ||
	    (op->key = claim_key(service, name)) == NULL) {
		free(op);
		cb(arg, EXPOSR_ERROR, NULL);
		return;
	}
	op->cb = cb;
	op->arg = arg;
	store_get(STORE_NS_ALTNAMES, op->key, on_lookup, op);
}
