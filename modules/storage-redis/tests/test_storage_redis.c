/* storage-redis as exposrd loads it (the core's loader and host table) against a real
 * redis-server each test starts on loopback: the storage contract, exposrd 0.12's keys,
 * AUTH/SELECT, start failures, Redis lost and back, callbacks at fini, the lock. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <event2/event.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cfg.h"
#include "host_table.h"
#include "loader.h"
#include "module_load.h"
#include "redis_server.h"
#include "registry_table.h"
#include "storage_contract.h"

static struct event_base *base;
static const struct exposr_host *host;
static struct exposr_cfg *root;
static struct redis_server server;
static struct storage_ut s;

static void setup(void)
{
	base = event_base_new();
	cr_assert_not_null(base);
	host = host_table(base);
	memset(&server, 0, sizeof(server));
	memset(&s, 0, sizeof(s));
	root = NULL;
}

static void teardown(void)
{
	loader_fini_all();
	cfg_free(root);
	root = NULL;
	event_base_free(base);
	redis_server_cleanup(&server);
}

TestSuite(storage_redis, .init = setup, .fini = teardown, .timeout = 60);

/* Loads and starts the module with `settings` (YAML lines under storage-redis:); returns
 * what it printed. *rc is the first failing step's status. */
static char *load(const char *settings, int *rc)
{
	char *printed =
	        module_load(host, "storage-redis", STORAGE_REDIS_MODULE, settings, &root, rc);
	if (*rc == EXPOSR_OK) {
		const struct exposr_registry_entry *e = registry_find(EXPOSR_KIND_STORAGE, "redis");
		cr_assert_not_null(e);
		s.vt = e->vtable;
		s.self = e->instance;
		s.base = base;
		s.pages_bounded = false;
	}
	return printed;
}

/* Starts a server and the module on it; `extra` are more settings lines, or "". */
static void start_with(bool appendonly, const char *extra)
{
	cr_assert_eq(redis_server_start(&server, appendonly, NULL), 0,
	             "redis-server did not start");
	char settings[256];
	snprintf(settings, sizeof(settings), "    url: redis://127.0.0.1:%d\n%s", server.port,
	         extra);
	int rc;
	char *printed = load(settings, &rc);
	cr_assert_eq(rc, EXPOSR_OK, "%s", printed);
	free(printed);
	cr_assert_eq(s.vt->size, sizeof(struct exposr_storage_vtable));
}

static void start_with_server(bool appendonly)
{
	start_with(appendonly, "");
}

/* A plain client on the test's server, to look at what the module wrote. */
static redisContext *peek(int db)
{
	struct timeval tv = {.tv_sec = 2, .tv_usec = 0};
	redisContext *c = redisConnectWithTimeout("127.0.0.1", server.port, tv);
	cr_assert(c != NULL && c->err == 0);
	cr_assert_eq(redisSetTimeout(c, tv), REDIS_OK);
	if (server.password != NULL) {
		redisReply *r = redisCommand(c, "AUTH %s", server.password);
		cr_assert(r != NULL && r->type == REDIS_REPLY_STATUS);
		freeReplyObject(r);
	}
	if (db != 0) {
		redisReply *r = redisCommand(c, "SELECT %d", db);
		cr_assert(r != NULL && r->type == REDIS_REPLY_STATUS);
		freeReplyObject(r);
	}
	return c;
}

static long long peek_integer(redisContext *c, const char *command, const char *key)
{
	redisReply *r = redisCommand(c, "%s %s", command, key);
	cr_assert(r != NULL && r->type == REDIS_REPLY_INTEGER, "%s %s", command, key);
	long long v = r->integer;
	freeReplyObject(r);
	return v;
}

/* The value at `key`, or NULL; caller frees. */
static char *peek_string(redisContext *c, const char *key)
{
	redisReply *r = redisCommand(c, "GET %s", key);
	cr_assert_not_null(r);
	char *v = r->type == REDIS_REPLY_STRING ? strndup(r->str, r->len) : NULL;
	freeReplyObject(r);
	return v;
}

