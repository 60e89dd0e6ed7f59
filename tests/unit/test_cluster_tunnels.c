/* The tunnel side of the cluster: announcements (batches, immediately on change), learning
 * and ageing of remote connections, max-connections across nodes, disconnect events and
 * the route an ingress takes. */
#include "cluster_fixture.h"

TestSuite(cluster_tunnels, .init = cx_setup_bus, .fini = cx_teardown);
TestSuite(cluster_tunnels_alone, .init = cx_setup_alone, .fini = cx_teardown);

/* The messages published since `from` with this event. */
static size_t count_sent(size_t from, const char *event)
{
	size_t n = 0;
	for (size_t i = from; i < cx_bus.count; i++) {
		struct cluster_message m;
		cx_sent(i, &m);
		n += strcmp(m.event, event) == 0;
		cluster_message_free(&m);
	}
	return n;
}

static const cJSON *find_tunnel(const cJSON *items, const char *tunnel_id)
{
	const cJSON *item;
	cJSON_ArrayForEach(item, items)
	{
		const cJSON *id = cJSON_GetObjectItem(item, "tunnel_id");
		if (cJSON_IsString(id) && strcmp(id->valuestring, tunnel_id) == 0)
			return item;
	}
	return NULL;
}

Test(cluster_tunnels, every_tunnel_is_announced_in_batches_of_fifty)
{
	enum { TUNNELS = 120 };
	static struct fx_conn conns[TUNNELS];
	char id[32];
	for (int i = 0; i < TUNNELS; i++) {
		snprintf(id, sizeof(id), "batch-%03d", i);
		cr_assert(fx_connect(&conns[i], id, FX_REMOVE_NOW));
	}
	cx_settle(); /* the announcements of the changes */
	cx_bus_clear();
	cluster_announce_all();
	cr_assert_eq(cx_bus.count, 3);
	int total = 0, seen[TUNNELS] = {0};
	for (size_t i = 0; i < cx_bus.count; i++) {
		struct cluster_message m;
		cx_sent(i, &m);
		cr_assert_str_eq(m.event, EVENT_ANNOUNCE);
		int n = cJSON_GetArraySize(m.message);
		cr_assert(n == 50 || (i == 2 && n == 20), "message %zu holds %d tunnels", i, n);
		const cJSON *item;
		cJSON_ArrayForEach(item, m.message)
		{
			int k = atoi(cJSON_GetObjectItem(item, "tunnel_id")->valuestring + 6);
			seen[k]++;
			total++;
		}
		cluster_message_free(&m);
	}
	cr_assert_eq(total, TUNNELS);
	for (int i = 0; i < TUNNELS; i++)
		cr_assert_eq(seen[i], 1, "tunnel %d announced %d times", i, seen[i]);
	for (int i = 0; i < TUNNELS; i++)
		tunnels_api.connection_remove(conns[i].handle);
}

Test(cluster_tunnels, a_change_is_announced_at_once_with_the_wire_fields)
{
	struct fx_conn a;
	cr_assert(fx_connect(&a, "quick", FX_REMOVE_NOW));
	cr_assert_eq(count_sent(0, EVENT_ANNOUNCE), 0, "announced before the loop ran");
	cx_settle();
	cr_assert_eq(count_sent(0, EVENT_ANNOUNCE), 1);
	struct cluster_message m;
	cx_sent(cx_bus.count - 1, &m);
	char *text = cJSON_PrintUnformatted(m.message);
	char expected[512];
	snprintf(expected, sizeof(expected),
	         "[{\"tunnel_id\":\"quick\",\"connections\":[{\"connection_id\":\"%s\",\"node\":\"%"
	         "s\","
	         "\"peer\":\"127.0.0.1\",\"connected\":true,\"connected_at\":",
	         tunnel_state_connection_id(a.handle), ids_node_id());
	cr_assert(strncmp(text, expected, strlen(expected)) == 0, "%s", text);
	free(text);
	cluster_message_free(&m);

	/* Two changes in one go: one announcement. */
	size_t before = cx_bus.count;
	struct fx_conn b;
	cr_assert(fx_connect(&b, "quick", FX_REMOVE_NOW));
	tunnels_api.connection_remove(a.handle);
	cx_settle();
	cr_assert_eq(count_sent(before, EVENT_ANNOUNCE), 1);
	cx_sent(cx_bus.count - 1, &m);
	const cJSON *conns = cJSON_GetObjectItem(find_tunnel(m.message, "quick"), "connections");
	cr_assert_eq(cJSON_GetArraySize(conns), 2, "the disconnected one is still announced");
	int disconnected = 0;
	const cJSON *c;
	cJSON_ArrayForEach(c, conns)
	{
		if (cJSON_IsFalse(cJSON_GetObjectItem(c, "connected"))) {
			disconnected++;
			cr_assert(cJSON_IsNumber(cJSON_GetObjectItem(c, "disconnected_at")));
		} else {
			cr_assert_null(cJSON_GetObjectItem(c, "disconnected_at"));
		}
	}
	cr_assert_eq(disconnected, 1);
	cluster_message_free(&m);
	tunnels_api.connection_remove(b.handle);
}

