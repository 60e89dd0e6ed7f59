/* The cluster service: signed messages out and in, what is dropped (and logged), nodes
 * learned, stale and forgotten, heartbeats and the start-up wait. */
#include "capture.h"
#include "cluster_fixture.h"
#include "options.h"

TestSuite(cluster, .init = cx_setup_bus, .fini = cx_teardown);
TestSuite(cluster_alone, .init = cx_setup_alone, .fini = cx_teardown);

Test(cluster, start_publishes_a_signed_heartbeat_and_waits_before_ready)
{
	cr_assert(cluster_multi_node());
	cr_assert(!cluster_ready(), "multi-node: not ready during the start-up wait");
	cr_assert_eq(cx_bus.count, 1);
	struct cluster_message m;
	cx_sent(0, &m);
	cr_assert_str_eq(m.event, EVENT_HEARTBEAT);
	cr_assert(cJSON_IsObject(m.message) && cJSON_GetArraySize(m.message) == 0);
	cr_assert_str_eq(m.node_id, ids_node_id());
	cr_assert_str_eq(m.node_ip, cluster_self()->ip);
	cr_assert_eq(m.seq, 0);
	cr_assert_eq(m.ts, cx_clock_ms);
	cluster_message_free(&m);
	/* The wire form ends with the signature, as exposrd writes it. */
	const char *text = cx_bus.sent[0];
	cr_assert(strstr(text, ",\"s\":\"") != NULL && text[strlen(text) - 1] == '}');
	cr_assert(strncmp(text,
	                  "{\"event\":\"cluster:heartbeat\",\"message\":{},\"node\":{\"id\":\"",
	                  55) == 0,
	          "%s", text);

	/* Sequence numbers count every message. */
	cJSON *msg = cJSON_Parse("{\"tunnel_id\":\"abcd\"}");
	cr_assert_eq(cluster_publish(EVENT_DISCONNECT, msg), EXPOSR_OK);
	cJSON_Delete(msg);
	cx_sent(1, &m);
	cr_assert_eq(m.seq, 1);
	cluster_message_free(&m);
}

Test(cluster, a_bus_that_is_down_loses_the_message)
{
	cx_bus.down = true;
	cJSON *msg = cJSON_CreateObject();
	cr_assert_eq(cluster_publish(EVENT_HEARTBEAT, msg), EXPOSR_ERROR);
	cJSON_Delete(msg);
}

/* Delivers `text` and returns what was logged (caller frees). */
static char *deliver_logged(const char *text)
{
	FILE *tmp;
	int saved = capture_begin(&tmp);
	cluster_deliver(text, strlen(text));
	return capture_end(tmp, saved);
}

Test(cluster_alone, messages_are_delivered_locally)
{
	cr_assert(!cluster_multi_node());
	cr_assert(cluster_ready());
	/* The first heartbeat is on its way, unsigned but through the same replay window. */
	cr_assert_eq(cluster_nodes_count(), 0);
	cx_settle();
	cr_assert_eq(cluster_nodes_count(), 1);
	struct cluster_node *self = cluster_nodes_find(ids_node_id());
	cr_assert_not_null(self);
	cr_assert_eq(self->window.hi, 0);
	cr_assert_eq(self->window.seen, 1);
}

Test(cluster_alone, what_arrives_from_outside_is_still_checked)
{
	/* Only this node's own queue skips the signature: the entry point modules call
	 * refuses an unsigned message even without a bus. */
	struct cluster_sender from = {.id = cx_node_b, .host = "1@x", .ip = "192.0.2.7"};
	cJSON *empty = cJSON_CreateObject();
	char *text = cluster_message_encode(NULL, &from, EVENT_HEARTBEAT, empty, cx_clock_ms, 0);
	cJSON_Delete(empty);
	cr_assert_not_null(text);
	char *logged = deliver_logged(text);
	cr_assert(strstr(logged, "missing signature") != NULL, "logged: %s", logged);
	cr_assert_null(cluster_nodes_find(cx_node_b));
	free(logged);
	free(text);
	cx_deliver(cx_node_b, EVENT_HEARTBEAT, "{}", 0);
	cr_assert_not_null(cluster_nodes_find(cx_node_b));
}