static long long monotonic_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static size_t count_of(const char *text, const char *needle)
{
	size_t n = 0;
	for (const char *p = strstr(text, needle); p != NULL; p = strstr(p + 1, needle))
		n++;
	return n;
}

Test(storage_redis, get_set_if_absent_delete)
{
	start_with_server(false);
	st_contract_basics(&s);
}

Test(storage_redis, ttl_with_px)
{
	start_with_server(false);
	st_contract_ttl(&s);
	redisContext *c = peek(0);
	cr_assert_eq(st_set(&s, "session", "ttl", "{}", 0, 5000), EXPOSR_OK);
	long long pttl = peek_integer(c, "PTTL", "session:ttl");
	cr_assert(pttl > 4000 && pttl <= 5000, "PTTL %lld", pttl);
	redisFree(c);
}

Test(storage_redis, scan_lists_every_key_once)
{
	start_with_server(false);
	st_contract_listing(&s);
}

Test(storage_redis, namespaces_are_separate)
{
	start_with_server(false);
	st_contract_namespaces(&s);
}

Test(storage_redis, values_are_byte_exact)
{
	start_with_server(false);
	st_contract_bytes(&s);
}

/* docs/compatibility.md §12 item 67: the keys exposrd 0.12 reads, as plain strings without TTL. */
Test(storage_redis, keys_are_those_of_exposrd)
{
	start_with_server(false);
	static const char account[] =
	        "{\"accountId\":\"MNF4P6Y6M2MRRVCT\",\"id\":\"MNF4P6Y6M2MRRVCT\","
	        "\"created_at\":\"2024-02-01T10:00:00.000Z\",\"updated_at\":\"2024-02-10T12:00:00."
	        "000Z\","
	        "\"tunnels\":[\"my-tunnel\"],\"status\":{\"disabled\":false}}";
	static const char tunnel[] = "{\"id\":\"my-tunnel\",\"account\":\"MNF4P6Y6M2MRRVCT\"}";
	static const char altname[] =
	        "{\"tunnelId\":\"my-tunnel\",\"created_at\":\"2024-02-10T12:34:56.789Z\"}";
	cr_assert_eq(
	        st_set(&s, "account", "MNF4P6Y6M2MRRVCT", account, EXPOSR_STORAGE_IF_ABSENT, 0),
	        EXPOSR_OK);
	cr_assert_eq(st_set(&s, "tunnel", "my-tunnel", tunnel, EXPOSR_STORAGE_IF_ABSENT, 0),
	             EXPOSR_OK);
	cr_assert_eq(st_set(&s, "ingress-altnames", "http-example.net", altname,
	                    EXPOSR_STORAGE_IF_ABSENT, 0),
	             EXPOSR_OK);
	redisContext *c = peek(0);
	redisReply *keys = redisCommand(c, "KEYS *");
	cr_assert(keys != NULL && keys->type == REDIS_REPLY_ARRAY);
	cr_assert_eq(keys->elements, 3);
	freeReplyObject(keys);
	const char *const names[] = {"account:MNF4P6Y6M2MRRVCT", "tunnel:my-tunnel",
	                             "ingress-altnames:http-example.net"};
	const char *const values[] = {account, tunnel, altname};
	for (int i = 0; i < 3; i++) {
		redisReply *type = redisCommand(c, "TYPE %s", names[i]);
		cr_assert(type != NULL && type->type == REDIS_REPLY_STATUS);
		cr_assert_str_eq(type->str, "string");
		freeReplyObject(type);
		cr_assert_eq(peek_integer(c, "TTL", names[i]), -1, "%s has a TTL", names[i]);
		char *v = peek_string(c, names[i]);
		cr_assert_str_eq(v, values[i]);
		free(v);
	}
	/* And what exposrd wrote, this module reads. */
	redisReply *w = redisCommand(c, "SET tunnel:from-node {\"id\":\"from-node\"}");
	cr_assert_not_null(w);
	freeReplyObject(w);
	char *v = st_value(&s, "tunnel", "from-node");
	cr_assert_str_eq(v, "{\"id\":\"from-node\"}");
	free(v);
	redisFree(c);
}