Test(cluster_tunnels, remote_connections_are_learned_and_replaced)
{
	char c1[256], c2[256], json[600];
	cx_conn_json(c1, sizeof(c1), cx_node_b, 1, true);
	cx_conn_json(c2, sizeof(c2), cx_node_b, 2, true);
	snprintf(json, sizeof(json), "[%s,%s]", c1, c2);
	cx_announce(cx_node_b, "far", json, 0);
	struct exposr_tunnel_state st;
	tunnels_api.state("far", &st);
	cr_assert(st.connected);
	cr_assert_eq(st.connections, 2);
	cr_assert_eq(st.connected_at, 1700000000000);

	/* The next announcement replaces what was known of that node. */
	snprintf(json, sizeof(json), "[%s]", c1);
	cx_announce(cx_node_b, "far", json, 1);
	tunnels_api.state("far", &st);
	cr_assert_eq(st.connections, 1);
	/* Another node's connections add up. */
	char c3[256];
	cx_conn_json(c3, sizeof(c3), cx_node_c, 3, true);
	snprintf(json, sizeof(json), "[%s]", c3);
	cx_announce(cx_node_c, "far", json, 0);
	tunnels_api.state("far", &st);
	cr_assert_eq(st.connections, 2);
	/* Disconnected on b: c's still counts. */
	cx_conn_json(c1, sizeof(c1), cx_node_b, 1, false);
	snprintf(json, sizeof(json), "[%s]", c1);
	cx_announce(cx_node_b, "far", json, 2);
	tunnels_api.state("far", &st);
	cr_assert(st.connected);
	cr_assert_eq(st.connections, 1);
	cx_announce(cx_node_c, "far", "[]", 1);
	tunnels_api.state("far", &st);
	cr_assert(!st.connected);
	cr_assert_eq(st.connections, 0);
	cr_assert_eq(st.disconnected_at, 1700000001000);

	/* A connection claimed for another node than the sender is not taken. */
	cx_conn_json(c3, sizeof(c3), cx_node_c, 4, true);
	snprintf(json, sizeof(json), "[%s]", c3);
	cx_announce(cx_node_b, "far", json, 3);
	tunnels_api.state("far", &st);
	cr_assert(!st.connected);
}

Test(cluster_tunnels, own_announcements_are_ignored)
{
	struct fx_conn a;
	cr_assert(fx_connect(&a, "mine", FX_REMOVE_NOW));
	cx_settle();
	/* The bus brings this node's announcement back: it must not count twice. */
	for (size_t i = 0; i < cx_bus.count; i++)
		cluster_deliver(cx_bus.sent[i], strlen(cx_bus.sent[i]));
	struct exposr_tunnel_state st;
	tunnels_api.state("mine", &st);
	cr_assert_eq(st.connections, 1);
	tunnels_api.connection_remove(a.handle);
}

