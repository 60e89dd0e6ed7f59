/* The shared HTTP listener over real sockets: routing, keep-alive, limits, bodies, takeover. */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <llhttp.h>

#include "capture.h"
#include "http_conn.h"
#include "http_listener.h"
#include "log.h"
#include "streams.h"

/* Every wait below ends when its condition holds, or fails the test after this long. */
#define WAIT_MS 3000

static const struct http_limits test_limits = {
        .max_head_bytes = 1024,
        .max_headers = 8,
        .head_timeout_ms = 200,
        .idle_timeout_ms = 400,
};

static struct event_base *base;
static int port;

static void setup(void)
{
	/* Writing to a socket the peer has closed must fail, not kill the test. */
	signal(SIGPIPE, SIG_IGN);
	/* Rejections the tests provoke on purpose would only be noise. */
	log_configure(EXPOSR_LOG_FATAL, LOG_FORMAT_TEXT);
	base = event_base_new();
	cr_assert_not_null(base);
}

static void teardown(void)
{
	http_listeners_free();
	event_base_free(base);
}

TestSuite(http_listener, .init = setup, .fini = teardown);

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One turn of the server's loop, then a millisecond's pause so that waits don't spin. */
static void pump(void)
{
	event_base_loop(base, EVLOOP_NONBLOCK);
	poll(NULL, 0, 1);
}

static void add_route(const char *name, int priority, size_t max_body,
                      bool (*match)(void *, const struct exposr_http_request *),
                      void (*handle)(void *, struct exposr_http_request *), void *self)
{
	struct exposr_http_route route = {.name = name,
	                                  .port = 0,
	                                  .priority = priority,
	                                  .max_body = max_body,
	                                  .match = match,
	                                  .handle = handle,
	                                  .self = self};
	cr_assert_eq(http_route_add(NULL, &route), EXPOSR_OK);
}

static void start(void)
{
	cr_assert_eq(http_listeners_open(base, "127.0.0.1", &test_limits), EXPOSR_OK);
	port = http_listener_bound_port(0);
	cr_assert_gt(port, 0);
}

/* --- A test client: a non-blocking socket read while the server's loop turns. --- */

struct client {
	int fd;
	char buf[16384];
	size_t len;
	bool closed;
};