Test(storage_redis, auth_and_select_from_the_url)
{
	cr_assert_eq(redis_server_start(&server, false, "s3cr@t:x"), 0);
	char settings[160];
	snprintf(settings, sizeof(settings),
	         "    url: redis://:s3cr%%40t%%3Ax@127.0.0.1:%d/3\n    connect-timeout: 2\n",
	         server.port);
	int rc;
	char *printed = load(settings, &rc);
	cr_assert_eq(rc, EXPOSR_OK, "%s", printed);
	free(printed);
	cr_assert_eq(st_set(&s, "account", "A", "{}", 0, 0), EXPOSR_OK);
	redisContext *c = peek(3);
	cr_assert_eq(peek_integer(c, "EXISTS", "account:A"), 1);
	redisFree(c);
	c = peek(0);
	cr_assert_eq(peek_integer(c, "EXISTS", "account:A"), 0);
	redisFree(c);
}

Test(storage_redis, wrong_password_fails_the_start)
{
	cr_assert_eq(redis_server_start(&server, false, "right"), 0);
	char settings[128];
	snprintf(settings, sizeof(settings), "    url: redis://:wrong@127.0.0.1:%d\n", server.port);
	int rc;
	char *printed = load(settings, &rc);
	cr_assert_eq(rc, EXPOSR_ERROR);
	char expected[96];
	snprintf(expected, sizeof(expected), "cannot connect to redis://127.0.0.1:%d: AUTH refused",
	         server.port);
	cr_assert(strstr(printed, expected) != NULL, "%s", printed);
	cr_assert_null(strstr(printed, "wrong"), "the password must not be logged: %s", printed);
	free(printed);
}

Test(storage_redis, unreachable_redis_fails_the_start)
{
	int port = redis_free_port();
	char settings[128];
	snprintf(settings, sizeof(settings), "    url: redis://127.0.0.1:%d\n", port);
	int rc;
	char *printed = load(settings, &rc);
	cr_assert_eq(rc, EXPOSR_ERROR);
	char expected[96];
	snprintf(expected, sizeof(expected),
	         "[storage-redis] cannot connect to redis://127.0.0.1:%d: Connection refused",
	         port);
	cr_assert(strstr(printed, expected) != NULL, "%s", printed);
	free(printed);
}

/* A peer that accepts but never answers: the start gives up after connect-timeout. */
Test(storage_redis, silent_redis_fails_the_start_in_time)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	cr_assert(fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	          listen(fd, 4) == 0 && getsockname(fd, (struct sockaddr *)&a, &len) == 0);
	char settings[128];
	snprintf(settings, sizeof(settings),
	         "    url: redis://127.0.0.1:%d\n    connect-timeout: 1\n", ntohs(a.sin_port));
	long long started = monotonic_ms();
	int rc;
	char *printed = load(settings, &rc);
	long long took = monotonic_ms() - started;
	close(fd);
	cr_assert_eq(rc, EXPOSR_ERROR);
	cr_assert(took >= 900 && took < 4000, "took %lld ms", took);
	cr_assert(strstr(printed, "cannot connect to redis://127.0.0.1:") != NULL, "%s", printed);
	free(printed);
}

Test(storage_redis, bad_settings_fail_the_init)
{
	static const char *const cases[][2] = {
	        {"    url: rediss://127.0.0.1\n", "TLS (rediss://) is not supported"},
	        {"    url: redis://127.0.0.1:http\n", "is not a port number"},
	        {"    url: redis://127.0.0.1/x\n", "is not a database number"},
	        {"    connect-timeout: 2\n", "modules.storage-redis.url: is required"},
	        {"    url: redis://h\n    colour: blue\n",
	         "modules.storage-redis.colour: unknown key"},
	};
	expect_settings_refused(load, cases, sizeof(cases) / sizeof(cases[0]));
}

