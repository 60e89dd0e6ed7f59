/* Test fixture for the cluster service: the services fixture, a fake event bus that keeps
 * what is published, a clock the test sets, and messages from made-up nodes. */
#ifndef EXPOSR_TEST_CLUSTER_FIXTURE_H
#define EXPOSR_TEST_CLUSTER_FIXTURE_H

#include "cluster.h"
#include "cluster_announce.h"
#include "cluster_nodes.h"
#include "cluster_tunnels.h"
#include "services_fixture.h"

#define CX_KEY      "secret-signing-key"
#define CX_MAX_SENT 64

static const char cx_node_b[] = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
static const char cx_node_c[] = "cccccccccccccccccccccccccccccccccccccccc";

/* ---- the fake bus ---- */

static struct {
	char *sent[CX_MAX_SENT];
	size_t count;
	bool down;
} cx_bus;

static inline int cx_publish(void *self, const char *text, size_t len)
{
	(void)self;
	if (cx_bus.down)
		return EXPOSR_ERROR;
	cr_assert_lt(cx_bus.count, CX_MAX_SENT, "too many messages published");
	cx_bus.sent[cx_bus.count] = strndup(text, len);
	cr_assert_not_null(cx_bus.sent[cx_bus.count]);
	cx_bus.count++;
	return EXPOSR_OK;
}

static const struct exposr_eventbus_vtable cx_bus_vt = {
        .size = sizeof(struct exposr_eventbus_vtable),
        .publish = cx_publish,
};

static inline void cx_bus_clear(void)
{
	for (size_t i = 0; i < cx_bus.count; i++)
		free(cx_bus.sent[i]);
	cx_bus.count = 0;
}

/* The i-th published message, checked with the key; the caller frees it. */
static inline void cx_sent(size_t i, struct cluster_message *m)
{
	cr_assert_lt(i, cx_bus.count, "only %zu messages were published", cx_bus.count);
	const char *why = NULL;
	cr_assert_eq(
	        cluster_message_decode(CX_KEY, cx_bus.sent[i], strlen(cx_bus.sent[i]), m, &why),
	        EXPOSR_OK, "message %zu: %s", i, why);
}

/* ---- the clock ---- */

static int64_t cx_clock_ms;

static inline int64_t cx_now(void)
{
	return cx_clock_ms;
}

/* ---- setup ---- */

static inline void cx_setup(bool with_bus)
{
	fx_setup(false);
	if (with_bus)
		cr_assert_eq(registry_add(NULL, EXPOSR_KIND_EVENTBUS, "fake", &cx_bus_vt, NULL),
		             EXPOSR_OK);
	cx_clock_ms = ids_now_ms();
	cluster_set_clock(cx_now);
	cr_assert_eq(cluster_configure(fx_root), EXPOSR_OK);
	cr_assert_eq(cluster_start(), EXPOSR_OK);
}

static inline void cx_setup_bus(void)
{
	cx_setup(true);
}

static inline void cx_setup_alone(void)
{
	cx_setup(false);
}

static inline void cx_teardown(void)
{
	cluster_free();
	cluster_set_clock(NULL);
	cx_bus_clear();
	fx_teardown();
}

/* Runs the loop until what is due now (zero-delay timers) has run. */
static inline void cx_settle(void)
{
	for (int i = 0; i < 5; i++)
		event_base_loop(fx_base, EVLOOP_NONBLOCK);
}

/* ---- messages from other nodes ---- */

static inline char *cx_message(const char *node_id, const char *event, const char *json, int64_t ts,
                               int64_t seq)
{
	cJSON *message = cJSON_Parse(json);
	cr_assert_not_null(message, "bad test JSON %s", json);
	char host[64];
	snprintf(host, sizeof(host), "4242@%.8s", node_id);
	struct cluster_sender from = {.id = node_id, .host = host, .ip = "192.0.2.7"};
	char *text = cluster_message_encode(CX_KEY, &from, event, message, ts, seq);
	cr_assert_not_null(text);
	cJSON_Delete(message);
	return text;
}

static inline void cx_deliver(const char *node_id, const char *event, const char *json, int64_t seq)
{
	char *text = cx_message(node_id, event, json, cx_clock_ms, seq);
	cluster_deliver(text, strlen(text));
	free(text);
}

/* An announcement of one tunnel's connections on `node_id`: `conns` is the JSON array. */
static inline void cx_announce(const char *node_id, const char *tunnel_id, const char *conns,
                               int64_t seq)
{
	char json[2048];
	snprintf(json, sizeof(json), "[{\"tunnel_id\":\"%s\",\"connections\":%s}]", tunnel_id,
	         conns);
	cx_deliver(node_id, EVENT_ANNOUNCE, json, seq);
}

/* One connected connection of `node_id` as an announcement lists it. */
static inline void cx_conn_json(char *out, size_t size, const char *node_id, int n, bool connected)
{
	snprintf(out, size,
	         "{\"connection_id\":\"%s:00000000-0000-4000-8000-%012d\",\"node\":\"%s\","
	         "\"peer\":\"192.0.2.10\",\"connected\":%s,\"connected_at\":1700000000000%s}",
	         node_id, n, node_id, connected ? "true" : "false",
	         connected ? "" : ",\"disconnected_at\":1700000001000");
}

#endif