Test(cluster_tunnels, remote_connections_age_out)
{
	char c1[256], json[300];
	cx_conn_json(c1, sizeof(c1), cx_node_b, 1, true);
	snprintf(json, sizeof(json), "[%s]", c1);
	int64_t t0 = cx_clock_ms;
	cx_announce(cx_node_b, "aging", json, 0);
	struct exposr_tunnel_state st;
	tunnel_state_sweep(t0 + TUNNEL_STATE_REMOTE_TIMEOUT_MS - 1);
	tunnels_api.state("aging", &st);
	cr_assert(st.connected, "gone before 15 s");
	/* Re-announced: the 15 s start again. */
	cx_clock_ms = t0 + 10000;
	cx_announce(cx_node_b, "aging", json, 1);
	tunnel_state_sweep(t0 + 10000 + TUNNEL_STATE_REMOTE_TIMEOUT_MS - 1);
	tunnels_api.state("aging", &st);
	cr_assert(st.connected);
	int64_t gone = t0 + 10000 + TUNNEL_STATE_REMOTE_TIMEOUT_MS;
	tunnel_state_sweep(gone);
	tunnels_api.state("aging", &st);
	cr_assert(!st.connected);
	cr_assert_eq(st.connections, 0);
	cr_assert_eq(st.disconnected_at, gone);
	/* Forgotten after a minute, the tunnel's entry after five. */
	tunnel_state_sweep(gone + TUNNEL_STATE_CONN_FORGET_MS + 1);
	cr_assert_eq(tunnel_state_count(), 1);
	tunnel_state_sweep(gone + TUNNEL_STATE_TUNNEL_FORGET_MS + 1);
	cr_assert_eq(tunnel_state_count(), 0);
}

Test(cluster_tunnels, max_connections_counts_remote_ones)
{
	char c1[256], c2[256], json[600];
	cx_conn_json(c1, sizeof(c1), cx_node_b, 1, true);
	cx_conn_json(c2, sizeof(c2), cx_node_c, 2, true);
	snprintf(json, sizeof(json), "[%s]", c1);
	cx_announce(cx_node_b, "capped", json, 0);
	struct fx_conn a, b;
	cr_assert(fx_connect(&a, "capped", FX_REMOVE_NOW), "1 remote + 1 local of 2");
	tunnels_api.connection_remove(a.handle);
	snprintf(json, sizeof(json), "[%s]", c2);
	cx_announce(cx_node_c, "capped", json, 0);
	cr_assert(!fx_connect(&b, "capped", FX_REMOVE_NOW), "2 remote of 2: refused");
	/* One of them goes: there is room again. */
	cx_announce(cx_node_c, "capped", "[]", 1);
	cr_assert(fx_connect(&b, "capped", FX_REMOVE_NOW));
	tunnels_api.connection_remove(b.handle);
}

Test(cluster_tunnels, a_disconnect_message_closes_local_connections)
{
	struct fx_conn a, other;
	cr_assert(fx_connect(&a, "dc-msg", FX_REMOVE_NOW));
	cr_assert(fx_connect(&other, "dc-other", FX_REMOVE_NOW));
	cx_deliver(cx_node_b, EVENT_DISCONNECT, "{\"tunnel_id\":\"dc-msg\"}", 0);
	cr_assert_eq(a.disconnects, 1);
	cr_assert_eq(a.reason, EXPOSR_DISCONNECT_REQUESTED);
	cr_assert_eq(other.disconnects, 0);
	struct exposr_tunnel_state st;
	tunnels_api.state("dc-msg", &st);
	cr_assert(!st.connected);
	tunnels_api.connection_remove(other.handle);
}

Test(cluster_tunnels, disconnect_publishes_and_own_message_keeps_the_reason)
{
	struct fx_conn a, b;
	cr_assert(fx_connect(&a, "dc-own", FX_STAY));
	struct fx_result r = {0};
	size_t before = cx_bus.count;
	tunnels_api.disconnect("dc-own", EXPOSR_DISCONNECT_REVOKED, fx_on_done, &r);
	cr_assert_eq(a.disconnects, 1);
	cr_assert_eq(a.reason, EXPOSR_DISCONNECT_REVOKED);
	cr_assert_eq(count_sent(before, EVENT_DISCONNECT), 1);
	struct cluster_message m;
	cx_sent(before, &m);
	cr_assert_str_eq(cJSON_GetObjectItem(m.message, "tunnel_id")->valuestring, "dc-own");
	cluster_message_free(&m);
	/* A connection that came meanwhile is closed when the message comes back; the
	 * one closing already is not asked again. */
	tunnels_api.connection_remove(a.handle);
	cr_assert(fx_connect(&b, "dc-own", FX_STAY));
	cluster_deliver(cx_bus.sent[before], strlen(cx_bus.sent[before]));
	cr_assert_eq(a.disconnects, 1);
	cr_assert_eq(b.disconnects, 1);
	cr_assert_eq(b.reason, EXPOSR_DISCONNECT_REQUESTED);
	tunnels_api.connection_remove(b.handle);
	fx_wait(&r.done);
}

