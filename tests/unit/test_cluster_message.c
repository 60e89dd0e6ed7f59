/* Cluster message signing (docs/cluster.md §8.3 test vectors) and the replay window. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "cluster_message.h"

static const char *const key = "secret-signing-key";
static const struct cluster_sender node_a = {"0123456789abcdef0123456789abcdef01234567",
                                             "1234@node-a", "10.0.0.5"};

struct vector {
	const char *event;
	const char *message;
	int64_t ts, seq;
	const char *text;
	const char *s;
};

static const struct vector vectors[] = {
        {"cluster:heartbeat", "{}", 1700000000000, 0,
         "{\"event\":\"cluster:heartbeat\",\"message\":{},\"node\":{\"id\":"
         "\"0123456789abcdef0123456789abcdef01234567\",\"host\":\"1234@node-a\",\"ip\":\"10.0.0."
         "5\"},\"ts\":1700000000000,\"seq\":0}",
         "9132157d24f87ae974b751671ad85b75a1086fed9c3de555e55ec3e0cbde894c"},
        {"tunnel:disconnect", "{\"tunnel_id\":\"my-tunnel\"}", 1700000006000, 2,
         "{\"event\":\"tunnel:disconnect\",\"message\":{\"tunnel_id\":\"my-tunnel\"},\"node\":{"
         "\"id\":\"0123456789abcdef0123456789abcdef01234567\",\"host\":\"1234@node-a\",\"ip\":\"10."
         "0.0.5\"},\"ts\":1700000006000,\"seq\":2}",
         "a3ce9cfc00d8de4052316bbea6da217ef30a7b338dba1f1f7a46f1c65900220c"},
        {"tunnel:announce",
         "[{\"tunnel_id\":\"my-tunnel\",\"connections\":[{\"connection_id\":"
         "\"0123456789abcdef0123456789abcdef01234567:6f1c2a9e-3b7d-4f0e-9a51-2c8d7e6b5a40\","
         "\"node\":\"0123456789abcdef0123456789abcdef01234567\",\"peer\":\"192.0.2.10\","
         "\"connected\":true,\"connected_at\":1700000000123}]}]",
         1700000005000, 1,
         "{\"event\":\"tunnel:announce\",\"message\":[{\"tunnel_id\":\"my-tunnel\",\"connections\":"
         "[{\"connection_id\":\"0123456789abcdef0123456789abcdef01234567:6f1c2a9e-3b7d-4f0e-9a51-"
         "2c8d7e6b5a40\",\"node\":\"0123456789abcdef0123456789abcdef01234567\",\"peer\":\"192.0.2."
         "10\",\"connected\":true,\"connected_at\":1700000000123}]}],\"node\":{\"id\":"
         "\"0123456789abcdef0123456789abcdef01234567\",\"host\":\"1234@node-a\",\"ip\":\"10.0.0."
         "5\"},\"ts\":1700000005000,\"seq\":1}",
         "1251dda9ff3e658a05cc53b35b736d08bb9c4c0a54d7b741ed6c7e1c0c95fbf0"},
};

Test(cluster_message, protocol_test_vectors_sign)
{
	for (size_t i = 0; i < 3; i++) {
		char s[65];
		cluster_message_sign(key, vectors[i].text, strlen(vectors[i].text), s);
		cr_assert_str_eq(s, vectors[i].s, "vector %zu", i);
	}
}

Test(cluster_message, encode_produces_the_exact_wire_text)
{
	for (size_t i = 0; i < 3; i++) {
		cJSON *msg = cJSON_Parse(vectors[i].message);
		char *wire = cluster_message_encode(key, &node_a, vectors[i].event, msg,
		                                    vectors[i].ts, vectors[i].seq);
		char want[2048];
		snprintf(want, sizeof(want), "%.*s,\"s\":\"%s\"}", (int)strlen(vectors[i].text) - 1,
		         vectors[i].text, vectors[i].s);
		cr_assert_str_eq(wire, want, "vector %zu", i);
		free(wire);
		cJSON_Delete(msg);
	}
}

Test(cluster_message, decode_verifies_and_exposes_fields)
{
	char wire[2048];
	snprintf(wire, sizeof(wire), "%.*s,\"s\":\"%s\"}", (int)strlen(vectors[2].text) - 1,
	         vectors[2].text, vectors[2].s);
	struct cluster_message m;
	const char *why = NULL;
	cr_assert_eq(cluster_message_decode(key, wire, strlen(wire), &m, &why), EXPOSR_OK, "%s",
	             why);
	cr_assert_str_eq(m.event, "tunnel:announce");
	cr_assert_str_eq(m.node_id, node_a.id);
	cr_assert_str_eq(m.node_host, "1234@node-a");
	cr_assert_eq(m.ts, 1700000005000);
	cr_assert_eq(m.seq, 1);
	cr_assert(cJSON_IsArray(m.message));
	cluster_message_free(&m);
}

Test(cluster_message, bad_signature_wrong_key_and_missing_fields_are_rejected)
{
	char wire[2048];
	snprintf(wire, sizeof(wire), "%.*s,\"s\":\"%s\"}", (int)strlen(vectors[0].text) - 1,
	         vectors[0].text, vectors[1].s);
	struct cluster_message m;
	const char *why;
	cr_assert_eq(cluster_message_decode(key, wire, strlen(wire), &m, &why), EXPOSR_ERROR);
	cr_assert_str_eq(why, "invalid message signature");
	snprintf(wire, sizeof(wire), "%.*s,\"s\":\"%s\"}", (int)strlen(vectors[0].text) - 1,
	         vectors[0].text, vectors[0].s);
	cr_assert_eq(cluster_message_decode("other-key", wire, strlen(wire), &m, &why),
	             EXPOSR_ERROR);
	cr_assert_str_eq(why, "invalid message signature");
	/* The signature is checked before anything else: a short one is simply wrong. */
	const char *no_seq =
	        "{\"event\":\"x\",\"message\":{},\"node\":{\"id\":\"a\"},\"ts\":1,\"s\":\"00\"}";
	cr_assert_eq(cluster_message_decode(key, no_seq, strlen(no_seq), &m, &why), EXPOSR_ERROR);
	cr_assert_str_eq(why, "invalid message signature");
	cr_assert_eq(cluster_message_decode(NULL, no_seq, strlen(no_seq), &m, &why), EXPOSR_ERROR);
	cr_assert_str_eq(why, "missing field");
	cr_assert_eq(cluster_message_decode(key, "[1]", 3, &m, &why), EXPOSR_ERROR);
	cr_assert_eq(cluster_message_decode(key, "{", 1, &m, &why), EXPOSR_ERROR);
}