static void client_open(struct client *c)
{
	memset(c, 0, sizeof(*c));
	c->fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert_geq(c->fd, 0);
	struct sockaddr_in addr = {.sin_family = AF_INET,
	                           .sin_port = htons((uint16_t)port),
	                           .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	/* The kernel completes a loopback handshake without the server's loop. */
	cr_assert_eq(connect(c->fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	cr_assert_eq(fcntl(c->fd, F_SETFL, O_NONBLOCK), 0);
}

static void client_close(struct client *c)
{
	close(c->fd);
}

static void client_send(struct client *c, const char *data)
{
	size_t len = strlen(data), sent = 0;
	long long deadline = now_ms() + WAIT_MS;
	while (sent < len) {
		ssize_t n = send(c->fd, data + sent, len - sent, 0);
		if (n > 0)
			sent += (size_t)n;
		else
			cr_assert(n < 0 && errno == EAGAIN, "send: %s", strerror(errno));
		cr_assert_lt(now_ms(), deadline, "send did not finish");
		if (sent < len)
			pump();
	}
}

static void client_receive(struct client *c)
{
	event_base_loop(base, EVLOOP_NONBLOCK);
	struct pollfd p = {.fd = c->fd, .events = POLLIN};
	if (c->closed || poll(&p, 1, 1) != 1)
		return;
	cr_assert_lt(c->len, sizeof(c->buf) - 1, "client buffer full");
	ssize_t n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len, 0);
	if (n > 0)
		c->len += (size_t)n;
	else if (n == 0 || errno == ECONNRESET)
		c->closed = true;
	c->buf[c->len] = '\0';
}

/* Length of the first complete response in the buffer, or 0. */
static size_t response_length(const struct client *c, bool head_only)
{
	const char *end = strstr(c->buf, "\r\n\r\n");
	if (end == NULL)
		return 0;
	size_t head = (size_t)(end - c->buf) + 4;
	size_t body = 0;
	const char *length = strcasestr(c->buf, "\r\nContent-Length: ");
	if (length != NULL && length < end && !head_only)
		body = strtoul(length + 18, NULL, 10);
	return c->len >= head + body ? head + body : 0;
}

/* Waits for the next response and takes it out of the buffer (caller frees). */
static char *client_response_of(struct client *c, bool head_only)
{
	long long deadline = now_ms() + WAIT_MS;
	size_t len;
	while ((len = response_length(c, head_only)) == 0) {
		cr_assert(!c->closed, "closed before a response; got \"%s\"", c->buf);
		cr_assert_lt(now_ms(), deadline, "no response; got \"%s\"", c->buf);
		client_receive(c);
	}
	char *response = strndup(c->buf, len);
	cr_assert_not_null(response);
	memmove(c->buf, c->buf + len, c->len - len + 1);
	c->len -= len;
	return response;
}

static char *client_response(struct client *c)
{
	return client_response_of(c, false);
}

static void client_wait_closed(struct client *c)
{
	long long deadline = now_ms() + WAIT_MS;
	while (!c->closed) {
		cr_assert_lt(now_ms(), deadline, "connection still open");
		client_receive(c);
	}
}

static bool has_header(const char *response, const char *line)
{
	const char *end = strstr(response, "\r\n\r\n");
	const char *found = strstr(response, line);
	return found != NULL && found < end && found[-1] == '\n' && found[strlen(line)] == '\r';
}

/* Checks the status line and the body of a response, and frees it. */
static void expect_response(char *response, const char *status_line, const char *body)
{
	size_t line_len = strcspn(response, "\r");
	cr_expect(strlen(status_line) == line_len && strncmp(response, status_line, line_len) == 0,
	          "status \"%.*s\", wanted \"%s\"", (int)line_len, response, status_line);
	const char *end = strstr(response, "\r\n\r\n");
	cr_expect_str_eq(end + 4, body);
	free(response);
}

static void expect_json_error(struct client *c, const char *status_line, const char *code)
{
	char *response = client_response(c);
	cr_expect(has_header(response, "Content-Type: application/json"));
	cr_expect(has_header(response, "Connection: close"));
	char body[128];
	snprintf(body, sizeof(body), "{\"error\":\"%s\"}", code);
	expect_response(response, status_line, body);
	client_wait_closed(c);
}

/* --- Route handlers --- */

static void reply(void *self, struct exposr_http_request *req)
{
	static const struct exposr_http_header headers[] = {{"Content-Type", "text/plain"},
	                                                    {NULL, NULL}};
	const char *text = self;
	http_api.respond(req, 200, headers, text, strlen(text));
}

static void echo_target(void *self, struct exposr_http_request *req)
{
	(void)self;
	http_api.respond(req, 200, NULL, req->target, strlen(req->target));
}

static void echo_body(void *self, struct exposr_http_request *req)
{
	(void)self;
	http_api.respond(req, 200, NULL, req->body, req->body_len);
}

static int match_calls;

static bool match_never(void *self, const struct exposr_http_request *req)
{
	(void)self;
	(void)req;
	match_calls++;
	return false;
}

static bool match_path(void *self, const struct exposr_http_request *req)
{
	return strcmp(req->path, (const char *)self) == 0;
}

static int declines;

static void decline_now(void *self, struct exposr_http_request *req)
{
	(void)self;
	declines++;
	http_api.decline(req);
}

static void decline_later_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	declines++;
	http_api.decline(arg);
}

static void decline_later(void *self, struct exposr_http_request *req)
{
	(void)self;
	struct timeval tv = {.tv_sec = 0, .tv_usec = 20000};
	cr_assert_eq(event_base_once(base, -1, EV_TIMEOUT, decline_later_cb, req, &tv), 0);
}

static void get(struct client *c, const char *target)
{
	char request[256];
	snprintf(request, sizeof(request), "GET %s HTTP/1.1\r\nHost: test\r\n\r\n", target);
	client_send(c, request);
}

/* --- Routing --- */

Test(http_listener, routes_by_ascending_priority_then_insertion)
{
	add_route("late", 20, 0, NULL, reply, "late");
	add_route("early", 10, 0, NULL, reply, "early");
	add_route("same", 10, 0, NULL, reply, "same");
	start();
	struct client c;
	client_open(&c);
	get(&c, "/");
	expect_response(client_response(&c), "HTTP/1.1 200 OK", "early");
	client_close(&c);
}

Test(http_listener, route_whose_match_fails_is_skipped)
{
	add_route("picky", 1, 0, match_never, reply, "picky");
	add_route("fallback", 2, 0, NULL, reply, "fallback");
	start();
	struct client c;
	client_open(&c);
	get(&c, "/");
	expect_response(client_response(&c), "HTTP/1.1 200 OK", "fallback");
	cr_expect_eq(match_calls, 1);
	client_close(&c);
}

Test(http_listener, declined_request_goes_to_next_route)
{
	add_route("decliner", 1, 0, NULL, decline_now, NULL);
	add_route("next", 2, 0, NULL, reply, "next");
	start();
	struct client c;
	client_open(&c);
	get(&c, "/");
	expect_response(client_response(&c), "HTTP/1.1 200 OK", "next");
	cr_expect_eq(declines, 1);
	client_close(&c);
}

Test(http_listener, decline_from_a_timer_goes_to_next_route)
{
	add_route("later", 1, 0, NULL, decline_later, NULL);
	add_route("also-later", 2, 0, NULL, decline_later, NULL);
	add_route("next", 3, 0, NULL, reply, "next");
	start();
	struct client c;
	client_open(&c);
	get(&c, "/");
	expect_response(client_response(&c), "HTTP/1.1 200 OK", "next");
	cr_expect_eq(declines, 2);
	client_close(&c);
}

Test(http_listener, no_route_answers_404_json_and_keeps_the_connection)
{
	add_route("picky", 1, 0, match_never, reply, "picky");
	start();
	struct client c;
	client_open(&c);
	for (int i = 0; i < 2; i++) {
		get(&c, "/nothing");
		char *response = client_response(&c);
		cr_expect(has_header(response, "Content-Type: application/json"));
		cr_expect(has_header(response, "Content-Length: 21"));
		cr_expect(!has_header(response, "Connection: close"));
		expect_response(response, "HTTP/1.1 404 Not Found", "{\"error\":\"NOT_FOUND\"}");
	}
	client_close(&c);
}

Test(http_listener, route_add_rejects_bad_routes_and_remove_module_undoes)
{
	struct exposr_module_handle *mod_a = (struct exposr_module_handle *)0x1;
	struct exposr_module_handle *mod_b = (struct exposr_module_handle *)0x2;
	struct exposr_http_route no_handler = {.name = "x", .port = 0};
	cr_expect_eq(http_route_add(mod_a, &no_handler), EXPOSR_ERROR);
	struct exposr_http_route bad_port = {.name = "x", .port = -1, .handle = reply};
	cr_expect_eq(http_route_add(mod_a, &bad_port), EXPOSR_ERROR);
	struct exposr_http_route a1 = {.name = "a1", .priority = 1, .handle = reply, .self = "a1"};
	struct exposr_http_route a2 = {.name = "a2", .priority = 3, .handle = reply, .self = "a2"};
	struct exposr_http_route b = {.name = "b", .priority = 2, .handle = reply, .self = "b"};
	cr_assert_eq(http_route_add(mod_a, &a1), EXPOSR_OK);
	cr_assert_eq(http_route_add(mod_b, &b), EXPOSR_OK);
	cr_assert_eq(http_route_add(mod_a, &a2), EXPOSR_OK);
	http_routes_remove_module(mod_a);
	start();
	struct client c;
	client_open(&c);
	get(&c, "/");
	expect_response(client_response(&c), "HTTP/1.1 200 OK", "b");
	client_close(&c);
}

/* --- Connections --- */

Test(http_listener, keep_alive_serves_two_requests_on_one_connection)
{
	add_route("echo", 1, 0, NULL, echo_target, NULL);
	start();
	struct client c;
	client_open(&c);
	get(&c, "/one");
	char *response = client_response(&c);
	cr_expect(!has_header(response, "Connection: close"));
	cr_expect(!has_header(response, "Connection: keep-alive"));
	cr_expect(has_header(response, "Content-Length: 4"));
	/* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" */
	const char *date = strstr(response, "\r\nDate: ");
	cr_assert_not_null(date);
	char weekday[4], month[4], zone[4];
	int day, year, hour, minute, second;
	cr_expect_eq(sscanf(date + 8, "%3s, %d %3s %d %d:%d:%d %3s", weekday, &day, month, &year,
	                    &hour, &minute, &second, zone),
	             8);
	cr_expect_eq(strcspn(date + 8, "\r"), 29);
	cr_expect_str_eq(zone, "GMT");
	expect_response(response, "HTTP/1.1 200 OK", "/one");
	get(&c, "/two?x=1");
	expect_response(client_response(&c), "HTTP/1.1 200 OK", "/two?x=1");
	client_close(&c);
}

Test(http_listener, pipelined_requests_are_answered_in_order)
{
	add_route("later", 1, 0, match_path, decline_later, "/a");
	add_route("echo", 2, 0, NULL, echo_target, NULL);
	start();
	struct client c;
	client_open(&c);
	/* The first one is slow (declined from a timer): the second must still wait. */
	client_send(&c, "GET /a HTTP/1.1\r\nHost: t\r\n\r\nGET /b HTTP/1.1\r\nHost: t\r\n\r\n"
	                "GET /c HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
	expect_response(client_response(&c), "HTTP/1.1 200 OK", "/a");
	expect_response(client_response(&c), "HTTP/1.1 200 OK", "/b");
	char *last = client_response(&c);
	cr_expect(has_header(last, "Connection: close"));
	expect_response(last, "HTTP/1.1 200 OK", "/c");
	client_wait_closed(&c);
	client_close(&c);
}

Test(http_listener, http10_closes_after_the_response)
{
	add_route("hello", 1, 0, NULL, reply, "hello");
	start();
	struct client c;
	client_open(&c);
	client_send(&c, "GET / HTTP/1.0\r\n\r\n");
	char *response = client_response(&c);
	cr_expect(has_header(response, "Connection: close"));
	expect_response(response, "HTTP/1.1 200 OK", "hello");
	client_wait_closed(&c);
	client_close(&c);
}

Test(http_listener, http10_keep_alive_is_announced_and_kept)
{
	add_route("hello", 1, 0, NULL, reply, "hello");
	start();
	struct client c;
	client_open(&c);
	for (int i = 0; i < 2; i++) {
		client_send(&c, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
		char *response = client_response(&c);
		cr_expect(has_header(response, "Connection: keep-alive"));
		expect_response(response, "HTTP/1.1 200 OK", "hello");
	}
	client_close(&c);
}

Test(http_listener, head_request_gets_no_body)
{
	add_route("hello", 1, 0, NULL, reply, "hello");
	start();
	struct client c;
	client_open(&c);
	client_send(&c, "HEAD / HTTP/1.1\r\nHost: t\r\n\r\nGET / HTTP/1.1\r\nHost: t\r\n\r\n");
	char *response = client_response_of(&c, true);
	cr_expect(has_header(response, "Content-Length: 5"));
	expect_response(response, "HTTP/1.1 200 OK", "");
	/* No stray body bytes: the next response starts right away. */
	expect_response(client_response(&c), "HTTP/1.1 200 OK", "hello");
	client_close(&c);
}

Test(http_listener, idle_keep_alive_connection_is_closed_silently)
{
	add_route("hello", 1, 0, NULL, reply, "hello");
	start();
	struct client c;
	client_open(&c);
	get(&c, "/");
	expect_response(client_response(&c), "HTTP/1.1 200 OK", "hello");
	long long answered = now_ms();
	client_wait_closed(&c);
	cr_expect_geq(now_ms() - answered, (long long)test_limits.idle_timeout_ms - 50);
	cr_expect_eq(c.len, 0, "unexpected bytes: %s", c.buf);
	client_close(&c);
}

Test(http_listener, unread_body_is_skipped_before_the_next_request)
{
	add_route("echo", 1, 0, NULL, echo_target, NULL);
	start();
	struct client c;
	client_open(&c);
	client_send(&c, "POST /first HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nabcde"
	                "GET /second HTTP/1.1\r\nHost: t\r\n\r\n");
	expect_response(client_response(&c), "HTTP/1.1 200 OK", "/first");
	expect_response(client_response(&c), "HTTP/1.1 200 OK", "/second");
	client_close(&c);
}

/* --- Request fields --- */

struct seen {
	char method[16], target[64], path[64], query[64], host[64], padded[64], empty[8];
	char remote_addr[64], head_raw[512];
	int remote_port, local_port, http_major, http_minor;
	bool keep_alive, upgrade, has_missing;
	size_t header_count;
};
static struct seen seen;

static void record(void *self, struct exposr_http_request *req)
{
	(void)self;
	snprintf(seen.method, sizeof(seen.method), "%s", req->method);
	snprintf(seen.target, sizeof(seen.target), "%s", req->target);
	snprintf(seen.path, sizeof(seen.path), "%s", req->path);
	snprintf(seen.query, sizeof(seen.query), "%s", req->query);
	snprintf(seen.host, sizeof(seen.host), "%s", http_api.header(req, "HOST"));
	snprintf(seen.padded, sizeof(seen.padded), "%s", http_api.header(req, "x-padded"));
	snprintf(seen.empty, sizeof(seen.empty), "%s", http_api.header(req, "X-Empty"));
	snprintf(seen.remote_addr, sizeof(seen.remote_addr), "%s", req->remote_addr);
	snprintf(seen.head_raw, sizeof(seen.head_raw), "%.*s", (int)req->head_raw_len,
	         req->head_raw);
	seen.has_missing = http_api.header(req, "X-Missing") != NULL;
	seen.remote_port = req->remote_port;
	seen.local_port = req->local_port;
	seen.http_major = req->http_major;
	seen.http_minor = req->http_minor;
	seen.keep_alive = req->keep_alive;
	seen.upgrade = req->upgrade;
	seen.header_count = req->header_count;
	http_api.respond(req, 204, NULL, NULL, 0);
}

Test(http_listener, request_fields_are_parsed)
{
	add_route("record", 1, 0, NULL, record, NULL);
	start();
	struct client c;
	client_open(&c);
	const char *head = "GET /p/a?x=1&y=2 HTTP/1.1\r\nhost: example.test\r\n"
	                   "X-Padded: \t padded  value \t\r\nX-Empty:\r\n\r\n";
	client_send(&c, head);
	char *response = client_response(&c);
	cr_expect(!has_header(response, "Content-Length: 0"), "no Content-Length on a 204");
	expect_response(response, "HTTP/1.1 204 No Content", "");
	struct sockaddr_in local;
	socklen_t local_len = sizeof(local);
	cr_assert_eq(getsockname(c.fd, (struct sockaddr *)&local, &local_len), 0);
	cr_expect_str_eq(seen.method, "GET");
	cr_expect_str_eq(seen.target, "/p/a?x=1&y=2");
	cr_expect_str_eq(seen.path, "/p/a");
	cr_expect_str_eq(seen.query, "x=1&y=2");
	cr_expect_str_eq(seen.host, "example.test");
	cr_expect_str_eq(seen.padded, "padded  value");
	cr_expect_str_eq(seen.empty, "");
	cr_expect_not(seen.has_missing);
	cr_expect_eq(seen.header_count, 3);
	cr_expect_str_eq(seen.remote_addr, "127.0.0.1");
	cr_expect_eq(seen.remote_port, ntohs(local.sin_port));
	cr_expect_eq(seen.local_port, port);
	cr_expect_eq(seen.http_major, 1);
	cr_expect_eq(seen.http_minor, 1);
	cr_expect(seen.keep_alive);
	cr_expect_not(seen.upgrade);
	cr_expect_str_eq(seen.head_raw, head);
	client_close(&c);
}

Test(http_listener, request_without_host_reaches_the_routes)
{
	add_route("record", 1, 0, NULL, record, NULL);
	start();
	struct client c;
	client_open(&c);
	client_send(&c, "\r\nGET / HTTP/1.1\r\n\r\n");
	expect_response(client_response(&c), "HTTP/1.1 204 No Content", "");
	cr_expect_eq(seen.header_count, 0);
	/* The empty line before the request line is not part of the head. */
	cr_expect_str_eq(seen.head_raw, "GET / HTTP/1.1\r\n\r\n");
	client_close(&c);
}

/* --- Bodies --- */

/* Every byte its own segment, read by the server before the next one is sent (mostly). */
static void client_send_bytewise(struct client *c, const char *data)
{
	int one = 1;
	cr_assert_eq(setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)), 0);
	for (size_t i = 0; data[i] != '\0'; i++) {
		cr_assert_eq(send(c->fd, data + i, 1, 0), 1);
		event_base_loop(base, EVLOOP_NONBLOCK);
	}
}

Test(http_listener, requests_split_into_single_bytes)
{
	add_route("record", 1, 0, match_path, record, "/r");
	add_route("echo-body", 2, 64, NULL, echo_body, NULL);
	start();
	struct client c;
	client_open(&c);
	const char *head = "GET /r?q HTTP/1.1\r\nHost: bytes.test\r\nX-Padded:  a b  \r\n\r\n";
	client_send_bytewise(&c, head);
	expect_response(client_response(&c), "HTTP/1.1 204 No Content", "");
	cr_expect_str_eq(seen.head_raw, head);
	cr_expect_str_eq(seen.host, "bytes.test");
	cr_expect_str_eq(seen.padded, "a b");
	cr_expect_str_eq(seen.query, "q");
	client_send_bytewise(&c, "POST /b HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
	                         "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n");
	expect_response(client_response(&c), "HTTP/1.1 200 OK", "abcde");
	client_close(&c);
}

Test(http_listener, body_route_gets_a_content_length_body)
{
	add_route("echo-body", 1, 64, NULL, echo_body, NULL);
	start();
	struct client c;
	client_open(&c);
	client_send(&c, "POST /b HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\nhello");
	client_send(&c, " world");
	expect_response(client_response(&c), "HTTP/1.1 200 OK", "hello world");
	client_close(&c);
}

Test(http_listener, body_route_gets_a_chunked_body)
{
	add_route("echo-body", 1, 64, NULL, echo_body, NULL);
	start();
	struct client c;
	client_open(&c);
	client_send(&c, "POST /b HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
	                "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
	                "POST /b HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nok");
	expect_response(client_response(&c), "HTTP/1.1 200 OK", "hello world");
	expect_response(client_response(&c), "HTTP/1.1 200 OK", "ok");
	client_close(&c);
}

Test(http_listener, chunked_trailers_are_skipped)
{
	add_route("upload", 1, 64, match_path, echo_body, "/upload");
	add_route("echo", 2, 0, NULL, echo_target, NULL);
	start();
	struct client c;
	client_open(&c);
	/* Once read into memory, once skipped after an early answer. */
	client_send(&c, "POST /upload HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
	                "2\r\nab\r\n0\r\nX-Trailer: one\r\nX-Other: two\r\n\r\n"
	                "POST /skip HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
	                "2\r\nab\r\n0\r\nX-Trailer: one\r\n\r\n"
	                "GET /last HTTP/1.1\r\n\r\n");
	expect_response(client_response(&c), "HTTP/1.1 200 OK", "ab");
	expect_response(client_response(&c), "HTTP/1.1 200 OK", "/skip");
	expect_response(client_response(&c), "HTTP/1.1 200 OK", "/last");
	client_close(&c);
}

Test(http_listener, expect_100_continue_is_answered_before_the_body)
{
	add_route("echo-body", 1, 64, NULL, echo_body, NULL);
	start();
	struct client c;
	client_open(&c);
	client_send(&c, "POST /b HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n"
	                "Expect: 100-continue\r\n\r\n");
	expect_response(client_response_of(&c, true), "HTTP/1.1 100 Continue", "");
	client_send(&c, "data");
	expect_response(client_response(&c), "HTTP/1.1 200 OK", "data");
	client_close(&c);
}

Test(http_listener, body_over_max_body_is_413)
{
	add_route("echo-body", 1, 16, NULL, echo_body, NULL);
	start();
	struct client c;
	client_open(&c);
	client_send(&c, "POST /b HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n"
	                "0123456789012345678901234567890123456789012345678901234567890123456789"
	                "012345678901234567890123456789");
	expect_json_error(&c, "HTTP/1.1 413 Payload Too Large", "PAYLOAD_TOO_LARGE");
	client_close(&c);
}

static struct bufferevent *taken;
static struct exposr_http_request *taken_req;
static size_t input_at_takeover;

static void taken_readable(struct bufferevent *bev, void *arg)
{
	(void)arg;
	struct evbuffer *input = bufferevent_get_input(bev);
	if (evbuffer_get_length(input) < 5)
		return;
	/* The request is still readable after the takeover. */
	char answer[64];
	int len = snprintf(answer, sizeof(answer), "GOT %.5s %s upgrade=%d",
	                   (const char *)evbuffer_pullup(input, 5), taken_req->path,
	                   taken_req->upgrade);
	cr_assert_eq(bufferevent_write(bev, answer, (size_t)len), 0);
	evbuffer_drain(input, 5);
	http_api.release(taken_req);
	taken_req = NULL;
}

static void taken_written(struct bufferevent *bev, void *arg)
{
	(void)arg;
	bufferevent_free(bev);
	taken = NULL;
}

static void take_over(void *self, struct exposr_http_request *req)
{
	(void)self;
	taken_req = req;
	taken = http_api.takeover(req);
	cr_assert_not_null(taken);
	input_at_takeover = evbuffer_get_length(bufferevent_get_input(taken));
	bufferevent_setcb(taken, taken_readable, taken_written, NULL, NULL);
	cr_assert_eq(bufferevent_enable(taken, EV_READ | EV_WRITE), 0);
	taken_readable(taken, NULL);
}

Test(http_listener, takeover_leaves_the_bytes_after_the_head)
{
	add_route("ws", 1, 0, match_path, take_over, "/ws");
	add_route("api", 2, 64, NULL, echo_body, NULL);
	start();
	struct client c;
	client_open(&c);
	client_send(&c, "GET /ws HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\n"
	                "Upgrade: test\r\n\r\nHELLO");
	long long deadline = now_ms() + WAIT_MS;
	while (c.len < strlen("GOT HELLO /ws upgrade=1")) {
		cr_assert_lt(now_ms(), deadline, "got \"%s\"", c.buf);
		client_receive(&c);
	}
	cr_expect_str_eq(c.buf, "GOT HELLO /ws upgrade=1");
	cr_expect_eq(input_at_takeover, 5);
	client_wait_closed(&c);
	client_close(&c);
}

Test(http_listener, takeover_route_after_a_body_was_read_is_500)
{
	add_route("api", 1, 64, NULL, decline_now, NULL);
	add_route("ws", 2, 0, NULL, take_over, NULL);
	start();
	struct client c;
	client_open(&c);
	client_send(&c, "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nab");
	expect_json_error(&c, "HTTP/1.1 500 Internal Server Error", "INTERNAL_ERROR");
	cr_expect_null(taken);
	client_close(&c);
}

/* --- Forwarded connections --- */

/* The "target": the far end of a socket pair whose near end is the stream the listener
 * carries the connection through. */
static struct client target;
static struct exposr_http_forward *forwarded;
static int forward_done_calls;
static int upgraded_calls;

static int forward_write_head(void *ctx, const struct exposr_http_request *req,
                              struct evbuffer *out)
{
	(void)ctx;
	if (evbuffer_add_printf(out, "%s %s HTTP/1.1\r\nX-Forwarded: yes\r\n", req->method,
	                        req->target) < 0)
		return EXPOSR_ERROR;
	for (size_t i = 0; i < req->header_count; i++)
		if (evbuffer_add_printf(out, "%s: %s\r\n", req->headers[i].name,
		                        req->headers[i].value) < 0)
			return EXPOSR_ERROR;
	return evbuffer_add(out, "\r\n", 2) == 0 ? EXPOSR_OK : EXPOSR_ERROR;
}

static int forward_check_host(void *ctx, const struct exposr_http_request *req, const char **code)
{
	(void)ctx;
	const char *host = http_api.header(req, "Host");
	if (host != NULL && strcmp(host, "t") == 0)
		return 0;
	*code = "MISDIRECTED_REQUEST";
	return 421;
}

static void forward_upgraded(void *ctx, struct exposr_stream *client, struct exposr_stream *stream)
{
	(void)ctx;
	upgraded_calls++;
	client->vt->close(client);
	stream->vt->close(stream);
}

static void forward_done(void *ctx)
{
	cr_expect_eq(ctx, &target, "done() gets the handler's context");
	forward_done_calls++;
	forwarded = NULL;
}

static const struct exposr_http_forward_hooks forward_hooks = {
        .check = forward_check_host,
        .write_head = forward_write_head,
        .upgraded = forward_upgraded,
        .done = forward_done,
};

/* A new socket pair: `target` is its far end, the stream its near end. */
static struct exposr_stream *target_stream(void)
{
	int pair[2];
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, pair), 0);
	memset(&target, 0, sizeof(target));
	target.fd = pair[1];
	struct bufferevent *bev = bufferevent_socket_new(base, pair[0], BEV_OPT_CLOSE_ON_FREE);
	cr_assert_not_null(bev);
	struct exposr_stream *stream = stream_socket_new(bev);
	cr_assert_not_null(stream);
	return stream;
}

