/* Identifiers of docs/api.md §1: account numbers, tunnel ids, tokens, node and
 * connection ids, timestamps. */
#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ids.h"
#include "iso_time.h"

Test(ids, account_number_normalisation)
{
	char out[IDS_ACCOUNT_LEN + 1];
	static const char *const same[] = {"MNF4P6Y6M2MRRVCT",    "mnf4-p6y6 m2mr-rvct",
	                                   "MNF4 P6Y6 M2MR RVCT", "MNF4-P6Y6-M2MR-RVCT",
	                                   " mnf4p6y6m2mrrvct ",  "M-N-F-4-P6Y6M2MRRVCT"};
	for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
		cr_assert(ids_account_normalize(same[i], out), "%s", same[i]);
		cr_assert_str_eq(out, "MNF4P6Y6M2MRRVCT");
	}
	static const char *const bad[] = {"",
	                                  "MNF4P6Y6M2MRRVC",   /* 15 */
	                                  "MNF4P6Y6M2MRRVCTC", /* 17 */
	                                  "ANF4P6Y6M2MRRVCT",  /* A is not in the alphabet */
	                                  "0NF4P6Y6M2MRRVCT",
	                                  "1NF4P6Y6M2MRRVCT",
	                                  "MNF4_P6Y6M2MRRVCT",
	                                  "MNF4\tP6Y6M2MRRVCT",
	                                  "MNF4P6Y6M2MRRVCT-MNF4P6Y6M2MRRVCT"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert(!ids_account_normalize(bad[i], out), "%s", bad[i]);
	cr_assert(!ids_account_normalize(NULL, out));
}

Test(ids, account_number_human_readable_form)
{
	char out[32];
	ids_account_format_hr("MNF4P6Y6M2MRRVCT", out, sizeof(out));
	cr_assert_str_eq(out, "MNF4-P6Y6-M2MR-RVCT");
	ids_account_format_hr("ABCD", out, sizeof(out));
	cr_assert_str_eq(out, "ABCD");
	ids_account_format_hr("ABCDE", out, sizeof(out));
	cr_assert_str_eq(out, "A-BCDE");
	ids_account_format_hr("ABCDEFGHIJ", out, sizeof(out));
	cr_assert_str_eq(out, "AB-CDEF-GHIJ");
	ids_account_format_hr("", out, sizeof(out));
	cr_assert_str_eq(out, "");
	char small[8];
	ids_account_format_hr("MNF4P6Y6M2MRRVCT", small, sizeof(small));
	cr_assert_str_eq(small, "MNF4-P6");
}

Test(ids, generated_account_numbers_are_canonical)
{
	char id[IDS_ACCOUNT_LEN + 1], out[IDS_ACCOUNT_LEN + 1], first[IDS_ACCOUNT_LEN + 1];
	cr_assert_eq(ids_account_generate(first), EXPOSR_OK);
	bool differs = false;
	for (int i = 0; i < 1000; i++) {
		cr_assert_eq(ids_account_generate(id), EXPOSR_OK);
		cr_assert_eq(strlen(id), IDS_ACCOUNT_LEN);
		cr_assert(ids_account_normalize(id, out));
		cr_assert_str_eq(out, id);
		differs |= strcmp(id, first) != 0;
	}
	cr_assert(differs);
}

Test(ids, random_bytes_fill_any_length)
{
	cr_assert_eq(ids_random_bytes(NULL, 0), EXPOSR_OK);
	/* Past 256 bytes getrandom(2) may return short: the whole buffer is still filled. */
	size_t n = 1 << 20;
	unsigned char *buf = calloc(1, n);
	cr_assert_not_null(buf);
	cr_assert_eq(ids_random_bytes(buf, n), EXPOSR_OK);
	size_t counts[256] = {0};
	for (size_t i = 0; i < n; i++)
		counts[buf[i]]++;
	/* 4096 expected of each value; 8 standard deviations either way. */
	for (size_t v = 0; v < 256; v++)
		cr_assert(counts[v] > 4096 - 512 && counts[v] < 4096 + 512, "byte %zu: %zu", v,
		          counts[v]);
	free(buf);
}

Test(ids, account_symbols_are_equally_likely)
{
	static const char alphabet[] = "CDEFHJKMNPRTVWXY2345689";
	size_t counts[sizeof(alphabet) - 1] = {0};
	char id[IDS_ACCOUNT_LEN + 1];
	int accounts = 100000;
	for (int i = 0; i < accounts; i++) {
		cr_assert_eq(ids_account_generate(id), EXPOSR_OK);
		for (size_t j = 0; j < IDS_ACCOUNT_LEN; j++)
			counts[strchr(alphabet, id[j]) - alphabet]++;
	}
	/* A byte modulo 23 would give the first three symbols 12/256 instead of 1/23,
	 * 8% too many: well outside these 3% (8 standard deviations). */
	double expected = (double)accounts * IDS_ACCOUNT_LEN / (sizeof(alphabet) - 1);
	for (size_t k = 0; k < sizeof(alphabet) - 1; k++)
		cr_assert(counts[k] > expected * 0.97 && counts[k] < expected * 1.03, "%c: %zu",
		          alphabet[k], counts[k]);
}

