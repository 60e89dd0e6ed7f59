/* Account and tunnel records as stored (docs/storage.md §8.1): defaults, merge-on-read and
 * compact serialisation in exposrd 0.12's field order. */
#ifndef EXPOSR_CORE_RECORDS_H
#define EXPOSR_CORE_RECORDS_H

#include <cjson/cJSON.h>
#include <exposr/common.h>

enum record_kind { RECORD_ACCOUNT, RECORD_TUNNEL };

/* The storage namespace of a kind ("account", "tunnel"). */
const char *records_namespace(enum record_kind kind);

/* New records; NULL when out of memory. */
cJSON *records_account_new(const char *account_id, const char *now_iso);
cJSON *records_tunnel_new(const char *tunnel_id, const char *account_id, const char *token,
                          const char *now_iso);

/* A copy of `src` in canonical form: every default present, every known field of `src`
 * that has the right type copied over it, unknown fields dropped, in 0.12's order.
 * NULL when out of memory. */
cJSON *records_normalize(enum record_kind kind, const cJSON *src);
/* Stored JSON text to a canonical record; NULL if it is not a JSON object. */
cJSON *records_parse(enum record_kind kind, const char *json, size_t len);
/* Compact JSON of the canonical form; caller frees. NULL when out of memory. */
char *records_serialize(enum record_kind kind, const cJSON *record);

/* {accountId,id,tunnels,status} of an account record (the non-verbose list form). */
cJSON *records_account_summary(const cJSON *account);

/* The member at a dotted path ("transport.token"), or NULL. */
cJSON *records_at(const cJSON *record, const char *path);
/* The string at a dotted path, or NULL when absent or not a string. */
const char *records_string(const cJSON *record, const char *path);
/* Sets (or, with value NULL, removes) a string member of `object`. */
int records_set_string(cJSON *object, const char *key, const char *value);

#endif