Test(cluster_tunnels, disconnect_waits_for_the_remote_node_to_announce)
{
	char c1[256], json[300];
	cx_conn_json(c1, sizeof(c1), cx_node_b, 1, true);
	snprintf(json, sizeof(json), "[%s]", c1);
	cx_announce(cx_node_b, "dc-far", json, 0);
	struct fx_result r = {0};
	tunnels_api.disconnect("dc-far", EXPOSR_DISCONNECT_REQUESTED, fx_on_done, &r);
	cr_assert(!r.done, "answered before node b said anything");
	/* Node b closes it and says so. */
	cx_conn_json(c1, sizeof(c1), cx_node_b, 1, false);
	snprintf(json, sizeof(json), "[%s]", c1);
	cx_announce(cx_node_b, "dc-far", json, 1);
	cr_assert(r.done);
	cr_assert_eq(r.status, EXPOSR_OK);

	/* A node that never answers: false after 500 ms per connection. */
	cx_conn_json(c1, sizeof(c1), cx_node_b, 2, true);
	snprintf(json, sizeof(json), "[%s]", c1);
	cx_announce(cx_node_b, "dc-far", json, 2);
	r = (struct fx_result){0};
	int64_t t0 = ids_now_ms();
	tunnels_api.disconnect("dc-far", EXPOSR_DISCONNECT_REQUESTED, fx_on_done, &r);
	fx_wait(&r.done);
	cr_assert_eq(r.status, EXPOSR_ERROR);
	cr_assert_geq(ids_now_ms() - t0, TUNNEL_STATE_DISCONNECT_WAIT_MS - 10);
}

Test(cluster_tunnels, a_waiting_disconnect_is_answered_by_ageing_too)
{
	char c1[256], json[300];
	cx_conn_json(c1, sizeof(c1), cx_node_b, 1, true);
	snprintf(json, sizeof(json), "[%s]", c1);
	cx_announce(cx_node_b, "dc-aged", json, 0);
	struct fx_result r = {0};
	tunnels_api.disconnect("dc-aged", EXPOSR_DISCONNECT_REQUESTED, fx_on_done, &r);
	cr_assert(!r.done);
	tunnel_state_sweep(cx_clock_ms + TUNNEL_STATE_REMOTE_TIMEOUT_MS);
	cr_assert(r.done);
	cr_assert_eq(r.status, EXPOSR_OK);
}

static void fx_on_stream(void *arg, int status, struct exposr_stream *stream)
{
	(void)stream;
	struct fx_result *r = arg;
	r->done = true;
	r->status = status;
}

Test(cluster_tunnels, the_route_prefers_local_then_fresh_remote_nodes)
{
	struct exposr_tunnel_route route;
	cr_assert_eq(tunnels_api.route("nowhere", &route), EXPOSR_NOT_FOUND);
	char c1[256], c2[256], json[600];
	cx_conn_json(c1, sizeof(c1), cx_node_b, 1, true);
	cx_conn_json(c2, sizeof(c2), cx_node_c, 2, true);
	snprintf(json, sizeof(json), "[%s]", c1);
	cx_announce(cx_node_b, "routed", json, 0);
	cx_deliver(cx_node_b, EVENT_HEARTBEAT, "{}", 1);
	cr_assert_eq(tunnels_api.route("routed", &route), EXPOSR_OK);
	cr_assert(!route.local);
	cr_assert_str_eq(route.node_id, cx_node_b);
	cr_assert_str_eq(route.ip, "192.0.2.7");
	/* No local channel to open: the caller is sent to route(). */
	struct fx_result opened = {0};
	cr_assert_null(tunnels_api.open_stream("routed", fx_on_stream, &opened));
	cr_assert(opened.done);
	cr_assert_eq(opened.status, EXPOSR_DECLINED);

	/* Two nodes: round-robin. */
	snprintf(json, sizeof(json), "[%s]", c2);
	cx_announce(cx_node_c, "routed", json, 0);
	cr_assert_eq(tunnels_api.route("routed", &route), EXPOSR_OK);
	char first[EXPOSR_NODE_ID_LEN + 1];
	strcpy(first, route.node_id);
	cr_assert_eq(tunnels_api.route("routed", &route), EXPOSR_OK);
	cr_assert_str_neq(route.node_id, first);

	/* A stale node is skipped; with only stale ones there is no way. */
	cx_clock_ms += 20000;
	cx_deliver(cx_node_c, EVENT_HEARTBEAT, "{}", 1);
	snprintf(json, sizeof(json), "[%s]", c1);
	cx_announce(cx_node_b, "routed", json, 2);
	cx_clock_ms += 15000; /* b: 35 s, c: 15 s */
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(tunnels_api.route("routed", &route), EXPOSR_OK);
		cr_assert_str_eq(route.node_id, cx_node_c);
	}
	cx_clock_ms += 20000;
	cr_assert_eq(tunnels_api.route("routed", &route), EXPOSR_ERROR);

	/* Local wins over everything. */
	struct fx_conn a;
	cr_assert(fx_connect(&a, "routed", FX_REMOVE_NOW) == false, "2 alive remote of 2");
	cx_announce(cx_node_c, "routed", "[]", 2);
	cr_assert(fx_connect(&a, "routed", FX_REMOVE_NOW));
	cr_assert_eq(tunnels_api.route("routed", &route), EXPOSR_OK);
	cr_assert(route.local);
	tunnels_api.connection_remove(a.handle);
}

