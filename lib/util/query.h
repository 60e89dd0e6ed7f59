/* Query strings parsed like Node's querystring: '&'-separated, '+' is a space,
 * percent-decoded, repeated names collected. */
#ifndef EXPOSR_UTIL_QUERY_H
#define EXPOSR_UTIL_QUERY_H

#include <stddef.h>

struct query_param {
	char *name;
	char **values;
	size_t count;
};

struct query {
	struct query_param *params; /* in order of first appearance */
	size_t count;
};

int query_parse(const char *text, struct query *out);
const struct query_param *query_find(const struct query *q, const char *name);
void query_free(struct query *q);

#endif