static void forward_to_target(void *self, struct exposr_http_request *req)
{
	(void)self;
	struct exposr_stream *stream = target_stream();
	const struct exposr_http_forward_options options = {.label = "test",
	                                                    .stream_error_code = "TEST_RESET"};
	forwarded = http_api.forward(req, stream, &options, &forward_hooks, &target);
}

/* A handler whose hooks lack the mandatory write_head. */
static void forward_without_write_head(void *self, struct exposr_http_request *req)
{
	(void)self;
	static const struct exposr_http_forward_hooks incomplete = {.done = forward_done};
	struct exposr_stream *stream = target_stream();
	forwarded = http_api.forward(req, stream, NULL, &incomplete, &target);
}

static void start_forwarding(struct client *c)
{
	forwarded = NULL;
	forward_done_calls = 0;
	upgraded_calls = 0;
	add_route("proxy", 1, 0, NULL, forward_to_target, NULL);
	start();
	client_open(c);
}

/* Waits until the target has received `want` exactly, and empties its buffer. */
static void target_expect(const char *want)
{
	long long deadline = now_ms() + WAIT_MS;
	while (target.len < strlen(want) && !target.closed) {
		cr_assert_lt(now_ms(), deadline, "target got \"%s\", wanted \"%s\"", target.buf,
		             want);
		client_receive(&target);
	}
	cr_expect_str_eq(target.buf, want);
	target.len = 0;
	target.buf[0] = '\0';
}