struct listed {
	int count;
	char ids[4][IDS_NODE_ID_LEN + 1];
	struct exposr_cluster_node nodes[4];
};

static void on_listed(void *arg, const struct exposr_cluster_node *n)
{
	struct listed *l = arg;
	cr_assert_lt(l->count, 4);
	snprintf(l->ids[l->count], sizeof(l->ids[0]), "%s", n->node_id);
	l->nodes[l->count] = *n;
	l->nodes[l->count].node_id = l->ids[l->count];
	l->nodes[l->count].host = l->nodes[l->count].ip = NULL;
	l->count++;
}

static struct listed list_nodes(void)
{
	struct listed l = {0};
	cluster_api.nodes(on_listed, &l);
	return l;
}

Test(cluster, nodes_are_learned_go_stale_and_are_forgotten)
{
	struct listed l = list_nodes();
	cr_assert_eq(l.count, 1, "this node is always listed");
	cr_assert(l.nodes[0].self && !l.nodes[0].stale);
	cr_assert_eq(l.nodes[0].alive_age, 0);

	int64_t t0 = cx_clock_ms;
	cx_deliver(cx_node_b, EVENT_HEARTBEAT, "{}", 0);
	/* Any first message teaches a node too. */
	cx_deliver(cx_node_c, EVENT_DISCONNECT, "{\"tunnel_id\":\"nobody-has-it\"}", 5);
	l = list_nodes();
	cr_assert_eq(l.count, 3);
	struct cluster_node *b = cluster_nodes_find(cx_node_b);
	cr_assert_not_null(b);
	cr_assert_str_eq(b->ip, "192.0.2.7");
	cr_assert(strncmp(b->host, "4242@", 5) == 0);
	cr_assert_eq(b->alive_at, t0);

	cx_clock_ms = t0 + 29000;
	cr_assert(!cluster_node_stale(b, cx_clock_ms));
	cx_clock_ms = t0 + 31000;
	l = list_nodes();
	for (int i = 1; i < l.count; i++) {
		cr_assert(l.nodes[i].stale, "node %s is not stale", l.ids[i]);
		cr_assert_eq(l.nodes[i].alive_age, 31000);
	}
	/* A heartbeat makes it fresh again; other messages do not. */
	cx_deliver(cx_node_b, EVENT_HEARTBEAT, "{}", 1);
	cx_deliver(cx_node_c, EVENT_DISCONNECT, "{\"tunnel_id\":\"nobody-has-it\"}", 6);
	cr_assert(!cluster_node_stale(cluster_nodes_find(cx_node_b), cx_clock_ms));
	cr_assert(cluster_node_stale(cluster_nodes_find(cx_node_c), cx_clock_ms));

	cluster_nodes_sweep(t0 + 60000);
	cr_assert_not_null(cluster_nodes_find(cx_node_c), "forgotten too early");
	cluster_nodes_sweep(t0 + 60001);
	cr_assert_null(cluster_nodes_find(cx_node_c));
	cr_assert_not_null(cluster_nodes_find(cx_node_b));
	cluster_nodes_sweep(t0 + 31000 + 60001);
	cr_assert_null(cluster_nodes_find(cx_node_b));
	cr_assert_eq(list_nodes().count, 1);
}

Test(cluster, a_bad_signature_is_dropped_and_logged)
{
	char *text =
	        cx_message(cx_node_b, EVENT_DISCONNECT, "{\"tunnel_id\":\"abcd\"}", cx_clock_ms, 0);
	/* One hex digit of the signature changed. */
	char *s = strstr(text, "\"s\":\"") + 5;
	*s = *s == '0' ? '1' : '0';
	char *logged = deliver_logged(text);
	cr_assert(strstr(logged, "invalid message signature") != NULL, "logged: %s", logged);
	cr_assert(strstr(logged, "warn") != NULL, "logged: %s", logged);
	cr_assert_null(cluster_nodes_find(cx_node_b), "a forged message taught a node");
	free(logged);
	free(text);

	/* Signed with another key: the same. */
	struct cluster_sender from = {.id = cx_node_b, .host = "1@x", .ip = "192.0.2.7"};
	cJSON *empty = cJSON_CreateObject();
	text = cluster_message_encode("another-key", &from, EVENT_HEARTBEAT, empty, cx_clock_ms, 0);
	cJSON_Delete(empty);
	cr_assert_null(cluster_nodes_find(cx_node_b));
	cluster_deliver(text, strlen(text));
	cr_assert_null(cluster_nodes_find(cx_node_b));
	free(text);
}

