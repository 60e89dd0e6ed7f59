/* Account and tunnel records: defaults, merge-on-read, 0.12's field order. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "records.h"

static const char account_012[] =
        "{\"accountId\":\"MNF4P6Y6M2MRRVCT\",\"id\":\"MNF4P6Y6M2MRRVCT\","
        "\"created_at\":\"2024-02-01T10:00:00.000Z\",\"updated_at\":\"2024-02-10T12:00:00.000Z\","
        "\"tunnels\":[\"my-tunnel\"],\"status\":{\"disabled\":false}}";

static const char tunnel_012[] =
        "{\"transport\":{\"token\":\"tok\",\"max_connections\":1,\"ws\":{\"enabled\":true},"
        "\"ssh\":{\"enabled\":false}},"
        "\"ingress\":{\"http\":{\"enabled\":true,\"url\":\"http://my-tunnel.localhost:8080/\","
        "\"urls\":[\"http://my-tunnel.localhost:8080/\"],\"alt_names\":[]},"
        "\"sni\":{\"enabled\":false,\"urls\":[]}},"
        "\"target\":{\"url\":\"http://example.com/\"},"
        "\"id\":\"my-tunnel\",\"account\":\"MNF4P6Y6M2MRRVCT\","
        "\"created_at\":\"2024-02-10T12:34:56.789Z\",\"updated_at\":\"2024-02-10T12:35:01.002Z\"}";

/* parse then serialise */
static char *round_trip(enum record_kind kind, const char *json)
{
	cJSON *r = records_parse(kind, json, strlen(json));
	cr_assert_not_null(r, "%s", json);
	char *text = records_serialize(kind, r);
	cr_assert_not_null(text);
	cJSON_Delete(r);
	return text;
}

Test(records, records_written_by_012_read_back_unchanged)
{
	char *a = round_trip(RECORD_ACCOUNT, account_012);
	cr_assert_str_eq(a, account_012);
	free(a);
	char *t = round_trip(RECORD_TUNNEL, tunnel_012);
	cr_assert_str_eq(t, tunnel_012);
	free(t);
}

Test(records, new_account)
{
	cJSON *r = records_account_new("MNF4P6Y6M2MRRVCT", "2024-02-01T10:00:00.000Z");
	cr_assert_not_null(r);
	char *text = records_serialize(RECORD_ACCOUNT, r);
	cr_assert_str_eq(text, "{\"accountId\":\"MNF4P6Y6M2MRRVCT\",\"id\":\"MNF4P6Y6M2MRRVCT\","
	                       "\"created_at\":\"2024-02-01T10:00:00.000Z\","
	                       "\"updated_at\":\"2024-02-01T10:00:00.000Z\",\"tunnels\":[],"
	                       "\"status\":{\"disabled\":false}}");
	free(text);
	cJSON_Delete(r);
}

Test(records, new_tunnel)
{
	cJSON *r = records_tunnel_new("my-tunnel", "MNF4P6Y6M2MRRVCT", "tok",
	                              "2024-02-10T12:34:56.789Z");
	cr_assert_not_null(r);
	char *text = records_serialize(RECORD_TUNNEL, r);
	cr_assert_str_eq(text,
	                 "{\"transport\":{\"token\":\"tok\",\"max_connections\":1,"
	                 "\"ws\":{\"enabled\":false},\"ssh\":{\"enabled\":false}},"
	                 "\"ingress\":{\"http\":{\"enabled\":false,\"urls\":[],\"alt_names\":[]},"
	                 "\"sni\":{\"enabled\":false,\"urls\":[]}},\"target\":{},"
	                 "\"id\":\"my-tunnel\",\"account\":\"MNF4P6Y6M2MRRVCT\","
	                 "\"created_at\":\"2024-02-10T12:34:56.789Z\","
	                 "\"updated_at\":\"2024-02-10T12:34:56.789Z\"}");
	free(text);
	cJSON_Delete(r);
}

Test(records, merge_with_defaults)
{
	/* Partial, reordered, with unknown, private, null and wrongly typed fields. */
	const char *stored =
	        "{\"id\":\"t1\",\"_lock\":\"x\",\"extra\":1,"
	        "\"ingress\":{\"sni\":{\"enabled\":true,\"url\":\"tcps://t1.x:4430\","
	        "\"urls\":[\"tcps://t1.x:4430\",7]},\"http\":null,\"grpc\":{}},"
	        "\"transport\":{\"ws\":{\"enabled\":\"true\"},\"max_connections\":null,"
	        "\"ssh\":{\"enabled\":true,\"port\":22}},"
	        "\"target\":{\"url\":null},\"account\":42}";
	char *text = round_trip(RECORD_TUNNEL, stored);
	cr_assert_str_eq(text,
	                 "{\"transport\":{\"max_connections\":1,\"ws\":{\"enabled\":false},"
	                 "\"ssh\":{\"enabled\":true}},"
	                 "\"ingress\":{\"http\":{\"enabled\":false,\"urls\":[],\"alt_names\":[]},"
	                 "\"sni\":{\"enabled\":true,\"url\":\"tcps://t1.x:4430\","
	                 "\"urls\":[\"tcps://t1.x:4430\"]}},\"target\":{},\"id\":\"t1\"}");
	free(text);
}