static void target_send(const char *data)
{
	size_t len = strlen(data);
	cr_assert_eq(send(target.fd, data, len, 0), (ssize_t)len);
}

Test(http_listener, forward_carries_pipelined_requests_and_their_responses)
{
	struct client c;
	start_forwarding(&c);
	client_send(&c, "POST /a HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc"
	                "GET /b HTTP/1.1\r\nHost: t\r\n\r\n");
	target_expect("POST /a HTTP/1.1\r\nX-Forwarded: yes\r\nHost: t\r\nContent-Length: 3\r\n\r\n"
	              "abcGET /b HTTP/1.1\r\nX-Forwarded: yes\r\nHost: t\r\n\r\n");
	cr_assert_not_null(forwarded);
	target_send("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
	            "HTTP/1.1 201 Created\r\nContent-Length: 3\r\n\r\nnew");
	expect_response(client_response(&c), "HTTP/1.1 200 OK", "ok");
	expect_response(client_response(&c), "HTTP/1.1 201 Created", "new");
	/* Kept alive: a third request goes the same way. */
	client_send(&c, "GET /c HTTP/1.1\r\nHost: t\r\n\r\n");
	target_expect("GET /c HTTP/1.1\r\nX-Forwarded: yes\r\nHost: t\r\n\r\n");
	target_send("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nc");
	expect_response(client_response(&c), "HTTP/1.1 200 OK", "c");
	cr_expect_eq(forward_done_calls, 0);
	/* Nothing in flight: the client's leaving ends it. */
	client_close(&c);
	long long deadline = now_ms() + WAIT_MS;
	while (forward_done_calls == 0) {
		cr_assert_lt(now_ms(), deadline, "done() was not called after the client left");
		pump();
	}
	cr_expect_eq(forward_done_calls, 1);
	client_wait_closed(&target);
	close(target.fd);
}

