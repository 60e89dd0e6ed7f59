/* Test helpers for storage back-ends: drive a storage vtable call by call with bounded
 * waits on the loop, and the behaviour every back-end shares (include after Criterion). */
#ifndef EXPOSR_TEST_STORAGE_CONTRACT_H
#define EXPOSR_TEST_STORAGE_CONTRACT_H

#include <criterion/criterion.h>
#include <event2/event.h>
#include <exposr/storage.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ST_WAIT_MS 5000

struct storage_ut {
	const struct exposr_storage_vtable *vt;
	void *self;
	struct event_base *base;
	bool pages_bounded; /* a page never holds more keys than asked (false for SCAN) */
};

/* What one call's callback reported; `calls` counts how often it ran. */
struct st_result {
	int calls;
	int status;
	char *value;
	size_t len;
	char **keys;
	size_t count;
	char *cursor;
};

static inline void st_result_free(struct st_result *r)
{
	free(r->value);
	for (size_t i = 0; i < r->count; i++)
		free(r->keys[i]);
	free(r->keys);
	free(r->cursor);
	memset(r, 0, sizeof(*r));
}

static inline void st_on_get(void *arg, int status, const char *value, size_t len)
{
	struct st_result *r = arg;
	r->calls++;
	r->status = status;
	if (status == EXPOSR_OK && r->value == NULL) {
		r->value = malloc(len + 1);
		cr_assert_not_null(r->value);
		memcpy(r->value, value, len);
		r->value[len] = '\0';
		r->len = len;
	}
}

static inline void st_on_done(void *arg, int status)
{
	struct st_result *r = arg;
	r->calls++;
	r->status = status;
}

static inline void st_on_list(void *arg, int status, const char *const *keys, size_t count,
                              const char *next_cursor)
{
	struct st_result *r = arg;
	r->calls++;
	r->status = status;
	if (status != EXPOSR_OK || r->keys != NULL)
		return;
	r->keys = calloc(count + 1, sizeof(*r->keys));
	cr_assert_not_null(r->keys);
	for (size_t i = 0; i < count; i++)
		r->keys[i] = strdup(keys[i]);
	r->count = count;
	r->cursor = next_cursor != NULL ? strdup(next_cursor) : NULL;
}

static inline void st_expired(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	*(bool *)arg = true;
}

/* Runs the loop until *calls is non-zero or `ms` passed; true when it was called. */
static inline bool st_wait(struct event_base *base, const int *calls, int ms)
{
	bool expired = false;
	struct event *timer = evtimer_new(base, st_expired, &expired);
	cr_assert_not_null(timer);
	struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
	cr_assert_eq(evtimer_add(timer, &tv), 0);
	while (*calls == 0 && !expired)
		event_base_loop(base, EVLOOP_ONCE);
	event_free(timer);
	return *calls > 0;
}

/* Lets the loop run for `ms` (the back-end's timers fire meanwhile). */
static inline void st_sleep(struct event_base *base, int ms)
{
	int never = 0;
	st_wait(base, &never, ms);
}

static inline void st_finish(struct storage_ut *s, struct st_result *r)
{
	cr_assert(st_wait(s->base, &r->calls, ST_WAIT_MS), "no callback within %d ms", ST_WAIT_MS);
	cr_assert_eq(r->calls, 1, "callback ran %d times", r->calls);
}

/* Each returns the status; a value or page is left in *out (free with st_result_free). */
static inline int st_get(struct storage_ut *s, const char *ns, const char *key,
                         struct st_result *out)
{
	memset(out, 0, sizeof(*out));
	s->vt->get(s->self, ns, key, st_on_get, out);
	st_finish(s, out);
	return out->status;
}

static inline int st_set(struct storage_ut *s, const char *ns, const char *key, const char *value,
                         unsigned flags, uint64_t ttl_ms)
{
	struct st_result r = {0};
	s->vt->set(s->self, ns, key, value, strlen(value), flags, ttl_ms, st_on_done, &r);
	st_finish(s, &r);
	return r.status;
}

static inline int st_del(struct storage_ut *s, const char *ns, const char *key)
{
	struct st_result r = {0};
	s->vt->del(s->self, ns, key, st_on_done, &r);
	st_finish(s, &r);
	return r.status;
}

static inline int st_list(struct storage_ut *s, const char *ns, const char *cursor, size_t count,
                          struct st_result *out)
{
	memset(out, 0, sizeof(*out));
	s->vt->list(s->self, ns, cursor, count, st_on_list, out);
	st_finish(s, out);
	return out->status;
}

/* The value of ns/key, asserted present; caller frees. */
static inline char *st_value(struct storage_ut *s, const char *ns, const char *key)
{
	struct st_result r;
	cr_assert_eq(st_get(s, ns, key, &r), EXPOSR_OK, "%s/%s not found", ns, key);
	return r.value;
}

