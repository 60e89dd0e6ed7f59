/* lib/util: the helpers the core and the modules share. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "hmap.h"
#include "http_ows.h"
#include "iso_time.h"
#include "percent_decode.h"
#include "query.h"
#include "request_header.h"
#include "timeval_ms.h"

static void assert_decodes(const char *in, const char *want)
{
	char *out = percent_decode(in, strlen(in));
	cr_assert_not_null(out);
	cr_assert_str_eq(out, want, "percent_decode(\"%s\")", in);
	free(out);
}

Test(percent_decode, escapes_and_utf8)
{
	assert_decodes("a%20b%2Fc%2f", "a b/c/");
	assert_decodes("caf%C3%A9", "caf\xc3\xa9");
	assert_decodes("a+b", "a+b");
	assert_decodes("", "");
}

Test(percent_decode, bad_input_is_kept_as_written)
{
	assert_decodes("100%", "100%");
	assert_decodes("%4", "%4");
	assert_decodes("%zz%41", "%zz%41");
	assert_decodes("%41%G1", "%41%G1");
	assert_decodes("a%00b", "a%00b");
	assert_decodes("%C3", "%C3");
	assert_decodes("%ED%A0%80", "%ED%A0%80");
	assert_decodes("%C0%AF", "%C0%AF");
}

Test(percent_decode, only_len_bytes)
{
	char *out = percent_decode("%41%42", 3);
	cr_assert_str_eq(out, "A");
	free(out);
	out = percent_decode("%41%42", 5);
	cr_assert_str_eq(out, "%41%4", "a cut escape is bad");
	free(out);
}

Test(percent_decode, long_input)
{
	size_t n = 3 * 100000;
	char *in = malloc(n + 1);
	cr_assert_not_null(in);
	for (size_t i = 0; i < n; i += 3)
		memcpy(in + i, "%41", 3);
	in[n] = '\0';
	char *out = percent_decode(in, n);
	cr_assert_not_null(out);
	cr_assert_eq(strlen(out), n / 3);
	cr_assert_eq(strspn(out, "A"), n / 3);
	free(out);
	free(in);
}

Test(query, bad_escapes_and_empty_pieces)
{
	struct query q;
	cr_assert_eq(query_parse("a=%zz&b=%&=v&c=%E2%82%AC&&a=2", &q), 0);
	cr_assert_str_eq(query_find(&q, "a")->values[0], "%zz");
	cr_assert_str_eq(query_find(&q, "a")->values[1], "2");
	cr_assert_str_eq(query_find(&q, "b")->values[0], "%");
	cr_assert_str_eq(query_find(&q, "")->values[0], "v", "an empty name is a name");
	cr_assert_str_eq(query_find(&q, "c")->values[0], "\xe2\x82\xac");
	cr_assert_null(query_find(&q, "d"));
	query_free(&q);
	cr_assert_eq(q.count, 0);
	cr_assert_null(q.params);
}

Test(query, long_value)
{
	size_t n = 65536;
	char *text = malloc(n + 3);
	cr_assert_not_null(text);
	memcpy(text, "t=", 2);
	memset(text + 2, 'x', n);
	text[n + 2] = '\0';
	struct query q;
	cr_assert_eq(query_parse(text, &q), 0);
	cr_assert_eq(strlen(query_find(&q, "t")->values[0]), n);
	query_free(&q);
	free(text);
}

Test(iso_time, before_1970_and_limits)
{
	char out[ISO_TIME_LEN];
	iso_time_format(-1, out);
	cr_assert_str_eq(out, "1969-12-31T23:59:59.999Z");
	iso_time_format(253402300799999, out);
	cr_assert_str_eq(out, "9999-12-31T23:59:59.999Z");
	iso_time_format(253402300800000, out);
	cr_assert_eq(strlen(out), ISO_TIME_LEN - 1, "a five-digit year is cut, not overrun");
}

Test(request_header, first_match_without_regard_to_case)
{
	struct exposr_http_header headers[] = {{"Host", "a.example"},
	                                       {"X-Forwarded-For", "1.2.3.4"},
	                                       {"x-forwarded-for", "5.6.7.8"}};
	struct exposr_http_request req = {.headers = headers, .header_count = 3};
	cr_assert_str_eq(request_header(&req, "x-FORWARDED-for"), "1.2.3.4");
	cr_assert_str_eq(request_header(&req, "host"), "a.example");
	cr_assert_null(request_header(&req, "X-Forwarded"));
	cr_assert_null(request_header(&req, ""));
	struct exposr_http_request empty = {0};
	cr_assert_null(request_header(&empty, "Host"));
}

struct item {
	struct hmap_node node;
	uint32_t key;
};

static struct item *find_item(const struct hmap *map, uint32_t key)
{
	for (struct hmap_node *n = hmap_chain(map, key % 1000); n != NULL; n = n->next) {
		struct item *it = hmap_entry(n, struct item, node);
		if (it->key == key)
			return it;
	}
	return NULL;
}

static bool drop_odd(void *arg, struct hmap_node *node)
{
	size_t *dropped = arg;
	struct item *it = hmap_entry(node, struct item, node);
	if (it->key % 2 == 0)
		return false;
	(*dropped)++;
	free(it);
	return true;
}

Test(hmap, insert_find_remove_filter)
{
	struct hmap map;
	cr_assert_eq(hmap_init(&map), 0);
	cr_assert_null(hmap_any(&map));
	/* Enough to grow several times; equal hashes share a chain. */
	for (uint32_t k = 0; k < 5000; k++) {
		struct item *it = malloc(sizeof(*it));
		cr_assert_not_null(it);
		it->key = k;
		hmap_insert(&map, &it->node, k % 1000);
	}
	cr_assert_eq(map.count, 5000);
	cr_assert_gt(map.nbuckets, 16);
	cr_assert_null(find_item(&map, 5000));
	struct hmap_node *n = hmap_chain(&map, 7);
	size_t same = 0;
	for (; n != NULL; n = n->next)
		same += n->hash == 7;
	cr_assert_eq(same, 5, "keys 7, 1007, ... 4007 share hash 7");
	struct item *it = find_item(&map, 3042);
	cr_assert_not_null(it);
	cr_assert_eq(it->key, 3042);
	hmap_remove(&map, &it->node);
	free(it);
	cr_assert_eq(map.count, 4999);
	size_t dropped = 0;
	hmap_filter(&map, drop_odd, &dropped);
	cr_assert_eq(dropped, 2500);
	cr_assert_eq(map.count, 2499);
	while ((n = hmap_any(&map)) != NULL) {
		hmap_remove(&map, n);
		free(hmap_entry(n, struct item, node));
	}
	cr_assert_eq(map.count, 0);
	hmap_destroy(&map);
}

