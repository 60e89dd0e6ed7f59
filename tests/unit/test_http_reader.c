/* Later requests on a connection taken over: heads and bodies as the HTTP ingress
 * follows them (core/http/http_strict/http_reader.c). */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>

#include "http_reader.h"
#include "http_strict.h"

/* Header fields per head, as the listener allows by default. */
#define MAX_FIELDS 100

static struct http_reader parser;

static void setup(void)
{
	http_reader_init(&parser, MAX_FIELDS);
}

static void teardown(void)
{
	http_reader_free(&parser);
}

TestSuite(request, .init = setup, .fini = teardown);

static enum http_read head_of(char *data, size_t max, struct exposr_http_request *view,
                              struct exposr_http_header *headers, size_t *head_len, int *status)
{
	return http_reader_head(&parser, data, strlen(data), max, view, headers, head_len, status);
}

Test(request, a_head_with_its_headers)
{
	char data[] = "\r\nPOST /up?x=1 HTTP/1.1\r\nHost: t.example.com\r\nX-Empty:\r\n"
	              "Content-Length: 3\r\nX-Pad: v  \r\n\r\nabcGET / HTTP/1.1\r\n";
	struct exposr_http_header headers[MAX_FIELDS];
	struct exposr_http_request view;
	size_t head_len;
	int status;
	cr_assert_eq(head_of(data, 16384, &view, headers, &head_len, &status), HTTP_READ_HEAD);
	cr_assert_str_eq(view.method, "POST");
	cr_assert_str_eq(view.target, "/up?x=1");
	cr_assert_eq(view.header_count, 4);
	cr_assert_str_eq(headers[0].name, "Host");
	cr_assert_str_eq(headers[0].value, "t.example.com");
	cr_assert_str_eq(headers[1].value, "");
	cr_assert_str_eq(headers[3].value, "v");
	cr_assert(view.keep_alive);
	cr_assert_not(view.upgrade);
	cr_assert_eq(strncmp(data + head_len, "abc", 3), 0);
	cr_assert_not(http_reader_after_head(&parser), "a body follows");
	bool done;
	cr_assert_eq(http_reader_body(&parser, "ab", 2, &done), 2);
	cr_assert_not(done);
	cr_assert_eq(http_reader_body(&parser, "cGET", 4, &done), 1);
	cr_assert(done);
}

Test(request, a_head_without_body_ends_with_it)
{
	char data[] = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
	size_t len = strlen(data); /* the view's strings are terminated in place */
	struct exposr_http_header headers[MAX_FIELDS];
	struct exposr_http_request view;
	size_t head_len;
	int status;
	cr_assert_eq(head_of(data, 16384, &view, headers, &head_len, &status), HTTP_READ_HEAD);
	cr_assert_eq(head_len, len);
	cr_assert(http_reader_after_head(&parser));
}

Test(request, chunked_bodies_are_measured_to_their_end)
{
	char data[] = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
	struct exposr_http_header headers[MAX_FIELDS];
	struct exposr_http_request view;
	size_t head_len;
	int status;
	cr_assert_eq(head_of(data, 16384, &view, headers, &head_len, &status), HTTP_READ_HEAD);
	cr_assert_not(http_reader_after_head(&parser));
	const char body[] = "5\r\nhello\r\n0\r\nTrailer: x\r\n\r\nGET /next";
	bool done;
	ssize_t used = http_reader_body(&parser, body, 10, &done);
	cr_assert_eq(used, 10);
	cr_assert_not(done);
	used = http_reader_body(&parser, body + 10, strlen(body) - 10, &done);
	cr_assert(done);
	cr_assert_eq(10 + used, strlen("5\r\nhello\r\n0\r\nTrailer: x\r\n\r\n"));
}

Test(request, incomplete_heads_wait_and_long_ones_fail)
{
	char part[] = "GET / HTTP/1.1\r\nHost: a\r\n";
	struct exposr_http_header headers[MAX_FIELDS];
	struct exposr_http_request view;
	size_t head_len;
	int status;
	cr_assert_eq(head_of(part, 16384, &view, headers, &head_len, &status), HTTP_READ_MORE);
	cr_assert_eq(head_of(part, 10, &view, headers, &head_len, &status), HTTP_READ_ERROR);
	cr_assert_eq(status, 431);
	char bad[] = "GET / FTP/1.1\r\n\r\n";
	cr_assert_eq(head_of(bad, 16384, &view, headers, &head_len, &status), HTTP_READ_ERROR);
	cr_assert_eq(status, 400);
}