/* Pages through ns with `count` per page; every key in `expected` must be seen exactly
 * once and nothing else. */
static inline void st_expect_listing(struct storage_ut *s, const char *ns, size_t count,
                                     const char *const *expected, size_t n)
{
	int *seen = calloc(n > 0 ? n : 1, sizeof(*seen));
	cr_assert_not_null(seen);
	char *cursor = NULL;
	size_t pages = 0;
	do {
		struct st_result page;
		cr_assert_eq(st_list(s, ns, cursor, count, &page), EXPOSR_OK);
		cr_assert(pages++ < 1000 + 10 * n, "listing does not end");
		if (s->pages_bounded)
			cr_assert_leq(page.count, count);
		for (size_t i = 0; i < page.count; i++) {
			size_t j = 0;
			while (j < n && strcmp(expected[j], page.keys[i]) != 0)
				j++;
			cr_assert_lt(j, n, "unexpected key '%s' in %s", page.keys[i], ns);
			seen[j]++;
		}
		free(cursor);
		cursor = page.cursor;
		page.cursor = NULL;
		st_result_free(&page);
	} while (cursor != NULL);
	for (size_t j = 0; j < n; j++)
		cr_assert_eq(seen[j], 1, "key '%s' listed %d times", expected[j], seen[j]);
	free(seen);
}

/* get / set / IF_ABSENT / delete on one key. */
static inline void st_contract_basics(struct storage_ut *s)
{
	struct st_result r;
	cr_assert_eq(st_get(s, "tunnel", "my-tunnel", &r), EXPOSR_NOT_FOUND);
	cr_assert_eq(st_del(s, "tunnel", "my-tunnel"), EXPOSR_NOT_FOUND);
	cr_assert_eq(st_set(s, "tunnel", "my-tunnel", "{\"v\":1}", 0, 0), EXPOSR_OK);
	char *v = st_value(s, "tunnel", "my-tunnel");
	cr_assert_str_eq(v, "{\"v\":1}");
	free(v);
	cr_assert_eq(st_set(s, "tunnel", "my-tunnel", "{\"v\":2}", 0, 0), EXPOSR_OK);
	cr_assert_eq(st_set(s, "tunnel", "my-tunnel", "{\"v\":3}", EXPOSR_STORAGE_IF_ABSENT, 0),
	             EXPOSR_EXISTS);
	v = st_value(s, "tunnel", "my-tunnel");
	cr_assert_str_eq(v, "{\"v\":2}", "IF_ABSENT must not overwrite");
	free(v);
	cr_assert_eq(st_set(s, "tunnel", "other", "{}", EXPOSR_STORAGE_IF_ABSENT, 0), EXPOSR_OK);
	cr_assert_eq(st_del(s, "tunnel", "my-tunnel"), EXPOSR_OK);
	cr_assert_eq(st_get(s, "tunnel", "my-tunnel", &r), EXPOSR_NOT_FOUND);
	cr_assert_eq(st_del(s, "tunnel", "my-tunnel"), EXPOSR_NOT_FOUND);
	v = st_value(s, "tunnel", "other");
	cr_assert_str_eq(v, "{}");
	free(v);
}

/* A key with a TTL is there, then gone (from get and list), then free for IF_ABSENT. */
static inline void st_contract_ttl(struct storage_ut *s)
{
	struct st_result r;
	cr_assert_eq(st_set(s, "session", "short", "{\"t\":1}", 0, 300), EXPOSR_OK);
	cr_assert_eq(st_set(s, "session", "long", "{\"t\":2}", 0, 60000), EXPOSR_OK);
	cr_assert_eq(st_set(s, "session", "forever", "{\"t\":3}", 0, 0), EXPOSR_OK);
	cr_assert_eq(st_get(s, "session", "short", &r), EXPOSR_OK);
	st_result_free(&r);
	cr_assert_eq(st_set(s, "session", "short", "{}", EXPOSR_STORAGE_IF_ABSENT, 300),
	             EXPOSR_EXISTS);
	st_sleep(s->base, 800);
	cr_assert_eq(st_get(s, "session", "short", &r), EXPOSR_NOT_FOUND);
	cr_assert_eq(st_del(s, "session", "short"), EXPOSR_NOT_FOUND);
	const char *const alive[] = {"long", "forever"};
	st_expect_listing(s, "session", 10, alive, 2);
	cr_assert_eq(st_set(s, "session", "short", "{\"t\":4}", EXPOSR_STORAGE_IF_ABSENT, 0),
	             EXPOSR_OK);
	char *v = st_value(s, "session", "short");
	cr_assert_str_eq(v, "{\"t\":4}");
	free(v);
	/* Overwriting without a TTL makes a key permanent again. */
	cr_assert_eq(st_set(s, "session", "long", "{\"t\":5}", 0, 300), EXPOSR_OK);
	cr_assert_eq(st_set(s, "session", "long", "{\"t\":6}", 0, 0), EXPOSR_OK);
	st_sleep(s->base, 600);
	v = st_value(s, "session", "long");
	cr_assert_str_eq(v, "{\"t\":6}");
	free(v);
}