Test(cluster, a_replayed_or_too_old_sequence_is_dropped_and_logged)
{
	char *first = cx_message(cx_node_b, EVENT_HEARTBEAT, "{}", cx_clock_ms, 1);
	cluster_deliver(first, strlen(first));
	struct cluster_node *b = cluster_nodes_find(cx_node_b);
	cr_assert_not_null(b);
	char *logged = deliver_logged(first);
	cr_assert(strstr(logged, "dropped cluster message 1") != NULL &&
	                  strstr(logged, "already received") != NULL,
	          "logged: %s", logged);
	free(logged);
	free(first);

	/* Out of order inside the window is fine, once. */
	cx_deliver(cx_node_b, EVENT_HEARTBEAT, "{}", 20);
	cx_deliver(cx_node_b, EVENT_HEARTBEAT, "{}", 18);
	cr_assert_eq(b->window.hi, 20);
	cr_assert_eq(b->window.seen, 0x5);
	cx_clock_ms += 1000; /* dropped messages are logged once a second */
	char *old = cx_message(cx_node_b, EVENT_HEARTBEAT, "{}", cx_clock_ms, 4);
	logged = deliver_logged(old);
	cr_assert(strstr(logged, "dropped cluster message 4") != NULL, "logged: %s", logged);
	cr_assert_eq(b->window.seen, 0x5);
	free(logged);
	free(old);
}

Test(cluster, a_missing_field_is_dropped_and_logged)
{
	static const char *const cases[] = {"seq", "ts", "event", "message", "node"};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cx_clock_ms += 1000; /* dropped messages are logged once a second */
		/* Signed correctly, but without the field (exposrd rejects it all the same). */
		cJSON *root = cJSON_CreateObject();
		cJSON_AddStringToObject(root, "event", EVENT_HEARTBEAT);
		cJSON_AddObjectToObject(root, "message");
		cJSON *node = cJSON_AddObjectToObject(root, "node");
		cJSON_AddStringToObject(node, "id", cx_node_b);
		cJSON_AddStringToObject(node, "host", "1@x");
		cJSON_AddStringToObject(node, "ip", "192.0.2.7");
		cJSON_AddNumberToObject(root, "ts", (double)cx_clock_ms);
		cJSON_AddNumberToObject(root, "seq", 0);
		cJSON_DeleteItemFromObject(root, cases[i]);
		char *unsigned_text = cJSON_PrintUnformatted(root);
		char sig[65];
		cluster_message_sign(CX_KEY, unsigned_text, strlen(unsigned_text), sig);
		cJSON_AddStringToObject(root, "s", sig);
		char *text = cJSON_PrintUnformatted(root);
		char *logged = deliver_logged(text);
		cr_assert(strstr(logged, "missing field") != NULL, "%s: logged: %s", cases[i],
		          logged);
		cr_assert_null(cluster_nodes_find(cx_node_b));
		free(logged);
		free(text);
		free(unsigned_text);
		cJSON_Delete(root);
	}
	cx_clock_ms += 1000;
	char *logged = deliver_logged("not json at all");
	cr_assert(strstr(logged, "dropped a cluster message") != NULL, "logged: %s", logged);
	free(logged);
}

Test(cluster, a_flood_of_bad_messages_is_logged_once_a_second)
{
	FILE *tmp;
	int saved = capture_begin(&tmp);
	for (int i = 0; i < 20; i++)
		cluster_deliver("{}", 2);
	cx_clock_ms += 1000;
	cluster_deliver("{}", 2);
	char *logged = capture_end(tmp, saved);
	int lines = 0;
	for (const char *p = logged; (p = strstr(p, "dropped a cluster message")) != NULL; p++)
		lines++;
	cr_assert_eq(lines, 2, "logged: %s", logged);
	cr_assert(strstr(logged, "and 19 more dropped before") != NULL, "logged: %s", logged);
	free(logged);
}

