/* Query strings parsed like Node's querystring.parse, which koa's ctx.query uses. */
#include "query.h"

#include <stdlib.h>
#include <string.h>

#include "percent_decode.h"

static char *decode(const char *in, size_t len)
{
	char *plus = malloc(len + 1);
	if (plus == NULL)
		return NULL;
	for (size_t i = 0; i < len; i++)
		plus[i] = in[i] == '+' ? ' ' : in[i];
	plus[len] = '\0';
	char *out = percent_decode(plus, len);
	free(plus);
	return out;
}

const struct query_param *query_find(const struct query *q, const char *name)
{
	for (size_t i = 0; i < q->count; i++)
		if (strcmp(q->params[i].name, name) == 0)
			return &q->params[i];
	return NULL;
}

static int add(struct query *q, char *name, char *value)
{
	struct query_param *param = (struct query_param *)query_find(q, name);
	if (param == NULL) {
		struct query_param *grown = realloc(q->params, (q->count + 1) * sizeof(*grown));
		if (grown == NULL) {
			free(name);
			free(value);
			return -1;
		}
		q->params = grown;
		param = &q->params[q->count++];
		param->name = name;
		param->values = NULL;
		param->count = 0;
	} else {
		free(name);
	}
	char **values = realloc(param->values, (param->count + 1) * sizeof(*values));
	if (values == NULL) {
		free(value);
		return -1;
	}
	param->values = values;
	param->values[param->count++] = value;
	return 0;
}

int query_parse(const char *text, struct query *out)
{
	out->params = NULL;
	out->count = 0;
	for (const char *p = text; *p != '\0';) {
		size_t piece = strcspn(p, "&");
		if (piece > 0) {
			const char *eq = memchr(p, '=', piece);
			size_t name_len = eq != NULL ? (size_t)(eq - p) : piece;
			char *name = decode(p, name_len);
			char *value =
			        eq != NULL ? decode(eq + 1, piece - name_len - 1) : decode("", 0);
			if (name == NULL || value == NULL) {
				free(name);
				free(value);
				query_free(out);
				return -1;
			}
			if (add(out, name, value) != 0) {
				query_free(out);
				return -1;
			}
		}
		p += piece;
		if (*p == '&')
			p++;
	}
	return 0;
}

void query_free(struct query *q)
{
	for (size_t i = 0; i < q->count; i++) {
		for (size_t k = 0; k < q->params[i].count; k++)
			free(q->params[i].values[k]);
		free(q->params[i].values);
		free(q->params[i].name);
	}
	free(q->params);
	q->params = NULL;
	q->count = 0;
}