Test(http_listener, forward_refuses_a_later_request_the_handler_refuses)
{
	struct client c;
	start_forwarding(&c);
	client_send(&c, "GET /a HTTP/1.1\r\nHost: t\r\n\r\nGET /b HTTP/1.1\r\nHost: other\r\n\r\n");
	target_expect("GET /a HTTP/1.1\r\nX-Forwarded: yes\r\nHost: t\r\n\r\n");
	/* The refusal waits for the answer to the request before it. */
	target_send("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
	expect_response(client_response(&c), "HTTP/1.1 200 OK", "ok");
	expect_json_error(&c, "HTTP/1.1 421 Misdirected Request", "MISDIRECTED_REQUEST");
	cr_expect_eq(forward_done_calls, 1);
	cr_expect_str_eq(target.buf, "", "the refused request never reached the target");
	client_close(&c);
	close(target.fd);
}

Test(http_listener, forward_answers_502_when_the_stream_ends_before_a_response)
{
	struct client c;
	start_forwarding(&c);
	client_send(&c, "GET /a HTTP/1.1\r\nHost: t\r\n\r\n");
	target_expect("GET /a HTTP/1.1\r\nX-Forwarded: yes\r\nHost: t\r\n\r\n");
	close(target.fd);
	expect_json_error(&c, "HTTP/1.1 502 Bad Gateway", "TEST_RESET");
	cr_expect_eq(forward_done_calls, 1);
	client_close(&c);
}

Test(http_listener, forward_holds_later_requests_to_the_listener_limits)
{
	struct client c;
	start_forwarding(&c);
	client_send(&c, "GET /a HTTP/1.1\r\nHost: t\r\n\r\n");
	target_expect("GET /a HTTP/1.1\r\nX-Forwarded: yes\r\nHost: t\r\n\r\n");
	target_send("HTTP/1.1 204 No Content\r\n\r\n");
	expect_response(client_response(&c), "HTTP/1.1 204 No Content", "");
	/* test_limits: 8 header fields at most. */
	client_send(&c, "GET /b HTTP/1.1\r\nHost: t\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\n"
	                "F: 6\r\nG: 7\r\nH: 8\r\n\r\n");
	expect_json_error(&c, "HTTP/1.1 431 Request Header Fields Too Large",
	                  "REQUEST_HEADER_FIELDS_TOO_LARGE");
	cr_expect_str_eq(target.buf, "");
	client_close(&c);
	close(target.fd);
}

Test(http_listener, forward_hands_an_upgrade_to_the_handler)
{
	struct client c;
	start_forwarding(&c);
	client_send(&c,
	            "GET /ws HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: test\r\n\r\n");
	target_expect("GET /ws HTTP/1.1\r\nX-Forwarded: yes\r\nHost: t\r\nConnection: Upgrade\r\n"
	              "Upgrade: test\r\n\r\n");
	cr_expect_eq(upgraded_calls, 1);
	/* The first request was the upgrade: forward() returned no handle, and no done(). */
	cr_expect_null(forwarded);
	cr_expect_eq(forward_done_calls, 0);
	client_wait_closed(&c);
	client_close(&c);
	close(target.fd);
}

Test(http_listener, forward_without_its_mandatory_hooks_is_500)
{
	forward_done_calls = 0;
	add_route("proxy", 1, 0, NULL, forward_without_write_head, NULL);
	start();
	struct client c;
	client_open(&c);
	client_send(&c, "GET /a HTTP/1.1\r\nHost: t\r\n\r\n");
	expect_json_error(&c, "HTTP/1.1 500 Internal Server Error", "INTERNAL_ERROR");
	cr_expect_null(forwarded);
	cr_expect_eq(forward_done_calls, 0);
	/* The stream it was given is closed, nothing written to it. */
	client_wait_closed(&target);
	cr_expect_str_eq(target.buf, "");
	client_close(&c);
	close(target.fd);
}

Test(http_listener, format_error_writes_the_listener_answer)
{
	struct evbuffer *out = evbuffer_new();
	cr_assert_not_null(out);
	cr_assert_eq(http_format_error(out, 408, NULL, true), EXPOSR_OK);
	size_t len = evbuffer_get_length(out);
	char text[512];
	cr_assert_lt(len, sizeof(text));
	cr_assert_eq(evbuffer_remove(out, text, len), (int)len);
	text[len] = '\0';
	cr_expect_eq(strncmp(text, "HTTP/1.1 408 Request Timeout\r\n", 30), 0, "%s", text);
	/* HEAD: the length of {"error":"REQUEST_TIMEOUT"}, and no body. */
	cr_expect_not_null(strstr(text, "\r\nContent-Length: 27\r\nDate: "), "%s", text);
	cr_expect_not_null(strstr(text, "\r\nConnection: close\r\n\r\n"), "%s", text);
	cr_expect_eq(text[len - 1], '\n', "%s", text);
	evbuffer_free(out);
}

/* --- Limits and errors --- */

Test(http_listener, head_over_max_head_bytes_is_431)
{
	add_route("hello", 1, 0, NULL, reply, "hello");
	start();
	struct client c;
	client_open(&c);
	char request[2048];
	snprintf(request, sizeof(request), "GET / HTTP/1.1\r\nHost: t\r\nX-Big: %01500d\r\n\r\n",
	         0);
	client_send(&c, request);
	expect_json_error(&c, "HTTP/1.1 431 Request Header Fields Too Large",
	                  "REQUEST_HEADER_FIELDS_TOO_LARGE");
	client_close(&c);
}

Test(http_listener, head_of_exactly_max_head_bytes_is_accepted)
{
	add_route("hello", 1, 0, NULL, reply, "hello");
	start();
	char request[2048];
	const char *prefix = "GET / HTTP/1.1\r\nX: ";
	size_t fill = test_limits.max_head_bytes - strlen(prefix) - 4;
	snprintf(request, sizeof(request), "%s%0*d\r\n\r\n", prefix, (int)fill, 0);
	cr_assert_eq(strlen(request), test_limits.max_head_bytes);
	struct client c;
	client_open(&c);
	client_send(&c, request);
	expect_response(client_response(&c), "HTTP/1.1 200 OK", "hello");
	client_close(&c);
}

Test(http_listener, too_many_headers_is_431)
{
	add_route("hello", 1, 0, NULL, reply, "hello");
	start();
	struct client c;
	client_open(&c);
	client_send(&c, "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\nF: 6\r\nG: 7\r\n"
	                "H: 8\r\nI: 9\r\n\r\n");
	expect_json_error(&c, "HTTP/1.1 431 Request Header Fields Too Large",
	                  "REQUEST_HEADER_FIELDS_TOO_LARGE");
	client_close(&c);
}

Test(http_listener, incomplete_head_times_out_with_408)
{
	add_route("hello", 1, 0, NULL, reply, "hello");
	start();
	struct client c;
	client_open(&c);
	long long started = now_ms();
	client_send(&c, "GET / HTTP/1.1\r\nHost: t\r\n");
	expect_json_error(&c, "HTTP/1.1 408 Request Timeout", "REQUEST_TIMEOUT");
	cr_expect_geq(now_ms() - started, (long long)test_limits.head_timeout_ms - 50);
	client_close(&c);
}

Test(http_listener, malformed_request_is_400_and_the_listener_goes_on)
{
	add_route("hello", 1, 0, NULL, reply, "hello");
	start();
	struct client bad;
	client_open(&bad);
	client_send(&bad, "GET / HTTP/1.1\r\nBad Header\r\n\r\n");
	expect_json_error(&bad, "HTTP/1.1 400 Bad Request", "BAD_REQUEST");
	client_close(&bad);
	struct client good;
	client_open(&good);
	get(&good, "/");
	expect_response(client_response(&good), "HTTP/1.1 200 OK", "hello");
	client_close(&good);
}

/* Heads a target behind exposrd could frame otherwise (issue: one strict reading). */
static const char *const ambiguous_requests[] = {
        "GET / HTTP/1.1\r\nHost: t\r\nX-Folded: a\r\n b\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\t\r\n\r\n0\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked \r\n\r\n0\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding:  chunked\r\n\r\n0\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3 \r\n\r\nabc",
        "POST / HTTP/1.1\r\nHost: t\r\nContent-Length:\t3\r\n\r\nabc",
        "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcXY0\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: t\r\nX A: b\r\n\r\n",
        "GET /\r\nHost: t\r\n\r\n",
        "POST /\nTransfer-Encoding:chunked\r\n \r\n\n",
};

Test(http_listener, ambiguous_framing_is_400_before_any_route_sees_it)
{
	add_route("record", 1, 64, NULL, record, NULL);
	start();
	for (size_t i = 0; i < sizeof(ambiguous_requests) / sizeof(ambiguous_requests[0]); i++) {
		struct client c;
		client_open(&c);
		client_send(&c, ambiguous_requests[i]);
		expect_json_error(&c, "HTTP/1.1 400 Bad Request", "BAD_REQUEST");
		client_close(&c);
		cr_assert_eq(seen.head_raw[0], '\0', "a route saw %s", ambiguous_requests[i]);
	}
	/* The same requests written plainly go through. */
	struct client c;
	client_open(&c);
	client_send(&c, "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc");
	expect_response(client_response(&c), "HTTP/1.1 204 No Content", "");
	cr_assert_str_eq(seen.method, "POST");
	client_close(&c);
}

/* --- Asynchronous handlers and teardown --- */

static struct exposr_http_request *held;
static bool answered;

static void answer_later_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	http_api.respond(held, 200, NULL, "late", 4);
	held = NULL;
	answered = true;
}

