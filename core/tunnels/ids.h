/* Identifiers, tokens and timestamps of docs/api.md §1: account numbers, tunnel ids,
 * connection tokens, node and connection ids, ISO-8601 times. */
#ifndef EXPOSR_CORE_IDS_H
#define EXPOSR_CORE_IDS_H

#include <exposr/common.h>

#define IDS_ACCOUNT_LEN 16
#define IDS_TOKEN_LEN   86 /* 64 random bytes, base64url without padding */
#define IDS_NODE_ID_LEN 40 /* 20 random bytes in lower-case hex */
#define IDS_UUID_LEN    36
/* "<node id>:<uuid v4>" */
#define IDS_CONNECTION_ID_LEN (IDS_NODE_ID_LEN + 1 + IDS_UUID_LEN)
/* "2024-02-10T12:34:56.789Z" is 24 characters; room for years past 9999. */
#define IDS_ISO_SIZE 32

/* `len` bytes from the kernel's CSPRNG (getrandom(2)); EXPOSR_ERROR, logged, only if
 * the kernel refuses. */
int ids_random_bytes(void *buf, size_t len);

/* Canonical form of any accepted spelling (spaces, dashes, lower case); false if it
 * is not 16 symbols of the account alphabet. */
bool ids_account_normalize(const char *in, char out[IDS_ACCOUNT_LEN + 1]);
/* Inserts '-' after every 4 symbols counted from the end; truncates to `size`. */
void ids_account_format_hr(const char *canonical, char *out, size_t size);
/* A fresh random account number. */
int ids_account_generate(char out[IDS_ACCOUNT_LEN + 1]);

/* docs/api.md §1.1: ^(?:[a-z0-9][a-z0-9\-]{4,63}[a-z0-9]|[a-z0-9]{4,63})$ */
bool ids_tunnel_id_valid(const char *id);

int ids_token_generate(char out[IDS_TOKEN_LEN + 1]);
/* Constant time for strings of equal length; a different length is a mismatch. */
bool ids_token_equal(const char *a, const char *b);

int ids_uuid_v4(char out[IDS_UUID_LEN + 1]);
int ids_connection_id(char out[IDS_CONNECTION_ID_LEN + 1]);

/* Draws this process's node id; ids_node_id() draws it on first use otherwise. */
int ids_node_id_init(void);
const char *ids_node_id(void);

/* Wall-clock time in epoch milliseconds. */
int64_t ids_now_ms(void);
/* JavaScript's toISOString(): "2024-02-10T12:34:56.789Z". */
void ids_iso_now(char out[IDS_ISO_SIZE]);

#endif
