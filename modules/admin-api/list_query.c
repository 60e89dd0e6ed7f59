/* The query of the admin list routes: cursor (opaque, D7), count 1–100, verbose. */
#include <stdlib.h>
#include <string.h>

#include "admin_api.h"
#include "common/joi.h"
#include "query.h"

bool admin_list_query(struct admin_call *call, const char **cursor, size_t *count, bool *verbose,
                      char **cursor_copy)
{
	static const char *const keys[] = {"cursor", "count", "verbose", NULL};
	struct query q;
	struct joi_error err = {0};
	struct joi_label label;
	long n = ADMIN_LIST_DEFAULT;
	*cursor = NULL;
	*cursor_copy = NULL;
	*verbose = false;
	if (query_parse(call->call.req->query, &q) != 0) {
		call_text(&call->call, 500);
		return false;
	}
	joi_label_init(&label);
	bool ok = true;
	const struct query_param *p = query_find(&q, "cursor");
	if (p != NULL) {
		size_t saved = joi_label_push_key(&label, "cursor");
		/* Any string handed out before; an empty one means the first page. */
		if (p->count != 1)
			ok = joi_fail(&err, &label, "must be a string");
		else if (p->values[0][0] != '\0')
			*cursor = p->values[0];
		joi_label_pop(&label, saved);
	}
	if (ok && (p = query_find(&q, "count")) != NULL) {
		size_t saved = joi_label_push_key(&label, "count");
		ok = joi_query_integer((const char *const *)p->values, p->count, 1, ADMIN_LIST_MAX,
		                       &label, &n, &err);
		joi_label_pop(&label, saved);
	}
	if (ok && (p = query_find(&q, "verbose")) != NULL) {
		size_t saved = joi_label_push_key(&label, "verbose");
		ok = joi_query_boolean((const char *const *)p->values, p->count, &label, verbose,
		                       &err);
		joi_label_pop(&label, saved);
	}
	for (size_t i = 0; ok && i < q.count; i++) {
		bool known = false;
		for (size_t k = 0; keys[k] != NULL && !known; k++)
			known = strcmp(q.params[i].name, keys[k]) == 0;
		if (!known) {
			joi_label_push_key(&label, q.params[i].name);
			ok = joi_fail(&err, &label, "is not allowed");
		}
	}
	if (ok && *cursor != NULL && (*cursor_copy = strdup(*cursor)) == NULL) {
		query_free(&q);
		call_text(&call->call, 500);
		return false;
	}
	*cursor = *cursor_copy;
	query_free(&q);
	if (!ok) {
		call_error(&call->call, 400, "BAD_INPUT", "field", err.message);
		return false;
	}
	*count = (size_t)n;
	return true;
}