static void answer_later(void *self, struct exposr_http_request *req)
{
	struct timeval tv = {.tv_sec = 0, .tv_usec = 1000 * (int)(intptr_t)self};
	held = req;
	cr_assert_eq(event_base_once(base, -1, EV_TIMEOUT, answer_later_cb, NULL, &tv), 0);
}

Test(http_listener, client_leaving_during_an_async_handler_is_harmless)
{
	add_route("slow", 1, 0, NULL, answer_later, (void *)(intptr_t)50);
	start();
	struct client c;
	client_open(&c);
	get(&c, "/");
	/* Let the server read the request, then leave before the answer. */
	long long deadline = now_ms() + WAIT_MS;
	while (held == NULL) {
		cr_assert_lt(now_ms(), deadline, "the request never reached the route");
		pump();
	}
	client_close(&c);
	while (!answered) {
		cr_assert_lt(now_ms(), deadline, "the late answer was never given");
		pump();
	}
	/* A second client is still served. */
	client_open(&c);
	get(&c, "/");
	expect_response(client_response(&c), "HTTP/1.1 200 OK", "late");
	client_close(&c);
}

Test(http_listener, request_held_when_listeners_are_freed_can_still_be_answered)
{
	add_route("slow", 1, 0, NULL, answer_later, (void *)(intptr_t)10000);
	start();
	struct client c;
	client_open(&c);
	get(&c, "/");
	long long deadline = now_ms() + WAIT_MS;
	while (held == NULL) {
		cr_assert_lt(now_ms(), deadline, "the request never reached the route");
		pump();
	}
	http_listeners_free();
	http_api.respond(held, 200, NULL, "late", 4); /* discarded, nothing leaks */
	held = NULL;
	client_wait_closed(&c);
	cr_expect_eq(c.len, 0);
	client_close(&c);
}