Test(cluster_message, without_a_key_nothing_is_signed_or_checked)
{
	cJSON *msg = cJSON_Parse(vectors[1].message);
	char *wire = cluster_message_encode(NULL, &node_a, vectors[1].event, msg, vectors[1].ts,
	                                    vectors[1].seq);
	cJSON_Delete(msg);
	cr_assert_str_eq(wire, vectors[1].text);
	struct cluster_message m;
	const char *why = NULL;
	cr_assert_eq(cluster_message_decode(NULL, wire, strlen(wire), &m, &why), EXPOSR_OK, "%s",
	             why);
	cr_assert_str_eq(m.event, "tunnel:disconnect");
	cr_assert_str_eq(m.node_id, node_a.id);
	cr_assert_eq(m.seq, 2);
	cluster_message_free(&m);
	/* With a key, the same text is refused: it has no signature. */
	cr_assert_eq(cluster_message_decode(key, wire, strlen(wire), &m, &why), EXPOSR_ERROR);
	cr_assert_str_eq(why, "missing signature");
	free(wire);
}

Test(cluster_message, replay_window_as_exposrd)
{
	struct replay_window w = {0};
	cr_assert(replay_window_accept(&w, 0));
	cr_assert_not(replay_window_accept(&w, 0), "repeat");
	cr_assert(replay_window_accept(&w, 2));
	cr_assert(replay_window_accept(&w, 1), "out of order inside the window");
	cr_assert_not(replay_window_accept(&w, 1));
	cr_assert_eq(w.seen, 0x7); /* 111: 2, 1, 0 */
	cr_assert(replay_window_accept(&w, 40));
	cr_assert_eq(w.seen, 0x1, "a jump of 16 or more clears the bitmap");
	cr_assert_not(replay_window_accept(&w, 24), "older than the window");
	cr_assert(replay_window_accept(&w, 25));
	cr_assert_not(replay_window_accept(&w, 25));
	cr_assert_not(replay_window_accept(&w, -1));
}