static void assert_trims(const char *in, const char *want)
{
	const char *start = in;
	size_t len = http_trim_ows(&start, strlen(in));
	cr_assert_eq(len, strlen(want), "http_trim_ows(\"%s\"): length %zu", in, len);
	cr_assert_eq(strncmp(start, want, len), 0, "http_trim_ows(\"%s\")", in);
}

Test(http_ows, trims_spaces_and_tabs_at_both_ends_only)
{
	assert_trims(" \t a b \t", "a b");
	assert_trims("a", "a");
	assert_trims("\t\t", "");
	assert_trims("", "");
	/* Other whitespace is not optional whitespace: it stays, for the strict reader to refuse.
	 */
	assert_trims("\r a\n", "\r a\n");
	cr_assert(http_is_ows(' ') && http_is_ows('\t'));
	cr_assert(!http_is_ows('\r') && !http_is_ows('\n') && !http_is_ows('\v') &&
	          !http_is_ows('\0'));
}

Test(timeval_ms, seconds_and_microseconds)
{
	struct timeval tv = timeval_from_ms(0);
	cr_assert(tv.tv_sec == 0 && tv.tv_usec == 0);
	tv = timeval_from_ms(1500);
	cr_assert(tv.tv_sec == 1 && tv.tv_usec == 500000);
	tv = timeval_from_ms(999);
	cr_assert(tv.tv_sec == 0 && tv.tv_usec == 999000);
	tv = timeval_from_ms(86400000);
	cr_assert(tv.tv_sec == 86400 && tv.tv_usec == 0);
}