Test(http_listener, stop_accepting_keeps_open_connections)
{
	add_route("hello", 1, 0, NULL, reply, "hello");
	start();
	struct client c;
	client_open(&c);
	get(&c, "/");
	expect_response(client_response(&c), "HTTP/1.1 200 OK", "hello");
	http_listeners_stop_accepting();
	get(&c, "/");
	expect_response(client_response(&c), "HTTP/1.1 200 OK", "hello");
	client_close(&c);
}

Test(http_listener, port_in_use_fails_with_one_log_line)
{
	int blocker = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in addr = {.sin_family = AF_INET,
	                           .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	cr_assert_eq(bind(blocker, (struct sockaddr *)&addr, sizeof(addr)), 0);
	cr_assert_eq(listen(blocker, 1), 0);
	socklen_t len = sizeof(addr);
	cr_assert_eq(getsockname(blocker, (struct sockaddr *)&addr, &len), 0);
	int taken_port = ntohs(addr.sin_port);
	struct exposr_http_route route = {.name = "busy", .port = taken_port, .handle = reply};
	cr_assert_eq(http_route_add(NULL, &route), EXPOSR_OK);
	log_configure(EXPOSR_LOG_ERROR, LOG_FORMAT_TEXT);
	FILE *tmp;
	int saved = capture_begin(&tmp);
	int rc = http_listeners_open(base, "127.0.0.1", &test_limits);
	char *printed = capture_end(tmp, saved);
	cr_expect_eq(rc, EXPOSR_ERROR);
	char wanted[128];
	snprintf(wanted, sizeof(wanted), "cannot listen on 127.0.0.1:%d: %s", taken_port,
	         strerror(EADDRINUSE));
	cr_expect(strstr(printed, wanted) != NULL, "printed: %s", printed);
	cr_expect_eq(http_listener_bound_port(taken_port), -1);
	free(printed);
	close(blocker);
}

Test(http_listener, all_interfaces_accept_ipv4)
{
	add_route("record", 1, 0, NULL, record, NULL);
	cr_assert_eq(http_listeners_open(base, NULL, &test_limits), EXPOSR_OK);
	port = http_listener_bound_port(0);
	struct client c;
	client_open(&c);
	get(&c, "/");
	expect_response(client_response(&c), "HTTP/1.1 204 No Content", "");
	/* A dual-stack socket sees IPv4 peers as mapped addresses; an IPv4-only one doesn't. */
	cr_expect(strcmp(seen.remote_addr, "::ffff:127.0.0.1") == 0 ||
	                  strcmp(seen.remote_addr, "127.0.0.1") == 0,
	          "remote %s", seen.remote_addr);
	client_close(&c);
}

Test(http_listener, reason_phrases)
{
	cr_expect_str_eq(http_api.reason(404), "Not Found");
	cr_expect_str_eq(http_api.reason(431), "Request Header Fields Too Large");
	cr_expect_str_eq(http_api.reason(508), "Loop Detected");
	cr_expect_eq(http_api.size, sizeof(struct exposr_http_api));
}