Test(request, too_many_headers)
{
	char data[8192] = "GET / HTTP/1.1\r\n";
	for (int i = 0; i <= MAX_FIELDS; i++)
		snprintf(data + strlen(data), sizeof(data) - strlen(data), "X-%d: v\r\n", i);
	strcat(data, "\r\n");
	struct exposr_http_header headers[MAX_FIELDS];
	struct exposr_http_request view;
	size_t head_len;
	int status;
	cr_assert_eq(head_of(data, 16384, &view, headers, &head_len, &status), HTTP_READ_ERROR);
	cr_assert_eq(status, 431);
}

Test(request, upgrades_and_closing_requests)
{
	char up[] =
	        "GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n";
	struct exposr_http_header headers[MAX_FIELDS];
	struct exposr_http_request view;
	size_t head_len;
	int status;
	cr_assert_eq(head_of(up, 16384, &view, headers, &head_len, &status), HTTP_READ_HEAD);
	cr_assert(view.upgrade);
	char old[] = "GET / HTTP/1.0\r\nHost: a\r\n\r\n";
	cr_assert_eq(head_of(old, 16384, &view, headers, &head_len, &status), HTTP_READ_HEAD);
	cr_assert_not(view.keep_alive);
}

/* The core listener's parser after a head, as parser_state() hands it on: it pauses at
 * the end of a head and of a message, and has been fed nothing more after the head. */
static int pause_here(llhttp_t *p)
{
	(void)p;
	return HPE_PAUSED;
}

static const llhttp_settings_t listener_settings = {
        .on_headers_complete = pause_here,
        .on_message_complete = pause_here,
};

static void listener_after(llhttp_t *listener, const char *head)
{
	http_strict_init(listener, HTTP_REQUEST, &listener_settings);
	cr_assert_eq(llhttp_execute(listener, head, strlen(head)), HPE_PAUSED);
	llhttp_resume(listener);
	llhttp_execute(listener, "", 0);
}

Test(request, continuing_the_listener_parser_positions_at_the_body)
{
	llhttp_t listener;
	listener_after(&listener, "PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\n");
	http_reader_continue(&parser, &listener);
	cr_assert_not(http_reader_after_head(&parser));
	bool done;
	cr_assert_eq(http_reader_body(&parser, "okGET", 5, &done), 2);
	cr_assert(done);
	listener_after(&listener, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
	http_reader_continue(&parser, &listener);
	cr_assert_not(http_reader_after_head(&parser));
	cr_assert_eq(http_reader_body(&parser, "1\r\nx\r\n0\r\n\r\nGET", 14, &done), 11);
	cr_assert(done);
	listener_after(&listener, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
	http_reader_continue(&parser, &listener);
	cr_assert(http_reader_after_head(&parser), "no body: it ended with its head");
}

Test(request, ambiguous_framing_is_refused_with_400)
{
	static const char *const heads[] = {
	        "GET / HTTP/1.1\r\nHost: t\r\nX-Folded: a\r\n b\r\n\r\n",
	        "POST /2 HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\t\r\n\r\n",
	        "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3 \r\n\r\nabc",
	        "GET / HTTP/1.1\r\nHost: t\r\nX A: b\r\n\r\n",
	        "POST /\nTransfer-Encoding:chunked\r\n \r\n\n",
	};
	for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
		char data[256];
		snprintf(data, sizeof(data), "%s", heads[i]);
		struct exposr_http_header headers[MAX_FIELDS];
		struct exposr_http_request view;
		size_t head_len;
		int status = 0;
		cr_assert_eq(head_of(data, 16384, &view, headers, &head_len, &status),
		             HTTP_READ_ERROR, "%s", heads[i]);
		cr_assert_eq(status, 400, "%s", heads[i]);
	}
}
