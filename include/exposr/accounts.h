/* The account service of the core: account numbers, records, disabling. Records are
 * cJSON objects in the stored form (docs/storage.md §8.1), merged with defaults; they are
 * valid only for the duration of the callback that hands them out. */
#ifndef EXPOSR_ACCOUNTS_H
#define EXPOSR_ACCOUNTS_H

#include "common.h"

struct cJSON;

#define EXPOSR_ACCOUNT_ID_LEN 16

/* status: EXPOSR_OK with the record, EXPOSR_NOT_FOUND, or EXPOSR_ERROR (storage). */
typedef void (*exposr_record_cb)(void *arg, int status, const struct cJSON *record);
typedef void (*exposr_done_cb)(void *arg, int status);
/* One page: records (accounts) or id strings (tunnels) in a cJSON array; next_cursor
 * is an opaque string to hand back, NULL after the last page. */
typedef void (*exposr_page_cb)(void *arg, int status, const struct cJSON *items,
                               const char *next_cursor);

struct exposr_account_api {
	size_t size;
	/* Any accepted spelling (spaces, dashes, lower case) to the canonical 16
	 * symbols; false if it is not an account number. */
	bool (*normalize)(const char *in, char out[EXPOSR_ACCOUNT_ID_LEN + 1]);
	/* "MNF4-P6Y6-M2MR-RVCT" */
	void (*format_hr)(const char *canonical, char *out, size_t size);
	/* A new account with a fresh number; EXPOSR_ERROR when none is free. */
	void (*create)(exposr_record_cb cb, void *arg);
	void (*get)(const char *account_id, exposr_record_cb cb, void *arg);
	/* Deletes the account's tunnels, then the account. EXPOSR_NOT_FOUND if absent. */
	void (*remove)(const char *account_id, exposr_done_cb cb, void *arg);
	/* Disabling disconnects every tunnel of the account (close code "revoked"). */
	void (*set_disabled)(const char *account_id, bool disabled, const char *reason,
	                     exposr_record_cb cb, void *arg);
	/* verbose: full records; else records reduced to accountId, id, tunnels, status
	 * (the admin API's non-verbose form). */
	void (*list)(const char *cursor, size_t count, bool verbose, exposr_page_cb cb, void *arg);
};

#endif
