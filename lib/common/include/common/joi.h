/* Validation with Joi 17's messages, which clients show to users as "Bad input: ...".
 * Only the first failure is kept (Joi's abortEarly). */
#ifndef EXPOSR_MODULE_COMMON_JOI_H
#define EXPOSR_MODULE_COMMON_JOI_H

#include <stdbool.h>
#include <stddef.h>

#include <exposr/common.h>

struct cJSON;

#define JOI_MESSAGE_MAX 1024
#define JOI_LABEL_MAX   512

struct joi_error {
	bool failed;
	char message[JOI_MESSAGE_MAX];
};

/* The path of the value being checked, rendered as Joi labels it: keys joined with '.',
 * array positions as "[i]", "value" for the root. */
struct joi_label {
	char text[JOI_LABEL_MAX];
	size_t len;
};

void joi_label_init(struct joi_label *label);
/* Push returns the length to restore with pop. */
size_t joi_label_push_key(struct joi_label *label, const char *key);
size_t joi_label_push_index(struct joi_label *label, size_t index);
void joi_label_pop(struct joi_label *label, size_t saved);
/* The label text, "value" at the root. */
const char *joi_label_text(const struct joi_label *label);

/* Records `"<label>" <reason>` unless a failure is already recorded; returns false so
 * that checks can `return joi_fail(...)`. */
bool joi_fail(struct joi_error *err, const struct joi_label *label, const char *fmt, ...)
        EXPOSR_PRINTF(3, 4);

/* The value of the last member named `key` (JSON.parse keeps the last duplicate). */
const struct cJSON *joi_member(const struct cJSON *object, const char *key);

/* Type checks with their messages. A NULL `value` means absent and passes. */
bool joi_object(const struct cJSON *value, const struct joi_label *label, struct joi_error *err);
/* Fails on the first member not in the NULL-terminated `allowed` list. */
bool joi_known_keys(const struct cJSON *object, const char *const allowed[],
                    struct joi_label *label, struct joi_error *err);
/* A boolean, or the string "true"/"false" in any case (Joi converts). *out is -1 when
 * absent, else 0 or 1. */
bool joi_boolean(const struct cJSON *value, const struct joi_label *label, int *out,
                 struct joi_error *err);
/* A non-empty string (Joi's string() refuses ""); allow_null lets JSON null through, and
 * then *out is NULL. *out points into `value`. */
bool joi_string(const struct cJSON *value, bool allow_null, const struct joi_label *label,
                const char **out, struct joi_error *err);

/* Query-string values (always text): a number with Joi's conversion, an integer check and
 * limits; a boolean "true"/"false". A duplicated parameter arrives as several values and
 * fails the type check. */
bool joi_query_integer(const char *const *values, size_t count, long min, long max,
                       const struct joi_label *label, long *out, struct joi_error *err);
bool joi_query_boolean(const char *const *values, size_t count, const struct joi_label *label,
                       bool *out, struct joi_error *err);

/* `"<name>" with value "<value>" fails to match the required pattern: /<regex>/` */
bool joi_fail_pattern(struct joi_error *err, const char *name, const char *value,
                      const char *regex);

/* docs/api.md §1.1's expression, as Joi prints it. */
#define JOI_TUNNEL_ID_REGEX "/^(?:[a-z0-9][a-z0-9\\-]{4,63}[a-z0-9]|[a-z0-9]{4,63})$/"

#endif