Test(cluster_tunnels_alone, a_single_node_disconnect_goes_through_its_own_message)
{
	struct fx_conn a;
	cr_assert(fx_connect(&a, "alone", FX_STAY));
	struct fx_result r = {0};
	tunnels_api.disconnect("alone", EXPOSR_DISCONNECT_REQUESTED, fx_on_done, &r);
	cr_assert_eq(a.disconnects, 1);
	tunnels_api.connection_remove(a.handle);
	cr_assert(r.done);
	cr_assert_eq(r.status, EXPOSR_OK);
	/* The message comes back through the local delivery: nothing left to close. */
	struct fx_conn b;
	cr_assert(fx_connect(&b, "alone", FX_STAY));
	cx_settle();
	cr_assert_eq(b.disconnects, 1, "the connection that came meanwhile was not closed");
	tunnels_api.connection_remove(b.handle);
}

Test(cluster_tunnels, an_announced_time_out_of_range_is_not_learned)
{
	static const char *const bad[] = {"1e300", "-1", "-9223372036854775808", "1.5", "\"x\""};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char json[512];
		snprintf(json, sizeof(json),
		         "[{\"connection_id\":\"%s:00000000-0000-4000-8000-000000000001\","
		         "\"node\":\"%s\",\"connected\":true,\"connected_at\":%s}]",
		         cx_node_b, cx_node_b, bad[i]);
		cx_announce(cx_node_b, "far", json, (int64_t)i);
		struct exposr_tunnel_state st;
		tunnels_api.state("far", &st);
		cr_assert(!st.connected, "connected_at %s was learned", bad[i]);
	}
	char good[256], json[600];
	cx_conn_json(good, sizeof(good), cx_node_b, 1, true);
	snprintf(json, sizeof(json), "[%s]", good);
	cx_announce(cx_node_b, "far", json, 10);
	struct exposr_tunnel_state st;
	tunnels_api.state("far", &st);
	cr_assert(st.connected);
}

struct fx_reach {
	bool done;
	int status;
	struct exposr_stream *stream;
	bool remote;
};

static void fx_on_reach(void *arg, int status, struct exposr_stream *stream, bool remote)
{
	struct fx_reach *r = arg;
	r->done = true;
	r->status = status;
	r->stream = stream;
	r->remote = remote;
}

Test(cluster_tunnels, reach_says_which_case_failed)
{
	const struct exposr_reach_options opts = {.port = 9};
	struct fx_reach r = {0};
	cr_assert_null(tunnels_api.reach("nowhere", &opts, fx_on_reach, &r));
	cr_assert(r.done);
	cr_assert_eq(r.status, EXPOSR_NOT_FOUND, "connected nowhere");

	/* Held only by a node that went stale. */
	char c1[256], json[300];
	cx_conn_json(c1, sizeof(c1), cx_node_b, 1, true);
	snprintf(json, sizeof(json), "[%s]", c1);
	cx_announce(cx_node_b, "far", json, 0);
	cx_deliver(cx_node_b, EVENT_HEARTBEAT, "{}", 1);
	cx_clock_ms += 40000;
	r = (struct fx_reach){0};
	cr_assert_null(tunnels_api.reach("far", &opts, fx_on_reach, &r));
	cr_assert(r.done);
	cr_assert_eq(r.status, EXPOSR_UNREACHABLE);
	cr_assert_null(r.stream);
}