Test(records, arrays_replace_the_default)
{
	const char *stored =
	        "{\"tunnels\":[\"b\",\"a\"],\"status\":{\"disabled\":true,"
	        "\"disabled_at\":\"2024-01-01T00:00:00.000Z\",\"disabled_reason\":\"spam\"},"
	        "\"id\":\"X\"}";
	char *text = round_trip(RECORD_ACCOUNT, stored);
	cr_assert_str_eq(text,
	                 "{\"id\":\"X\",\"tunnels\":[\"b\",\"a\"],\"status\":{\"disabled\":true,"
	                 "\"disabled_at\":\"2024-01-01T00:00:00.000Z\","
	                 "\"disabled_reason\":\"spam\"}}");
	free(text);
}

Test(records, serialising_restores_the_field_order)
{
	cJSON *r = records_tunnel_new("t1", "MNF4P6Y6M2MRRVCT", "tok", "2024-02-10T12:34:56.789Z");
	cJSON *http = records_at(r, "ingress.http");
	cr_assert_not_null(http);
	/* Added after urls/alt_names, as an API edit would; stored before them. */
	cr_assert_eq(records_set_string(http, "url", "http://t1.localhost:8080/"), EXPOSR_OK);
	cr_assert_eq(records_set_string(records_at(r, "target"), "url", "http://example.com/"),
	             EXPOSR_OK);
	cJSON_AddStringToObject(r, "_private", "dropped");
	char *text = records_serialize(RECORD_TUNNEL, r);
	cr_assert(strstr(text, "\"http\":{\"enabled\":false,\"url\":\"http://t1.localhost:8080/\","
	                       "\"urls\":[],\"alt_names\":[]}") != NULL,
	          "%s", text);
	cr_assert(strstr(text, "\"target\":{\"url\":\"http://example.com/\"},\"id\":\"t1\"") !=
	                  NULL,
	          "%s", text);
	cr_assert_null(strstr(text, "_private"));
	free(text);
	cJSON_Delete(r);
}

Test(records, not_an_object_is_refused)
{
	static const char *const bad[] = {"", "[]", "\"x\"", "null", "{", "42"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_null(records_parse(RECORD_TUNNEL, bad[i], strlen(bad[i])), "%s", bad[i]);
	cr_assert_null(records_parse(RECORD_TUNNEL, NULL, 0));
	/* The length bounds the text. */
	cr_assert_null(records_parse(RECORD_ACCOUNT, "{}garbage", 1));
	cJSON *r = records_parse(RECORD_ACCOUNT, "{}garbage", 2);
	cr_assert_not_null(r);
	cJSON_Delete(r);
}

Test(records, account_summary)
{
	cJSON *r = records_parse(RECORD_ACCOUNT, account_012, strlen(account_012));
	cJSON *s = records_account_summary(r);
	char *text = cJSON_PrintUnformatted(s);
	cr_assert_str_eq(text, "{\"accountId\":\"MNF4P6Y6M2MRRVCT\",\"id\":\"MNF4P6Y6M2MRRVCT\","
	                       "\"tunnels\":[\"my-tunnel\"],\"status\":{\"disabled\":false}}");
	free(text);
	cJSON_Delete(s);
	cJSON_Delete(r);
}

Test(records, paths_and_setters)
{
	cJSON *r = records_parse(RECORD_TUNNEL, tunnel_012, strlen(tunnel_012));
	cr_assert_str_eq(records_string(r, "transport.token"), "tok");
	cr_assert_str_eq(records_string(r, "ingress.http.url"), "http://my-tunnel.localhost:8080/");
	cr_assert_null(records_string(r, "ingress.sni.url"));
	cr_assert_null(records_string(r, "ingress.http"));
	cr_assert_null(records_at(r, "ingress.nope.url"));
	cr_assert(cJSON_IsTrue(records_at(r, "transport.ws.enabled")));
	cJSON *target = records_at(r, "target");
	cr_assert_eq(records_set_string(target, "url", NULL), EXPOSR_OK);
	cr_assert_null(records_string(r, "target.url"));
	cr_assert_eq(records_set_string(r, "Id", "case"), EXPOSR_OK); /* not "id" */
	cr_assert_str_eq(records_string(r, "id"), "my-tunnel");
	cr_assert_eq(records_set_string(NULL, "x", "y"), EXPOSR_ERROR);
	cr_assert_str_eq(records_namespace(RECORD_ACCOUNT), "account");
	cr_assert_str_eq(records_namespace(RECORD_TUNNEL), "tunnel");
	cJSON_Delete(r);
}
