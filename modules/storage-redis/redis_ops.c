/* The storage calls as Redis commands on keys "<namespace>:<key>", as exposrd 0.12 wrote
 * them (docs/storage.md §8.1): GET, SET [PX] [NX], DEL and SCAN ... MATCH <namespace>:*. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redis_store.h"

/* A COUNT hint for callers that leave the page size open, as storage-memory's default. */
#define REDIS_DEFAULT_PAGE 10

/* One call in flight; hiredis hands it back exactly once, to the reply callback. */
struct redis_op {
	struct redis_store *r;
	union {
		exposr_storage_get_cb get;
		exposr_storage_done_cb done;
		exposr_storage_list_cb list;
	} cb;
	void *arg;
	unsigned flags;
	size_t prefix_len; /* "<namespace>:" taken off listed keys */
};

static struct redis_op *op_new(struct redis_store *r, void *arg)
{
	struct redis_op *op = calloc(1, sizeof(*op));
	if (op != NULL) {
		op->r = r;
		op->arg = arg;
	}
	return op;
}

/* "<ns>:<key>"; the caller frees it. */
static char *compound_key(const char *ns, const char *key, size_t *len)
{
	size_t ns_len = strlen(ns), key_len = strlen(key);
	char *out = malloc(ns_len + 1 + key_len + 1);
	if (out == NULL)
		return NULL;
	memcpy(out, ns, ns_len);
	out[ns_len] = ':';
	memcpy(out + ns_len + 1, key, key_len + 1);
	*len = ns_len + 1 + key_len;
	return out;
}

/* An error reply is Redis refusing (OOM, WRONGTYPE, NOAUTH...): the caller only sees
 * EXPOSR_ERROR, so the reason goes to the log. */
static void log_unexpected(struct redis_store *r, const char *command, const redisReply *reply)
{
	if (reply->type == REDIS_REPLY_ERROR)
		r->host->log(r->mod, EXPOSR_LOG_WARN, "%s failed: %s", command, reply->str);
	else
		r->host->log(r->mod, EXPOSR_LOG_WARN, "%s: unexpected reply type %d", command,
		             reply->type);
}

static void on_get(redisAsyncContext *ac, void *reply_, void *privdata)
{
	struct redis_op *op = privdata;
	redisReply *reply = reply_;
	struct redis_store *r = op->r;
	exposr_storage_get_cb cb = op->cb.get;
	void *arg = op->arg;
	free(op);
	if (reply == NULL) {
		redis_conn_reply_lost(r, ac);
		cb(arg, EXPOSR_ERROR, NULL, 0);
	} else if (reply->type == REDIS_REPLY_STRING) {
		cb(arg, EXPOSR_OK, reply->str, reply->len);
	} else if (reply->type == REDIS_REPLY_NIL) {
		cb(arg, EXPOSR_NOT_FOUND, NULL, 0);
	} else {
		log_unexpected(r, "GET", reply);
		cb(arg, EXPOSR_ERROR, NULL, 0);
	}
}

/* Sends `cmd <ns>:<key>` with `op` for `fn`; on EXPOSR_ERROR `op` is still the caller's. */
static int send_key_command(struct redis_op *op, const char *cmd, const char *ns, const char *key,
                            redisCallbackFn *fn)
{
	size_t len;
	char *full = ns != NULL && key != NULL ? compound_key(ns, key, &len) : NULL;
	if (full == NULL)
		return EXPOSR_ERROR;
	const char *argv[] = {cmd, full};
	size_t lens[] = {strlen(cmd), len};
	int rc = redis_conn_command(op->r, fn, op, 2, argv, lens);
	free(full);
	return rc;
}

void redis_get(void *self, const char *ns, const char *key, exposr_storage_get_cb cb, void *arg)
{
	struct redis_op *op = op_new(self, arg);
	if (op != NULL) {
		op->cb.get = cb;
		if (send_key_command(op, "GET", ns, key, on_get) == EXPOSR_OK)
			return;
		free(op);
	}
	cb(arg, EXPOSR_ERROR, NULL, 0);
}

static int set_status(struct redis_store *r, const struct redis_op *op, const redisReply *reply)
{
	if (reply->type == REDIS_REPLY_STATUS && strcmp(reply->str, "OK") == 0)
		return EXPOSR_OK;
	/* SET ... NX answers nil when the key is there. */
	if (reply->type == REDIS_REPLY_NIL && (op->flags & EXPOSR_STORAGE_IF_ABSENT) != 0)
		return EXPOSR_EXISTS;
	log_unexpected(r, "SET", reply);
	return EXPOSR_ERROR;
}

static void on_set(redisAsyncContext *ac, void *reply_, void *privdata)
{
	struct redis_op *op = privdata;
	redisReply *reply = reply_;
	struct redis_store *r = op->r;
	exposr_storage_done_cb cb = op->cb.done;
	void *arg = op->arg;
	int status = EXPOSR_ERROR;
	if (reply == NULL)
		redis_conn_reply_lost(r, ac);
	else
		status = set_status(r, op, reply);
	free(op);
	cb(arg, status);
}

