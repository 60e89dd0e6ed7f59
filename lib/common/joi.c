/* Validation with Joi 17's messages; only the first failure is kept (abortEarly). */
#include "common/joi.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void joi_label_init(struct joi_label *label)
{
	label->text[0] = '\0';
	label->len = 0;
}

static size_t label_append(struct joi_label *label, const char *fmt, ...) EXPOSR_PRINTF(2, 3);

static size_t label_append(struct joi_label *label, const char *fmt, ...)
{
	size_t saved = label->len;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(label->text + label->len, sizeof(label->text) - label->len, fmt, ap);
	va_end(ap);
	/* A label that does not fit is cut short: it only ends up in a message. */
	if (n > 0)
		label->len += (size_t)n < sizeof(label->text) - label->len
		                      ? (size_t)n
		                      : sizeof(label->text) - label->len - 1;
	return saved;
}

size_t joi_label_push_key(struct joi_label *label, const char *key)
{
	return label_append(label, "%s%s", label->len > 0 ? "." : "", key);
}

size_t joi_label_push_index(struct joi_label *label, size_t index)
{
	return label_append(label, "[%zu]", index);
}

void joi_label_pop(struct joi_label *label, size_t saved)
{
	label->len = saved;
	label->text[saved] = '\0';
}

const char *joi_label_text(const struct joi_label *label)
{
	return label->len > 0 ? label->text : "value";
}

bool joi_fail(struct joi_error *err, const struct joi_label *label, const char *fmt, ...)
{
	if (err->failed)
		return false;
	err->failed = true;
	int n = snprintf(err->message, sizeof(err->message), "\"%s\" ", joi_label_text(label));
	if (n > 0 && (size_t)n < sizeof(err->message)) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err->message + n, sizeof(err->message) - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return false;
}

bool joi_fail_pattern(struct joi_error *err, const char *name, const char *value, const char *regex)
{
	struct joi_label label;
	joi_label_init(&label);
	joi_label_push_key(&label, name);
	return joi_fail(err, &label, "with value \"%s\" fails to match the required pattern: %s",
	                value, regex);
}

const struct cJSON *joi_member(const struct cJSON *object, const char *key)
{
	const cJSON *found = NULL;
	for (const cJSON *child = object != NULL ? object->child : NULL; child != NULL;
	     child = child->next)
		if (child->string != NULL && strcmp(child->string, key) == 0)
			found = child;
	return found;
}

bool joi_object(const struct cJSON *value, const struct joi_label *label, struct joi_error *err)
{
	if (value == NULL || cJSON_IsObject(value))
		return true;
	return joi_fail(err, label, "must be of type object");
}

bool joi_known_keys(const struct cJSON *object, const char *const allowed[],
                    struct joi_label *label, struct joi_error *err)
{
	for (const cJSON *child = object->child; child != NULL; child = child->next) {
		bool known = false;
		for (size_t i = 0; allowed[i] != NULL && !known; i++)
			known = strcmp(child->string, allowed[i]) == 0;
		if (!known) {
			size_t saved = joi_label_push_key(label, child->string);
			joi_fail(err, label, "is not allowed");
			joi_label_pop(label, saved);
			return false;
		}
	}
	return true;
}

static int boolean_word(const char *s)
{
	if (strcasecmp(s, "true") == 0)
		return 1;
	if (strcasecmp(s, "false") == 0)
		return 0;
	return -1;
}

bool joi_boolean(const struct cJSON *value, const struct joi_label *label, int *out,
                 struct joi_error *err)
{
	*out = -1;
	if (value == NULL)
		return true;
	if (cJSON_IsBool(value)) {
		*out = cJSON_IsTrue(value) ? 1 : 0;
		return true;
	}
	if (cJSON_IsString(value) && (*out = boolean_word(value->valuestring)) >= 0)
		return true;
	*out = -1;
	return joi_fail(err, label, "must be a boolean");
}

bool joi_string(const struct cJSON *value, bool allow_null, const struct joi_label *label,
                const char **out, struct joi_error *err)
{
	*out = NULL;
	if (value == NULL || (allow_null && cJSON_IsNull(value)))
		return true;
	if (!cJSON_IsString(value))
		return joi_fail(err, label, "must be a string");
	if (value->valuestring[0] == '\0')
		return joi_fail(err, label, "is not allowed to be empty");
	*out = value->valuestring;
	return true;
}

/* Joi's number conversion from text: optional blanks, sign, digits with an optional
 * fraction and exponent. */
static bool text_number(const char *s, double *out)
{
	const char *p = s;
	while (isspace((unsigned char)*p))
		p++;
	const char *start = p;
	if (*p == '+' || *p == '-')
		p++;
	bool digits = false;
	while (isdigit((unsigned char)*p)) {
		p++;
		digits = true;
	}
	if (*p == '.') {
		p++;
		while (isdigit((unsigned char)*p)) {
			p++;
			digits = true;
		}
	}
	if (!digits)
		return false;
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!isdigit((unsigned char)*p))
			return false;
		while (isdigit((unsigned char)*p))
			p++;
	}
	const char *end = p;
	while (isspace((unsigned char)*p))
		p++;
	if (*p != '\0')
		return false;
	char buf[64];
	size_t len = (size_t)(end - start);
	if (len >= sizeof(buf))
		return false;
	memcpy(buf, start, len);
	buf[len] = '\0';
	errno = 0;
	*out = strtod(buf, NULL);
	return errno == 0 && isfinite(*out);
}

bool joi_query_integer(const char *const *values, size_t count, long min, long max,
                       const struct joi_label *label, long *out, struct joi_error *err)
{
	double v;
	if (count != 1 || !text_number(values[0], &v))
		return joi_fail(err, label, "must be a number");
	if (v != floor(v))
		return joi_fail(err, label, "must be an integer");
	if (v < (double)min)
		return joi_fail(err, label, "must be greater than or equal to %ld", min);
	if (v > (double)max)
		return joi_fail(err, label, "must be less than or equal to %ld", max);
	*out = (long)v;
	return true;
}

bool joi_query_boolean(const char *const *values, size_t count, const struct joi_label *label,
                       bool *out, struct joi_error *err)
{
	int v = count == 1 ? boolean_word(values[0]) : -1;
	if (v < 0)
		return joi_fail(err, label, "must be a boolean");
	*out = v == 1;
	return true;
}