struct tally {
	int calls[16];
	int status[16];
};

static void tally_get(void *arg, int status, const char *value, size_t len)
{
	(void)value;
	(void)len;
	int *slot = arg;
	slot[0]++;
	slot[1] = status;
}

static void tally_done(void *arg, int status)
{
	int *slot = arg;
	slot[0]++;
	slot[1] = status;
}

static void tally_list(void *arg, int status, const char *const *keys, size_t count,
                       const char *next)
{
	(void)keys;
	(void)count;
	(void)next;
	int *slot = arg;
	slot[0]++;
	slot[1] = status;
}

static void tally_lock(void *arg, int status, void *lock)
{
	int *slot = arg;
	slot[0]++;
	slot[1] = status;
	cr_assert_null(lock);
}

/* Issues one call of each kind; slots[i] = {calls, status}. */
static void issue_calls(int slots[][2], size_t n)
{
	for (size_t i = 0; i < n; i++) {
		slots[i][0] = 0;
		slots[i][1] = 1;
		switch (i % 4) {
		case 0:
			s.vt->get(s.self, "tunnel", "a", tally_get, slots[i]);
			break;
		case 1:
			s.vt->set(s.self, "tunnel", "b", "{}", 2, 0, 0, tally_done, slots[i]);
			break;
		case 2:
			s.vt->del(s.self, "tunnel", "c", tally_done, slots[i]);
			break;
		default:
			s.vt->list(s.self, "tunnel", NULL, 10, tally_list, slots[i]);
			break;
		}
	}
}

static bool all_called(int slots[][2], size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (slots[i][0] == 0)
			return false;
	return true;
}

static void expect_all_failed_once(int slots[][2], size_t n)
{
	for (size_t i = 0; i < n; i++) {
		cr_assert_eq(slots[i][0], 1, "call %zu: %d callbacks", i, slots[i][0]);
		cr_assert_eq(slots[i][1], EXPOSR_ERROR, "call %zu: status %d", i, slots[i][1]);
	}
}

/* Redis killed under calls in flight, calls while it is away, then back with its data. */
Test(storage_redis, redis_lost_and_back)
{
	start_with_server(true);
	cr_assert_eq(st_set(&s, "tunnel", "kept", "{\"kept\":true}", 0, 0), EXPOSR_OK);
	FILE *tmp;
	int saved = capture_begin(&tmp);

	/* In flight: sent to a Redis that no longer answers, then dies. */
	cr_assert_eq(kill(server.pid, SIGSTOP), 0);
	enum { N = 12 };
	int slots[N][2];
	issue_calls(slots, N);
	st_sleep(base, 200);
	for (size_t i = 0; i < N; i++)
		cr_assert_eq(slots[i][0], 0, "call %zu answered by a stopped server", i);
	redis_server_kill(&server);
	long long lost_at = monotonic_ms();
	for (int i = 0; i < 100 && !all_called(slots, N); i++)
		st_sleep(base, 20);
	cr_assert(monotonic_ms() - lost_at < 1500, "in-flight calls failed late");
	expect_all_failed_once(slots, N);

	/* While away: every call fails at once, whatever the back-off is doing. */
	for (int round = 0; round < 5; round++) {
		int more[4][2];
		long long t0 = monotonic_ms();
		issue_calls(more, 4);
		for (int i = 0; i < 50 && !all_called(more, 4); i++)
			st_sleep(base, 10);
		cr_assert(monotonic_ms() - t0 < 200, "a call during the outage took too long");
		expect_all_failed_once(more, 4);
		st_sleep(base, 150);
	}

	/* Back: the module reconnects by itself and the data is there. */
	cr_assert_eq(redis_server_restart(&server), 0);
	long long back_at = monotonic_ms();
	struct st_result r = {0};
	while (monotonic_ms() - back_at < 10000) {
		if (st_get(&s, "tunnel", "kept", &r) == EXPOSR_OK)
			break;
		st_sleep(base, 50);
	}
	char *printed = capture_end(tmp, saved);
	cr_assert_eq(r.status, EXPOSR_OK, "no reconnect within 10 s: %s", printed);
	cr_assert_str_eq(r.value, "{\"kept\":true}");
	st_result_free(&r);
	cr_assert_eq(st_set(&s, "tunnel", "after", "{}", 0, 0), EXPOSR_OK);
	cr_assert_eq(count_of(printed, "lost connection to redis://127.0.0.1:"), 1, "%s", printed);
	cr_assert_eq(count_of(printed, "restored"), 1, "%s", printed);
	free(printed);
	/* In-flight callbacks never ran twice, not even later. */
	st_sleep(base, 100);
	expect_all_failed_once(slots, N);
}

