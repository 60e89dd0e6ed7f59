/* Responses as the HTTP ingress follows them back from a target: where each head and
 * each response ends (core/http/http_strict/http_response.c). */
#include <criterion/criterion.h>

#include <string.h>

#include "http_response.h"

struct seen {
	int heads;
	int last_status;
	bool head_request;
};

static bool on_head(void *arg, int status)
{
	struct seen *s = arg;
	s->heads++;
	s->last_status = status;
	return s->head_request;
}

static const struct http_response_events events = {.head = on_head};

Test(response, lengths_chunks_and_boundaries)
{
	struct http_response_tracker t;
	struct seen s = {0};
	http_response_init(&t, &events, &s);
	const char two[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 201 Created\r\n"
	                   "Transfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n";
	size_t used;
	cr_assert_eq(http_response_feed(&t, two, 10, &used), HTTP_RESPONSE_MORE);
	cr_assert(t.in_head);
	cr_assert_eq(http_response_feed(&t, two + 10, strlen(two) - 10, &used), HTTP_RESPONSE_END);
	cr_assert_not(http_response_interim(&t));
	size_t first = strlen("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
	cr_assert_eq(10 + used, first);
	cr_assert_eq(s.heads, 1);
	size_t at = first;
	cr_assert_eq(http_response_feed(&t, two + at, strlen(two) - at, &used), HTTP_RESPONSE_END);
	cr_assert_eq(at + used, strlen(two));
	cr_assert_eq(s.last_status, 201);
}

Test(response, interim_answers_and_head_requests)
{
	struct http_response_tracker t;
	struct seen s = {.head_request = true};
	http_response_init(&t, &events, &s);
	const char data[] =
	        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n";
	size_t used;
	cr_assert_eq(http_response_feed(&t, data, strlen(data), &used), HTTP_RESPONSE_END);
	cr_assert(http_response_interim(&t));
	size_t at = used;
	cr_assert_eq(http_response_feed(&t, data + at, strlen(data) - at, &used),
	             HTTP_RESPONSE_END);
	cr_assert_not(http_response_interim(&t), "a HEAD answer ends with its head");
	cr_assert_eq(at + used, strlen(data));
}

Test(response, until_the_end_and_garbage)
{
	struct http_response_tracker t;
	struct seen s = {0};
	http_response_init(&t, &events, &s);
	const char data[] = "HTTP/1.0 200 OK\r\n\r\nall of it";
	size_t used;
	cr_assert_eq(http_response_feed(&t, data, strlen(data), &used), HTTP_RESPONSE_MORE);
	cr_assert(http_response_finish(&t));

	http_response_init(&t, &events, &s);
	cr_assert_eq(http_response_feed(&t, "SSH-2.0-x\r\n", 11, &used), HTTP_RESPONSE_BROKEN);
	http_response_init(&t, &events, &s);
	cr_assert_not(http_response_finish(&t), "nothing was under way");
}
