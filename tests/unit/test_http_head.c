/* Request heads recorded as llhttp reads them (core/http_strict/http_head.c), the one reading
 * of heads that the core's listeners and the HTTP ingress share. */
#include <criterion/criterion.h>
#include <string.h>

#include "http_head.h"
#include "http_strict.h"

static int message_complete(llhttp_t *parser)
{
	(void)parser;
	return HPE_PAUSED;
}

static const llhttp_settings_t settings = {
        HTTP_HEAD_CALLBACKS,
        .on_message_complete = message_complete,
};

static llhttp_t parser;
static struct http_head head;

static void start(size_t max_fields)
{
	http_strict_init(&parser, HTTP_REQUEST, &settings);
	parser.data = &head;
	http_head_start(&head, max_fields);
}

/* Feeds bytes[from, to) as the listener does, the head's offset counted from its start. */
static llhttp_errno_t feed(const char *bytes, size_t from, size_t to)
{
	http_head_feed(&head, bytes + from, from);
	llhttp_resume(&parser);
	return llhttp_execute(&parser, bytes + from, to - from);
}

Test(http_head, a_head_fed_in_pieces_gives_the_same_view)
{
	char bytes[] = "\r\nPOST /up?x=1 HTTP/1.1\r\nHost: t.example\r\nX-Empty:\r\n"
	               "X-Pad:  a b \t\r\nContent-Length: 2\r\n\r\n";
	size_t len = strlen(bytes);
	/* Cut inside the target, a header name and a value. */
	size_t cuts[] = {0, 9, 30, 61, len};
	start(8);
	for (size_t i = 0; i + 1 < sizeof(cuts) / sizeof(cuts[0]); i++) {
		llhttp_errno_t err = feed(bytes, cuts[i], cuts[i + 1]);
		cr_assert_eq(err, i + 2 < sizeof(cuts) / sizeof(cuts[0]) ? HPE_OK : HPE_PAUSED);
	}
	cr_assert(head.complete);
	struct exposr_http_header headers[8];
	struct exposr_http_request view = {0};
	cr_assert_eq(http_head_path_len(&head, bytes), 3);
	http_head_view(&head, &parser, bytes, &view, headers);
	cr_expect_str_eq(view.method, "POST");
	cr_expect_str_eq(view.target, "/up?x=1");
	cr_expect_eq(view.http_major, 1);
	cr_expect_eq(view.http_minor, 1);
	cr_expect(view.keep_alive);
	cr_expect_not(view.upgrade);
	cr_assert_eq(view.header_count, 4);
	cr_expect_str_eq(headers[0].name, "Host");
	cr_expect_str_eq(headers[0].value, "t.example");
	cr_expect_str_eq(headers[1].value, "");
	cr_expect_str_eq(headers[2].name, "X-Pad");
	cr_expect_str_eq(headers[2].value, "a b");
	cr_expect_str_eq(headers[3].value, "2");
	http_head_free(&head);
}

Test(http_head, too_many_fields_is_431_and_trailers_are_not_recorded)
{
	const char *many = "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";
	start(2);
	cr_assert_eq(feed(many, 0, strlen(many)), HPE_USER);
	cr_expect_eq(head.error_status, 431);
	const char *chunked = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
	                      "1\r\nx\r\n0\r\nX-Trailer: t\r\n\r\n";
	start(2);
	size_t head_len = strstr(chunked, "\r\n\r\n") + 4 - chunked;
	cr_assert_eq(feed(chunked, 0, strlen(chunked)), HPE_PAUSED);
	cr_assert_eq(llhttp_get_error_pos(&parser), chunked + head_len);
	cr_assert_eq(feed(chunked, head_len, strlen(chunked)), HPE_PAUSED, "the message ended");
	cr_expect_eq(head.field_count, 1, "the trailer is not a field of the head");
	http_head_free(&head);
}