/* A Redis that stops answering without closing: calls fail after command-timeout, and
 * it is used again once it answers. */
Test(storage_redis, silent_redis_counts_as_lost)
{
	start_with(false, "    command-timeout: 1\n    connect-timeout: 1\n");
	cr_assert_eq(st_set(&s, "tunnel", "kept", "{}", 0, 0), EXPOSR_OK);
	FILE *tmp;
	int saved = capture_begin(&tmp);
	cr_assert_eq(kill(server.pid, SIGSTOP), 0);
	enum { N = 8 };
	int slots[N][2];
	long long t0 = monotonic_ms();
	issue_calls(slots, N);
	for (int i = 0; i < 400 && !all_called(slots, N); i++)
		st_sleep(base, 10);
	long long took = monotonic_ms() - t0;
	expect_all_failed_once(slots, N);
	cr_assert(took >= 900 && took < 3500, "failed after %lld ms", took);
	struct st_result r = {0};
	cr_assert_eq(st_get(&s, "tunnel", "kept", &r), EXPOSR_ERROR);

	cr_assert_eq(kill(server.pid, SIGCONT), 0);
	long long back_at = monotonic_ms();
	while (monotonic_ms() - back_at < 10000) {
		if (st_get(&s, "tunnel", "kept", &r) == EXPOSR_OK)
			break;
		st_sleep(base, 50);
	}
	char *printed = capture_end(tmp, saved);
	cr_assert_eq(r.status, EXPOSR_OK, "not back within 10 s: %s", printed);
	st_result_free(&r);
	cr_assert(strstr(printed, "no reply for 1 s; reconnecting") != NULL, "%s", printed);
	cr_assert_eq(count_of(printed, "restored"), 1, "%s", printed);
	free(printed);
}

/* At fini every pending callback runs once with EXPOSR_ERROR, before the module is gone. */
Test(storage_redis, fini_fails_pending_calls_once)
{
	start_with_server(false);
	redisContext *c = peek(0);
	redisReply *taken = redisCommand(c, "SET lock:busy someone-else PX 60000");
	cr_assert_not_null(taken);
	freeReplyObject(taken);
	redisFree(c);
	int lock_slot[2] = {0, 1};
	s.vt->lock(s.self, "busy", tally_lock, lock_slot);
	st_sleep(base, 300); /* now waiting for its next try */
	enum { N = 16 };
	int slots[N][2];
	issue_calls(slots, N);
	loader_fini_all();
	expect_all_failed_once(slots, N);
	cr_assert_eq(lock_slot[0], 1);
	cr_assert_eq(lock_slot[1], EXPOSR_ERROR);
	st_sleep(base, 100);
	expect_all_failed_once(slots, N);
	cr_assert_eq(lock_slot[0], 1);
}

struct lock_result {
	int calls;
	int status;
	void *lock;
};

static void on_lock(void *arg, int status, void *lock)
{
	struct lock_result *l = arg;
	l->calls++;
	l->status = status;
	l->lock = lock;
}