Test(cluster_tunnels, reach_opens_a_local_channel_and_can_be_cancelled)
{
	const struct exposr_reach_options opts = {.port = 9};
	struct fx_conn a;
	cr_assert(fx_connect(&a, "near", FX_REMOVE_NOW));
	struct fx_reach r = {0};
	cr_assert_null(tunnels_api.reach("near", &opts, fx_on_reach, &r), "answered at once");
	cr_assert(r.done);
	cr_assert_eq(r.status, EXPOSR_OK);
	cr_assert_eq(r.stream, (struct exposr_stream *)&fx_stream_marker);
	cr_assert(!r.remote);

	/* An open the transport answers later is cancelled through the token. */
	a.async_open = true;
	r = (struct fx_reach){0};
	void *token = tunnels_api.reach("near", &opts, fx_on_reach, &r);
	cr_assert_not_null(token);
	cr_assert(!r.done);
	tunnels_api.cancel_reach(token);
	cr_assert_eq(a.cancels, 1);
	cr_assert(!r.done, "a cancelled reach does not call back");
	tunnels_api.connection_remove(a.handle);
}

/* The origin the transports of the next test were given, "" when none. */
static char fx_origin_ip[64];
static int fx_origin_port;

static void *fx_conn_open_from(void *conn, const struct exposr_origin *origin, exposr_channel_cb cb,
                               void *arg)
{
	snprintf(fx_origin_ip, sizeof(fx_origin_ip), "%s", origin->ip);
	fx_origin_port = origin->port;
	return fx_conn_open(conn, cb, arg);
}

static const struct exposr_transport_conn_vtable fx_from_vt = {
        .size = sizeof(struct exposr_transport_conn_vtable),
        .open_channel = fx_conn_open,
        .cancel_open = fx_conn_cancel,
        .disconnect = fx_conn_disconnect,
        .open_channel_from = fx_conn_open_from,
};

/* An ABI 1.2 transport: its vtable ends before the slot, whatever lies beyond. */
static const struct exposr_transport_conn_vtable fx_old_vt = {
        .size = offsetof(struct exposr_transport_conn_vtable, open_channel_from),
        .open_channel = fx_conn_open,
        .cancel_open = fx_conn_cancel,
        .disconnect = fx_conn_disconnect,
        .open_channel_from = fx_conn_open_from,
};

static void reach_from_ok(const char *tunnel_id, const struct exposr_origin *origin)
{
	const struct exposr_reach_options opts = {.port = 9};
	struct fx_reach r = {0};
	fx_origin_ip[0] = '\0';
	fx_origin_port = 0;
	cr_assert_null(tunnels_api.reach_from(tunnel_id, &opts, origin, fx_on_reach, &r));
	cr_assert(r.done);
	cr_assert_eq(r.status, EXPOSR_OK);
	cr_assert_eq(r.stream, (struct exposr_stream *)&fx_stream_marker);
}

Test(cluster_tunnels, reach_from_names_the_origin_to_a_transport_that_takes_it)
{
	const struct exposr_origin origin = {.ip = "192.0.2.7", .port = 40123};
	struct fx_conn a = {.mode = FX_REMOVE_NOW}, b = {.mode = FX_REMOVE_NOW};
	a.handle = tunnels_api.connection_add("from", "127.0.0.1", &fx_from_vt, &a);
	cr_assert_not_null(a.handle);
	reach_from_ok("from", &origin);
	cr_assert_str_eq(fx_origin_ip, "192.0.2.7");
	cr_assert_eq(fx_origin_port, 40123);
	/* No origin known: the plain open. */
	reach_from_ok("from", NULL);
	cr_assert_str_eq(fx_origin_ip, "");
	cr_assert_eq(a.opens, 2);
	tunnels_api.connection_remove(a.handle);

	b.handle = tunnels_api.connection_add("old", "127.0.0.1", &fx_old_vt, &b);
	cr_assert_not_null(b.handle);
	reach_from_ok("old", &origin);
	cr_assert_str_eq(fx_origin_ip, "", "a slot beyond the vtable's size is never called");
	cr_assert_eq(b.opens, 1);
	tunnels_api.connection_remove(b.handle);
}