Test(ids, tunnel_id_follows_the_regex)
{
	char id65[66], id64[65], id63[64], id66[67];
	memset(id65, 'a', 65);
	id65[32] = '-';
	id65[64] = 'b';
	id65[65] = '\0';
	memset(id64, 'a', 64);
	id64[64] = '\0';
	memset(id63, '7', 63);
	id63[63] = '\0';
	memset(id66, 'a', 66);
	id66[66] = '\0';
	static const char *const good[] = {"abcd",   "1abc",         "a-b-c1", "abcde",
	                                   "a--b-c", "lazy-lion-37", "0000"};
	static const char *const bad[] = {"abc",     "MyTunnel", "ab-cd", "-abcde", "abcde-",
	                                  "abc_def", "abcd.e",   "",      "ab cd",  "abcdé"};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		cr_assert(ids_tunnel_id_valid(good[i]), "%s", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert(!ids_tunnel_id_valid(bad[i]), "%s", bad[i]);
	cr_assert(ids_tunnel_id_valid(id65));
	cr_assert(ids_tunnel_id_valid(id64)); /* the hyphen form allows 64 and 65 */
	cr_assert(ids_tunnel_id_valid(id63));
	cr_assert(!ids_tunnel_id_valid(id66));
	cr_assert(!ids_tunnel_id_valid(NULL));
}

Test(ids, tokens_are_86_base64url_characters)
{
	char a[IDS_TOKEN_LEN + 1], b[IDS_TOKEN_LEN + 1];
	cr_assert_eq(ids_token_generate(a), EXPOSR_OK);
	cr_assert_eq(ids_token_generate(b), EXPOSR_OK);
	cr_assert_eq(strlen(a), 86);
	cr_assert_eq(strspn(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
	             86);
	cr_assert_str_neq(a, b);
}

Test(ids, tokens_are_64_random_bytes_in_base64url)
{
	char token[IDS_TOKEN_LEN + 1], seen[100][IDS_TOKEN_LEN + 1];
	for (int i = 0; i < 100; i++) {
		cr_assert_eq(ids_token_generate(token), EXPOSR_OK);
		for (int j = 0; j < i; j++)
			cr_assert_str_neq(token, seen[j]);
		memcpy(seen[i], token, sizeof(token));
		/* Back to standard base64 with its padding: OpenSSL decodes 64 bytes (and two
		 * of padding) that it encodes into the same text. */
		char b64[IDS_TOKEN_LEN + 3];
		for (int k = 0; k < IDS_TOKEN_LEN; k++)
			b64[k] = token[k] == '-' ? '+' : token[k] == '_' ? '/' : token[k];
		memcpy(b64 + IDS_TOKEN_LEN, "==", 3);
		unsigned char bytes[66], again[89];
		cr_assert_eq(EVP_DecodeBlock(bytes, (const unsigned char *)b64, IDS_TOKEN_LEN + 2),
		             66);
		cr_assert_eq(EVP_EncodeBlock(again, bytes, 64), 88);
		cr_assert_str_eq((char *)again, b64);
	}
}

Test(ids, token_comparison)
{
	char a[IDS_TOKEN_LEN + 1], b[IDS_TOKEN_LEN + 1];
	cr_assert_eq(ids_token_generate(a), EXPOSR_OK);
	memcpy(b, a, sizeof(a));
	cr_assert(ids_token_equal(a, b));
	b[85] = b[85] == 'x' ? 'y' : 'x';
	cr_assert(!ids_token_equal(a, b));
	b[85] = a[85];
	b[40] = '\0';
	cr_assert(!ids_token_equal(a, b)); /* a prefix is not the token */
	cr_assert(!ids_token_equal(a, ""));
	cr_assert(!ids_token_equal(a, NULL));
	cr_assert(!ids_token_equal(NULL, NULL));
}

static bool lower_hex(const char *s, size_t n)
{
	return strspn(s, "0123456789abcdef") == n;
}

Test(ids, uuid_v4_format)
{
	char u[IDS_UUID_LEN + 1];
	cr_assert_eq(ids_uuid_v4(u), EXPOSR_OK);
	cr_assert_eq(strlen(u), 36);
	cr_assert(u[8] == '-' && u[13] == '-' && u[18] == '-' && u[23] == '-', "%s", u);
	cr_assert_eq(u[14], '4', "%s", u);
	cr_assert(strchr("89ab", u[19]) != NULL, "%s", u);
	cr_assert(lower_hex(u, 8) && lower_hex(u + 9, 4) && lower_hex(u + 24, 12), "%s", u);
}

Test(ids, node_id_and_connection_id)
{
	cr_assert_eq(ids_node_id_init(), EXPOSR_OK);
	const char *node = ids_node_id();
	cr_assert_eq(strlen(node), 40);
	cr_assert(lower_hex(node, 40));
	cr_assert_str_eq(ids_node_id(), node); /* one per process */
	char conn[IDS_CONNECTION_ID_LEN + 1], other[IDS_CONNECTION_ID_LEN + 1];
	cr_assert_eq(ids_connection_id(conn), EXPOSR_OK);
	cr_assert_eq(ids_connection_id(other), EXPOSR_OK);
	cr_assert_eq(strlen(conn), 77);
	cr_assert(strncmp(conn, node, 40) == 0 && conn[40] == ':', "%s", conn);
	cr_assert_str_neq(conn, other);
}

Test(ids, iso_timestamps)
{
	char out[IDS_ISO_SIZE];
	iso_time_format(0, out);
	cr_assert_str_eq(out, "1970-01-01T00:00:00.000Z");
	iso_time_format(1707568496789, out);
	cr_assert_str_eq(out, "2024-02-10T12:34:56.789Z");
	iso_time_format(-1, out);
	cr_assert_str_eq(out, "1969-12-31T23:59:59.999Z");
	int64_t now = ids_now_ms();
	int64_t t = (int64_t)time(NULL) * 1000;
	cr_assert(now >= t - 1000 && now <= t + 2000);
	ids_iso_now(out);
	cr_assert_eq(strlen(out), 24);
	cr_assert_eq(out[23], 'Z');
}