Test(storage_redis, lock_excludes_extends_and_releases)
{
	start_with_server(false);
	cr_assert_not_null(s.vt->lock);
	cr_assert_not_null(s.vt->unlock);
	struct lock_result a = {0}, b = {0};
	s.vt->lock(s.self, "my-tunnel", on_lock, &a);
	cr_assert(st_wait(base, &a.calls, ST_WAIT_MS));
	cr_assert_eq(a.status, EXPOSR_OK);
	cr_assert_not_null(a.lock);

	/* The key is exposrd's: lock:<key> without namespace, a random token, PX 1000. */
	redisContext *c = peek(0);
	char *token = peek_string(c, "lock:my-tunnel");
	cr_assert_not_null(token);
	cr_assert_eq(strlen(token), 40);
	free(token);
	long long pttl = peek_integer(c, "PTTL", "lock:my-tunnel");
	cr_assert(pttl > 0 && pttl <= 1000, "PTTL %lld", pttl);

	/* Held past its TTL: extended, and the second taker keeps waiting. */
	s.vt->lock(s.self, "my-tunnel", on_lock, &b);
	st_sleep(base, 1600);
	cr_assert_eq(b.calls, 0);
	cr_assert_eq(peek_integer(c, "EXISTS", "lock:my-tunnel"), 1);

	s.vt->unlock(s.self, a.lock);
	cr_assert(st_wait(base, &b.calls, 1000), "the waiting taker did not get the lock");
	cr_assert_eq(b.status, EXPOSR_OK);
	s.vt->unlock(s.self, b.lock);
	long long deadline = monotonic_ms() + 2000;
	while (peek_integer(c, "EXISTS", "lock:my-tunnel") != 0 && monotonic_ms() < deadline)
		st_sleep(base, 20);
	cr_assert_eq(peek_integer(c, "EXISTS", "lock:my-tunnel"), 0, "unlock left the key");

	/* A lock taken elsewhere is not released by our unlock of an expired one. */
	struct lock_result d = {0};
	s.vt->lock(s.self, "other", on_lock, &d);
	cr_assert(st_wait(base, &d.calls, ST_WAIT_MS));
	redisReply *steal = redisCommand(c, "SET lock:other stolen PX 60000");
	cr_assert_not_null(steal);
	freeReplyObject(steal);
	s.vt->unlock(s.self, d.lock);
	st_sleep(base, 200);
	char *holder = peek_string(c, "lock:other");
	cr_assert_str_eq(holder, "stolen");
	free(holder);
	redisFree(c);
}

Test(storage_redis, lock_gives_up_after_the_retries)
{
	start_with_server(false);
	redisContext *c = peek(0);
	redisReply *taken = redisCommand(c, "SET lock:busy someone-else PX 60000");
	cr_assert_not_null(taken);
	freeReplyObject(taken);
	redisFree(c);
	struct lock_result l = {0};
	long long t0 = monotonic_ms();
	s.vt->lock(s.self, "busy", on_lock, &l);
	cr_assert(st_wait(base, &l.calls, 10000));
	long long took = monotonic_ms() - t0;
	cr_assert_eq(l.status, EXPOSR_ERROR);
	cr_assert_null(l.lock);
	/* 25 retries 200 ms apart. */
	cr_assert(took >= 4800 && took < 8000, "gave up after %lld ms", took);
}

Test(storage_redis, lock_fails_at_once_while_redis_is_away)
{
	start_with_server(false);
	redis_server_kill(&server);
	struct st_result r = {0};
	/* The loss is noticed by the next call at the latest. */
	for (int i = 0; i < 20 && st_get(&s, "tunnel", "x", &r) != EXPOSR_ERROR; i++)
		st_sleep(base, 20);
	cr_assert_eq(r.status, EXPOSR_ERROR);
	struct lock_result l = {0};
	s.vt->lock(s.self, "x", on_lock, &l);
	cr_assert(st_wait(base, &l.calls, 200));
	cr_assert_eq(l.status, EXPOSR_ERROR);
}
