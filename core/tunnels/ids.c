/* Identifiers, tokens and timestamps of docs/api.md §1. */
#include "ids.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "iso_time.h"
#include "log.h"

static const char account_alphabet[] = "CDEFHJKMNPRTVWXY2345689";
static const char hex_digits[] = "0123456789abcdef";

static char node_id[IDS_NODE_ID_LEN + 1];

/* The kernel's CSPRNG directly: drawing from OpenSSL's RAND would initialise its
 * providers, about 2 MB of resident memory in a process that may never use them.
 * (OpenSSL's encoding and comparison helpers below initialise nothing.) */
int ids_random_bytes(void *buf, size_t len)
{
	unsigned char *p = buf;
	while (len > 0) {
		/* Flags 0: blocks until the pool is initialised, never returns weak bytes. */
		ssize_t n = getrandom(p, len, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_error("getrandom: %s", strerror(errno));
			return EXPOSR_ERROR;
		}
		/* Large requests and signals give short reads. */
		p += n;
		len -= (size_t)n;
	}
	return EXPOSR_OK;
}

static bool in_account_alphabet(char c)
{
	return c != '\0' && strchr(account_alphabet, c) != NULL;
}

bool ids_account_normalize(const char *in, char out[IDS_ACCOUNT_LEN + 1])
{
	size_t n = 0;
	if (in == NULL)
		return false;
	for (const char *p = in; *p != '\0'; p++) {
		if (*p == ' ' || *p == '-')
			continue;
		char c = (*p >= 'a' && *p <= 'z') ? (char)(*p - 'a' + 'A') : *p;
		if (n == IDS_ACCOUNT_LEN || !in_account_alphabet(c))
			return false;
		out[n++] = c;
	}
	out[n] = '\0';
	return n == IDS_ACCOUNT_LEN;
}

void ids_account_format_hr(const char *canonical, char *out, size_t size)
{
	if (size == 0)
		return;
	size_t len = canonical != NULL ? strlen(canonical) : 0;
	size_t o = 0;
	for (size_t i = 0; i < len && o + 1 < size; i++) {
		/* A dash before every group of four counted from the end. */
		if (i > 0 && (len - i) % 4 == 0) {
			out[o++] = '-';
			if (o + 1 >= size)
				break;
		}
		out[o++] = canonical[i];
	}
	out[o] = '\0';
}

int ids_account_generate(char out[IDS_ACCOUNT_LEN + 1])
{
	const unsigned symbols = sizeof(account_alphabet) - 1;
	/* Bytes at or above the largest multiple of the alphabet's size are redrawn, so
	 * that every symbol is equally likely. */
	const unsigned limit = 256 - 256 % symbols;
	unsigned char bytes[IDS_ACCOUNT_LEN];
	size_t n = 0;
	while (n < IDS_ACCOUNT_LEN) {
		if (ids_random_bytes(bytes, sizeof(bytes)) != EXPOSR_OK)
			return EXPOSR_ERROR;
		for (size_t i = 0; i < sizeof(bytes) && n < IDS_ACCOUNT_LEN; i++)
			if (bytes[i] < limit)
				out[n++] = account_alphabet[bytes[i] % symbols];
	}
	out[IDS_ACCOUNT_LEN] = '\0';
	return EXPOSR_OK;
}

static bool lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool ids_tunnel_id_valid(const char *id)
{
	if (id == NULL)
		return false;
	size_t len = strnlen(id, 66);
	bool hyphen = false;
	for (size_t i = 0; i < len; i++) {
		if (id[i] == '-')
			hyphen = true;
		else if (!lower_alnum(id[i]))
			return false;
	}
	/* Either 4-63 letters and digits, or 6-65 characters that may hold hyphens
	 * anywhere but at either end. */
	if (!hyphen && len >= 4 && len <= 63)
		return true;
	return len >= 6 && len <= 65 && lower_alnum(id[0]) && lower_alnum(id[len - 1]);
}

int ids_token_generate(char out[IDS_TOKEN_LEN + 1])
{
	unsigned char bytes[64];
	unsigned char b64[4 * ((sizeof(bytes) + 2) / 3) + 1];
	if (ids_random_bytes(bytes, sizeof(bytes)) != EXPOSR_OK)
		return EXPOSR_ERROR;
	int n = EVP_EncodeBlock(b64, bytes, (int)sizeof(bytes));
	OPENSSL_cleanse(bytes, sizeof(bytes));
	if (n < IDS_TOKEN_LEN)
		return EXPOSR_ERROR;
	for (int i = 0; i < IDS_TOKEN_LEN; i++) {
		char c = (char)b64[i];
		out[i] = c == '+' ? '-' : c == '/' ? '_' : c;
	}
	out[IDS_TOKEN_LEN] = '\0';
	OPENSSL_cleanse(b64, sizeof(b64));
	return EXPOSR_OK;
}

bool ids_token_equal(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return false;
	size_t len = strlen(a);
	if (strlen(b) != len)
		return false;
	return CRYPTO_memcmp(a, b, len) == 0;
}

static void hex_encode(const unsigned char *in, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex_digits[in[i] >> 4];
		out[2 * i + 1] = hex_digits[in[i] & 0x0f];
	}
}

int ids_uuid_v4(char out[IDS_UUID_LEN + 1])
{
	unsigned char b[16];
	if (ids_random_bytes(b, sizeof(b)) != EXPOSR_OK)
		return EXPOSR_ERROR;
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	static const size_t groups[] = {4, 2, 2, 2, 6};
	size_t in = 0, o = 0;
	for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
		if (g > 0)
			out[o++] = '-';
		hex_encode(b + in, groups[g], out + o);
		in += groups[g];
		o += 2 * groups[g];
	}
	out[o] = '\0';
	return EXPOSR_OK;
}

int ids_connection_id(char out[IDS_CONNECTION_ID_LEN + 1])
{
	memcpy(out, ids_node_id(), IDS_NODE_ID_LEN);
	out[IDS_NODE_ID_LEN] = ':';
	return ids_uuid_v4(out + IDS_NODE_ID_LEN + 1);
}

int ids_node_id_init(void)
{
	unsigned char b[IDS_NODE_ID_LEN / 2];
	if (node_id[0] != '\0')
		return EXPOSR_OK;
	if (ids_random_bytes(b, sizeof(b)) != EXPOSR_OK)
		return EXPOSR_ERROR;
	hex_encode(b, sizeof(b), node_id);
	node_id[IDS_NODE_ID_LEN] = '\0';
	return EXPOSR_OK;
}

const char *ids_node_id(void)
{
	/* services_configure draws it at start and fails cleanly; a process that cannot
	 * get randomness here has no safe way to go on. */
	if (ids_node_id_init() != EXPOSR_OK) {
		fprintf(stderr, "exposrd: no randomness for the node id\n");
		abort();
	}
	return node_id;
}

int64_t ids_now_ms(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void ids_iso_now(char out[IDS_ISO_SIZE])
{
	iso_time_format(ids_now_ms(), out);
}