Test(cluster, shutdown_stops_heartbeats_but_still_sends)
{
	size_t before = cx_bus.count;
	cluster_shutdown();
	/* Nothing is connected: nothing to announce. */
	cr_assert_eq(cx_bus.count, before);
	cJSON *msg = cJSON_Parse("{\"tunnel_id\":\"abcd\"}");
	cr_assert_eq(cluster_publish(EVENT_DISCONNECT, msg), EXPOSR_OK);
	cJSON_Delete(msg);
	cluster_free();
	/* After that, nothing is sent and what arrives is ignored. */
	cr_assert_eq(cluster_publish(EVENT_DISCONNECT, NULL), EXPOSR_ERROR);
	cx_deliver(cx_node_b, EVENT_HEARTBEAT, "{}", 0);
	cr_assert_null(cluster_nodes_find(cx_node_b));
}

Test(cluster_alone, a_bad_advertise_address_is_refused)
{
	cluster_free();
	cr_assert_eq(cfg_set(fx_root, "cluster.advertise-address", "not-an-ip", "test"), 0);
	FILE *tmp;
	int saved = capture_begin(&tmp);
	int rc = cluster_configure(fx_root);
	char *logged = capture_end(tmp, saved);
	cr_assert_eq(rc, EXPOSR_ERROR);
	cr_assert(strstr(logged, "not-an-ip") != NULL, "logged: %s", logged);
	free(logged);
	cr_assert_eq(cfg_set(fx_root, "cluster.advertise-address", "198.51.100.4", "test"), 0);
	cr_assert_eq(cluster_configure(fx_root), EXPOSR_OK);
	cr_assert_str_eq(cluster_self()->ip, "198.51.100.4");
}

Test(cluster_alone, the_advertise_address_flag_reaches_the_setting)
{
	cluster_free();
	char *argv[] = {"exposrd", "--cluster-advertise-address", "198.51.100.9", NULL};
	struct options o;
	cr_assert_eq(options_parse(3, argv, &o), 0);
	cr_assert_eq(options_apply(&o, fx_root), 0);
	options_free(&o);
	cr_assert_eq(cluster_configure(fx_root), EXPOSR_OK);
	cr_assert_str_eq(cluster_self()->ip, "198.51.100.9");
}

Test(cluster_alone, a_specific_bind_address_is_the_default_ip)
{
	cluster_free();
	cr_assert_eq(cfg_set(fx_root, "http.bind", "127.0.0.3", "test"), 0);
	cr_assert_eq(cluster_configure(fx_root), EXPOSR_OK);
	cr_assert_str_eq(cluster_self()->ip, "127.0.0.3");
	cluster_free();
	cr_assert_eq(cfg_set(fx_root, "http.bind", "0.0.0.0", "test"), 0);
	cr_assert_eq(cluster_configure(fx_root), EXPOSR_OK);
	cr_assert_str_neq(cluster_self()->ip, "0.0.0.0");
	cr_assert_str_neq(cluster_self()->ip, "");
}

Test(cluster, a_node_at_the_ends_of_time_is_aged_without_overflow)
{
	/* Signed messages carry no time below 0 or above 2^53 - 1; the ageing holds for
	 * any stored time all the same. */
	struct cluster_node *n = cluster_nodes_add(cx_node_b, "1@x", "192.0.2.7", INT64_MIN);
	cr_assert_not_null(n);
	cr_assert(cluster_node_stale(n, INT64_MAX));
	cr_assert(!cluster_node_stale(n, INT64_MIN));
	n->alive_at = INT64_MAX;
	cr_assert(!cluster_node_stale(n, INT64_MIN));
	cluster_nodes_sweep(INT64_MIN);
	cr_assert_not_null(cluster_nodes_find(cx_node_b));
	n->alive_at = INT64_MIN;
	cluster_nodes_sweep(INT64_MAX);
	cr_assert_null(cluster_nodes_find(cx_node_b));
}