/* A signed copy of `json` (an envelope without "s"), as a node holding the key sends it. */
static char *signed_text(const char *json)
{
	cJSON *root = cJSON_Parse(json);
	cr_assert_not_null(root, "test envelope: %s", json);
	char *unsigned_text = cJSON_PrintUnformatted(root);
	char sig[65];
	cluster_message_sign(key, unsigned_text, strlen(unsigned_text), sig);
	cJSON_AddStringToObject(root, "s", sig);
	char *text = cJSON_PrintUnformatted(root);
	free(unsigned_text);
	cJSON_Delete(root);
	return text;
}

Test(cluster_message, an_unsigned_huge_number_is_dropped_before_it_is_converted)
{
	/* The reproducer: "ts":1e300 without a valid signature. Converting it was
	 * undefined behaviour (the sanitizer build aborted). */
	static const char hex[] = "7b226576656e74223a2278222c226d657373616765223a7b7d2c226e6f64"
	                          "65223a7b226964223a2261227d2c227473223a31653330302c2273657122"
	                          "3a302c2273223a2230227d";
	char text[sizeof(hex) / 2];
	for (size_t i = 0; i < sizeof(text); i++)
		cr_assert_eq(sscanf(hex + 2 * i, "%2hhx", (unsigned char *)&text[i]), 1);
	struct cluster_message m;
	const char *why = NULL;
	cr_assert_eq(cluster_message_decode(key, text, sizeof(text), &m, &why), EXPOSR_ERROR);
	cr_assert_str_eq(why, "invalid message signature");
	cr_assert_eq(cluster_message_decode(NULL, text, sizeof(text), &m, &why), EXPOSR_ERROR);
	cr_assert_str_eq(why, "ts or seq out of range");
}

Test(cluster_message, signed_numbers_out_of_range_are_dropped)
{
	static const char *const bad[] = {
	        "1e300", "-1e300", "-9223372036854775808", "9223372036854775807", "-1",
	        "1.5",   "1e16"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		for (int field = 0; field < 2; field++) {
			char json[256];
			snprintf(json, sizeof(json),
			         "{\"event\":\"x\",\"message\":{},\"node\":{\"id\":\"a\"},"
			         "\"ts\":%s,\"seq\":%s}",
			         field == 0 ? bad[i] : "1", field == 1 ? bad[i] : "1");
			char *text = signed_text(json);
			struct cluster_message m;
			const char *why = NULL;
			cr_assert_eq(cluster_message_decode(key, text, strlen(text), &m, &why),
			             EXPOSR_ERROR, "%s", json);
			cr_assert_str_eq(why, "ts or seq out of range", "%s", json);
			free(text);
		}
	}
	/* The bounds themselves, on numbers as cJSON holds them. */
	int64_t v = -1;
	cJSON *n = cJSON_CreateNumber(9007199254740991.0);
	cr_assert(cluster_json_int(n, 0, CLUSTER_MAX_INT, &v));
	cr_assert_eq(v, CLUSTER_MAX_INT);
	cJSON_SetNumberValue(n, 9007199254740992.0);
	cr_assert(!cluster_json_int(n, 0, CLUSTER_MAX_INT, &v));
	cJSON_SetNumberValue(n, 0.0);
	cr_assert(cluster_json_int(n, 0, CLUSTER_MAX_INT, &v));
	cr_assert_eq(v, 0);
	cJSON_SetNumberValue(n, -0.5);
	cr_assert(!cluster_json_int(n, 0, CLUSTER_MAX_INT, &v));
	cJSON_Delete(n);
}
