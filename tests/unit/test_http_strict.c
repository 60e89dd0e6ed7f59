/* The strict HTTP reading the core's listeners and the HTTP ingress share. */
#include <criterion/criterion.h>
#include <string.h>

#include <event2/buffer.h>

#include "http_strict.h"

Test(http_strict, heads_a_target_could_frame_otherwise_are_named)
{
	static const struct {
		const char *head, *why;
	} bad[] = {
	        {"GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n", "obsolete line folding"},
	        {"GET / HTTP/1.1\r\nX: a\r\n\tb\r\n\r\n", "obsolete line folding"},
	        {"GET /\r\nHost: t\r\n\r\n", "header lines after an HTTP/0.9 request line"},
	        {"POST /\nTransfer-Encoding:chunked\r\n \r\n\n",
	         "header lines after an HTTP/0.9 request line"},
	        {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\t\r\n\r\n",
	         "whitespace around a Content-Length or Transfer-Encoding value"},
	        {"POST / HTTP/1.1\r\ncontent-length:  3\r\n\r\n",
	         "whitespace around a Content-Length or Transfer-Encoding value"},
	        {"POST / HTTP/1.1\r\nCONTENT-LENGTH:\t3\r\n\r\n",
	         "whitespace around a Content-Length or Transfer-Encoding value"},
	        {"POST / HTTP/1.1\r\nContent-Length: 3 \r\n\r\n",
	         "whitespace around a Content-Length or Transfer-Encoding value"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *why = http_strict_head_error(bad[i].head, strlen(bad[i].head));
		cr_assert_not_null(why, "accepted: %s", bad[i].head);
		cr_assert_str_eq(why, bad[i].why, "%s", bad[i].head);
	}
	static const char *const good[] = {
	        "GET / HTTP/1.1\r\n\r\n",
	        "\r\nGET / HTTP/1.1\r\nHost: t\r\nX-Pad: a  \r\n\r\n",
	        "POST / HTTP/1.1\r\nContent-Length:3\r\n\r\n",
	        "POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
	        "GET /\r\n\r\n",
	        "GET / HTTP/1.1\r\nX-Content-Length:  3 \r\n\r\n",
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		cr_assert_null(http_strict_head_error(good[i], strlen(good[i])), "%s: %s", good[i],
		               http_strict_head_error(good[i], strlen(good[i])));
}

static int pause_at_head(llhttp_t *parser)
{
	(void)parser;
	return HPE_PAUSED;
}

static const llhttp_settings_t head_settings = {.on_headers_complete = pause_at_head};

/* Parses `head` strictly; true when llhttp takes it (and paused after it). */
static bool parse_head(llhttp_t *parser, const char *head)
{
	http_strict_init(parser, HTTP_REQUEST, &head_settings);
	return llhttp_execute(parser, head, strlen(head)) == HPE_PAUSED;
}

Test(http_strict, llhttp_itself_refuses_a_space_in_a_header_name)
{
	llhttp_t parser;
	cr_assert_not(parse_head(&parser, "GET / HTTP/1.1\r\nX A: b\r\n\r\n"));
	cr_assert_not(parse_head(&parser, "GET / HTTP/1.1\r\nHost : b\r\n\r\n"));
	cr_assert(parse_head(&parser, "GET / HTTP/1.1\r\nX-A: b\r\n\r\n"));
}

Test(http_strict, llhttp_itself_refuses_bytes_outside_ascii_in_the_target)
{
	llhttp_t parser;
	cr_assert_not(parse_head(&parser, "GET /\xc3\xa4 HTTP/1.1\r\n\r\n"));
	cr_assert_not(parse_head(&parser, "GET /a\tb HTTP/1.1\r\n\r\n"));
	cr_assert(parse_head(&parser, "GET /%C3%A4?q=%20 HTTP/1.1\r\n\r\n"));
}

Test(http_strict, a_body_already_buffered_is_read_ahead_without_moving_the_parser)
{
	static const struct {
		const char *body;
		bool ok;
	} cases[] = {
	        {"3\r\nabcXY0\r\n\r\n", false},        /* any two bytes for the CRLF */
	        {"3\r\nabc\r\n0\r\n\r\n", true},       /* the same, well formed */
	        {"3\r\nab", true},                     /* not here yet: nothing to say */
	        {"zz\r\n", false},                     /* not a chunk size */
	        {"0\r\n\r\nGARBAGE / HTTP\r\n", true}, /* the next request is not read */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		llhttp_t parser;
		const char *head = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
		cr_assert(parse_head(&parser, head));
		llhttp_t before = parser;
		struct evbuffer *input = evbuffer_new();
		/* The head first, then the body split into pieces, as it may sit in a buffer. */
		evbuffer_add(input, head, strlen(head));
		size_t len = strlen(cases[i].body);
		for (size_t off = 0; off < len; off += 2)
			evbuffer_add(input, cases[i].body + off, len - off > 1 ? 2 : 1);
		cr_assert_eq(http_strict_body_ahead_ok(&parser, input, strlen(head)), cases[i].ok,
		             "%s", cases[i].body);
		cr_assert_eq(memcmp(&before, &parser, sizeof(parser)), 0);
		cr_assert_eq(evbuffer_get_length(input), strlen(head) + strlen(cases[i].body));
		evbuffer_free(input);
	}
}
