/* The HTTP ingress on any public input: request heads as its parser reads them, and the
 * property that keeps the ingress and the target in step: every head the ingress
 * accepts, once rewritten, parses to the same method, target, version and framing, and
 * the bytes after it make a body of the same length, also when the ingress goes on from
 * the core listener's parser after the first head. Odd inputs drive the response
 * tracker instead, fed in pieces. */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "http_reader.h"
#include "http_response.h"
#include "rewrite.h"
#include "script.h"

#define MAX_HEAD 16384
/* Header fields per head, as the listener allows by default. */
#define MAX_FIELDS 100
/* Headers the rewrite may add (forwarding, via): the re-parse must have room for them. */
#define ADDED_HEADERS 8

static struct http_reader original = {.max_fields = MAX_FIELDS},
                          rewritten = {.max_fields = MAX_FIELDS},
                          continued = {.max_fields = MAX_FIELDS};

/* The core listener's parser settings as far as the hand-over goes: it pauses at the end
 * of a message (core/http_conn.c). */
static int pause_here(llhttp_t *parser)
{
	(void)parser;
	return HPE_PAUSED;
}

static const llhttp_settings_t listener_settings = {.on_message_complete = pause_here};

static void check(bool ok)
{
	if (!ok)
		abort();
}

/* The body's length as `p` measures it in `rest`: bytes taken, and whether it ended. */
static ssize_t body_length(struct http_reader *p, const char *rest, size_t len, bool *done)
{
	*done = http_reader_after_head(p);
	if (*done)
		return 0;
	return http_reader_body(p, rest, len, done);
}

static void fuzz_request(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1);
	check(buf != NULL);
	memcpy(buf, data, size);
	buf[size] = '\0';
	struct exposr_http_header headers[MAX_FIELDS];
	struct exposr_http_request view;
	size_t head_len = 0;
	int status = 0;
	enum http_read r = http_reader_head(&original, buf, size, MAX_HEAD, &view, headers,
	                                    &head_len, &status);
	if (r == HTTP_READ_ERROR)
		check(status == 400 || status == 431);
	if (r != HTTP_READ_HEAD || view.header_count + ADDED_HEADERS > MAX_FIELDS) {
		free(buf);
		return;
	}
	check(head_len <= size);
	struct evbuffer *ahead = evbuffer_new();
	check(ahead != NULL && evbuffer_add(ahead, buf, size) == 0);
	http_reader_body_ahead_ok(&original, ahead, head_len);
	evbuffer_free(ahead);
	view.remote_addr = "192.0.2.1";
	struct ingress_target target = {.rewrite = true, .scheme = "http", .port = "8080"};
	memcpy(target.hostname, "target.test", sizeof("target.test"));
	struct rewrite_context ctx = {.node_id = "0123456789abcdef0123456789abcdef01234567",
	                              .peer_addr = "192.0.2.1",
	                              .local = true,
	                              .target = &target};
	struct evbuffer *out = evbuffer_new();
	check(out != NULL);
	if (head_rewrite(&view, &ctx, out) != EXPOSR_OK) {
		evbuffer_free(out);
		free(buf);
		return;
	}
	size_t new_len = evbuffer_get_length(out);
	const char *rest = buf + head_len;
	size_t rest_len = size - head_len;
	/* The rewritten head with the same bytes after it, as the target receives them. */
	char *again = malloc(new_len + rest_len + 1);
	check(again != NULL);
	evbuffer_remove(out, again, new_len);
	memcpy(again + new_len, rest, rest_len);
	again[new_len + rest_len] = '\0';
	evbuffer_free(out);
	struct exposr_http_header headers2[MAX_FIELDS];
	struct exposr_http_request view2;
	size_t head_len2 = 0;
	check(http_reader_head(&rewritten, again, new_len + rest_len, new_len, &view2, headers2,
	                       &head_len2, &status) == HTTP_READ_HEAD);
	check(head_len2 == new_len);
	check(strcmp(view.method, view2.method) == 0);
	check(strcmp(view.target, view2.target) == 0);
	check(view.http_major == view2.http_major && view.http_minor == view2.http_minor);
	check(view.upgrade == view2.upgrade);
	const uint16_t framing = F_CHUNKED | F_CONTENT_LENGTH;
	check((original.parser.flags & framing) == (rewritten.parser.flags & framing));
	check(original.parser.content_length == rewritten.parser.content_length);
	if (!view.upgrade) {
		/* As the listener leaves its parser at the takeover: past the head, and told
		 * that a message without a body has ended. */
		llhttp_t listener = original.parser;
		listener.settings = (void *)&listener_settings;
		llhttp_resume(&listener);
		llhttp_execute(&listener, "", 0);
		http_reader_continue(&continued, &listener);
		bool done1, done2, done3;
		ssize_t used1 = body_length(&original, rest, rest_len, &done1);
		ssize_t used2 = body_length(&rewritten, again + new_len, rest_len, &done2);
		ssize_t used3 = body_length(&continued, rest, rest_len, &done3);
		check(used1 == used2 && done1 == done2);
		check(used1 == used3 && done1 == done3);
	}
	free(again);
	free(buf);
}

static bool on_response_head(void *arg, int status)
{
	(void)status;
	return *(const bool *)arg;
}

static const struct http_response_events events = {.head = on_response_head};

static void fuzz_response(const uint8_t *data, size_t size)
{
	struct script s = {data, size};
	bool head_request = take_u8(&s) & 1;
	struct http_response_tracker t;
	http_response_init(&t, &events, &head_request);
	while (s.left > 0) {
		size_t len, used = 0;
		const char *bytes = (const char *)take_bytes(&s, 1 + take_u8(&s) % 64, &len);
		while (len > 0) {
			enum http_response_feed f = http_response_feed(&t, bytes, len, &used);
			if (f == HTTP_RESPONSE_BROKEN)
				return;
			check(used <= len);
			if (f == HTTP_RESPONSE_MORE || used == 0)
				break;
			http_response_interim(&t);
			bytes += used;
			len -= used;
		}
	}
	http_response_finish(&t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] == 'R')
		fuzz_response(data + 1, size - 1);
	else
		fuzz_request(data, size);
	return 0;
}