/* 250 keys listed 10 at a time: each exactly once, none of a neighbouring namespace. */
static inline void st_contract_listing(struct storage_ut *s)
{
	enum { N = 250 };
	char *names[N];
	for (int i = 0; i < N; i++) {
		cr_assert_gt(asprintf(&names[i], "tunnel-%03d", i), 0);
		cr_assert_eq(st_set(s, "tunnel", names[i], "{}", 0, 0), EXPOSR_OK);
	}
	/* Neighbours whose keys share a prefix with "tunnel:". */
	cr_assert_eq(st_set(s, "tunnel-x", "tunnel-000", "{}", 0, 0), EXPOSR_OK);
	cr_assert_eq(st_set(s, "tunnelx", "a", "{}", 0, 0), EXPOSR_OK);
	cr_assert_eq(st_set(s, "account", "tunnel-001", "{}", 0, 0), EXPOSR_OK);
	st_expect_listing(s, "tunnel", 10, (const char *const *)names, N);
	st_expect_listing(s, "tunnel", 1000, (const char *const *)names, N);
	const char *const x[] = {"tunnel-000"};
	st_expect_listing(s, "tunnel-x", 10, x, 1);
	st_expect_listing(s, "empty", 10, NULL, 0);
	for (int i = 0; i < N; i++)
		free(names[i]);
}

/* The same key in two namespaces is two records. */
static inline void st_contract_namespaces(struct storage_ut *s)
{
	cr_assert_eq(st_set(s, "account", "MNF4P6Y6M2MRRVCT", "{\"a\":1}", 0, 0), EXPOSR_OK);
	cr_assert_eq(st_set(s, "tunnel", "MNF4P6Y6M2MRRVCT", "{\"t\":1}", 0, 0), EXPOSR_OK);
	cr_assert_eq(st_set(s, "ingress-altnames", "MNF4P6Y6M2MRRVCT", "{\"n\":1}",
	                    EXPOSR_STORAGE_IF_ABSENT, 0),
	             EXPOSR_OK);
	char *a = st_value(s, "account", "MNF4P6Y6M2MRRVCT");
	char *t = st_value(s, "tunnel", "MNF4P6Y6M2MRRVCT");
	cr_assert_str_eq(a, "{\"a\":1}");
	cr_assert_str_eq(t, "{\"t\":1}");
	free(a);
	free(t);
	cr_assert_eq(st_del(s, "tunnel", "MNF4P6Y6M2MRRVCT"), EXPOSR_OK);
	struct st_result r;
	cr_assert_eq(st_get(s, "tunnel", "MNF4P6Y6M2MRRVCT", &r), EXPOSR_NOT_FOUND);
	a = st_value(s, "account", "MNF4P6Y6M2MRRVCT");
	cr_assert_str_eq(a, "{\"a\":1}");
	free(a);
	const char *const one[] = {"MNF4P6Y6M2MRRVCT"};
	st_expect_listing(s, "account", 10, one, 1);
	st_expect_listing(s, "tunnel", 10, NULL, 0);
}

/* JSON with multi-byte UTF-8, quotes, backslashes and raw control bytes comes back as
 * the same bytes; so does an empty value. */
static inline void st_contract_bytes(struct storage_ut *s)
{
	static const char json[] =
	        "{\"name\":\"Ünïcødé ✓ 日本語 🚀\",\"quote\":\"say "
	        "\\\"hi\\\"\",\"path\":\"C:\\\\x\","
	        "\n\t\"nl\":\"a\\nb\",\"u\":\"\\u00e9\\ud83d\\ude80\",\"sq\":\"it's\"}\r\n";
	cr_assert_eq(st_set(s, "tunnel", "bytes", json, 0, 0), EXPOSR_OK);
	struct st_result r;
	cr_assert_eq(st_get(s, "tunnel", "bytes", &r), EXPOSR_OK);
	cr_assert_eq(r.len, strlen(json));
	cr_assert_eq(memcmp(r.value, json, r.len), 0);
	st_result_free(&r);
	cr_assert_eq(st_set(s, "tunnel", "empty", "", 0, 0), EXPOSR_OK);
	cr_assert_eq(st_get(s, "tunnel", "empty", &r), EXPOSR_OK);
	cr_assert_eq(r.len, 0);
	st_result_free(&r);
	/* Keys with characters SQL and glob patterns treat specially are plain keys. */
	cr_assert_eq(st_set(s, "tunnel", "it's*[a]?%_\\", "{}", 0, 0), EXPOSR_OK);
	char *v = st_value(s, "tunnel", "it's*[a]?%_\\");
	cr_assert_str_eq(v, "{}");
	free(v);
}

#endif