void redis_set(void *self, const char *ns, const char *key, const char *value, size_t len,
               unsigned flags, uint64_t ttl_ms, exposr_storage_done_cb cb, void *arg)
{
	struct redis_store *r = self;
	size_t key_len;
	char *full = ns != NULL && key != NULL && (value != NULL || len == 0)
	                     ? compound_key(ns, key, &key_len)
	                     : NULL;
	struct redis_op *op = full != NULL ? op_new(r, arg) : NULL;
	int rc = EXPOSR_ERROR;
	if (op != NULL) {
		op->cb.done = cb;
		op->flags = flags;
		char ttl[24];
		const char *argv[6] = {"SET", full, value != NULL ? value : ""};
		size_t lens[6] = {3, key_len, len};
		int argc = 3;
		if (ttl_ms > 0) {
			snprintf(ttl, sizeof(ttl), "%llu", (unsigned long long)ttl_ms);
			argv[argc] = "PX";
			lens[argc++] = 2;
			argv[argc] = ttl;
			lens[argc++] = strlen(ttl);
		}
		if ((flags & EXPOSR_STORAGE_IF_ABSENT) != 0) {
			argv[argc] = "NX";
			lens[argc++] = 2;
		}
		rc = redis_conn_command(r, on_set, op, argc, argv, lens);
	}
	free(full);
	if (rc != EXPOSR_OK) {
		free(op);
		cb(arg, EXPOSR_ERROR);
	}
}

static void on_del(redisAsyncContext *ac, void *reply_, void *privdata)
{
	struct redis_op *op = privdata;
	redisReply *reply = reply_;
	struct redis_store *r = op->r;
	exposr_storage_done_cb cb = op->cb.done;
	void *arg = op->arg;
	free(op);
	int status = EXPOSR_ERROR;
	if (reply == NULL)
		redis_conn_reply_lost(r, ac);
	else if (reply->type == REDIS_REPLY_INTEGER)
		status = reply->integer > 0 ? EXPOSR_OK : EXPOSR_NOT_FOUND;
	else
		log_unexpected(r, "DEL", reply);
	cb(arg, status);
}

void redis_del(void *self, const char *ns, const char *key, exposr_storage_done_cb cb, void *arg)
{
	struct redis_op *op = op_new(self, arg);
	if (op != NULL) {
		op->cb.done = cb;
		if (send_key_command(op, "DEL", ns, key, on_del) == EXPOSR_OK)
			return;
		free(op);
	}
	cb(arg, EXPOSR_ERROR);
}

static bool valid_scan_reply(const redisReply *reply)
{
	if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
	    reply->element[0]->type != REDIS_REPLY_STRING ||
	    reply->element[1]->type != REDIS_REPLY_ARRAY)
		return false;
	for (size_t i = 0; i < reply->element[1]->elements; i++)
		if (reply->element[1]->element[i]->type != REDIS_REPLY_STRING)
			return false;
	return true;
}

/* Hands on one SCAN page as it came: it may hold fewer or more keys than asked for,
 * even none with a cursor to go on from; the caller pages on. */
static void deliver_page(const struct redis_op *op, const redisReply *reply)
{
	const redisReply *found = reply->element[1];
	const char **keys = calloc(found->elements > 0 ? found->elements : 1, sizeof(*keys));
	if (keys == NULL) {
		op->cb.list(op->arg, EXPOSR_ERROR, NULL, 0, NULL);
		return;
	}
	size_t count = 0;
	for (size_t i = 0; i < found->elements; i++) {
		const redisReply *k = found->element[i];
		/* MATCH guarantees the prefix; a key without it would not be ours. */
		if (k->len >= op->prefix_len)
			keys[count++] = k->str + op->prefix_len;
	}
	const char *cursor = reply->element[0]->str;
	op->cb.list(op->arg, EXPOSR_OK, keys, count, strcmp(cursor, "0") == 0 ? NULL : cursor);
	free(keys);
}

static void on_scan(redisAsyncContext *ac, void *reply_, void *privdata)
{
	struct redis_op *op = privdata;
	redisReply *reply = reply_;
	struct redis_store *r = op->r;
	if (reply == NULL) {
		redis_conn_reply_lost(r, ac);
		op->cb.list(op->arg, EXPOSR_ERROR, NULL, 0, NULL);
	} else if (!valid_scan_reply(reply)) {
		log_unexpected(r, "SCAN", reply);
		op->cb.list(op->arg, EXPOSR_ERROR, NULL, 0, NULL);
	} else {
		deliver_page(op, reply);
	}
	free(op);
}

/* "<ns>:*" with the glob characters of the namespace escaped, so MATCH takes it
 * literally. The caller frees it. */
static char *match_pattern(const char *ns)
{
	size_t len = strlen(ns);
	char *out = malloc(2 * len + 3);
	if (out == NULL)
		return NULL;
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		if (strchr("*?[]\\", ns[i]) != NULL)
			out[n++] = '\\';
		out[n++] = ns[i];
	}
	memcpy(out + n, ":*", 3);
	return out;
}

void redis_list(void *self, const char *ns, const char *cursor, size_t count,
                exposr_storage_list_cb cb, void *arg)
{
	struct redis_store *r = self;
	char *pattern = ns != NULL ? match_pattern(ns) : NULL;
	struct redis_op *op = pattern != NULL ? op_new(r, arg) : NULL;
	int rc = EXPOSR_ERROR;
	if (op != NULL) {
		op->cb.list = cb;
		op->prefix_len = strlen(ns) + 1;
		char count_text[24];
		snprintf(count_text, sizeof(count_text), "%zu",
		         count > 0 ? count : REDIS_DEFAULT_PAGE);
		const char *from = cursor != NULL && cursor[0] != '\0' ? cursor : "0";
		const char *argv[] = {"SCAN", from, "MATCH", pattern, "COUNT", count_text};
		size_t lens[] = {4, strlen(from), 5, strlen(pattern), 5, strlen(count_text)};
		rc = redis_conn_command(r, on_scan, op, 6, argv, lens);
	}
	free(pattern);
	if (rc != EXPOSR_OK) {
		free(op);
		cb(arg, EXPOSR_ERROR, NULL, 0, NULL);
	}
}
