/* Request heads as llhttp reads them, recorded once for the core's listeners and the HTTP
 * ingress: where the target and each header field lie in the head's bytes, then the view
 * a route or the rewrite reads. */
#ifndef EXPOSR_HTTP_HEAD_H
#define EXPOSR_HTTP_HEAD_H

#include <stdbool.h>
#include <stddef.h>

#include <exposr/http.h>
#include <llhttp.h>

struct http_span {
	size_t off; /* from the first byte given to llhttp for this head */
	size_t len;
};

struct http_head_field {
	struct http_span name;
	struct http_span value;
};

/* The parser's `data` points at this record (llhttp_t.data). */
struct http_head {
	const char *feed; /* the bytes of the llhttp_execute() under way */
	size_t feed_off;  /* their offset in the head */
	size_t max_fields;
	bool in_name;
	bool complete;    /* the head ended: header callbacks now are a body's trailers */
	int error_status; /* why a callback failed: 431 (too many fields) or 500 */
	struct http_span target;
	struct http_head_field *fields; /* grown as needed, kept across heads */
	size_t field_count;
	size_t field_capacity;
};

/* The llhttp callbacks that record a head; a parser's settings take them as they are.
 * llhttp pauses at the end of the head, so that the caller sees where it ends and what
 * follows stays unparsed until it says what to do with it. */
int http_head_on_url(llhttp_t *parser, const char *at, size_t len);
int http_head_on_header_field(llhttp_t *parser, const char *at, size_t len);
int http_head_on_header_field_complete(llhttp_t *parser);
int http_head_on_header_value(llhttp_t *parser, const char *at, size_t len);
int http_head_on_headers_complete(llhttp_t *parser);
/* The lot, for a designated initializer of llhttp_settings_t. */
#define HTTP_HEAD_CALLBACKS                                                                        \
	.on_url = http_head_on_url, .on_header_field = http_head_on_header_field,                  \
	.on_header_field_complete = http_head_on_header_field_complete,                            \
	.on_header_value = http_head_on_header_value,                                              \
	.on_headers_complete = http_head_on_headers_complete

/* Before the first byte of a head. More than `max_fields` header fields fail with 431. */
void http_head_start(struct http_head *h, size_t max_fields);
/* Before each llhttp_execute() on the head: `feed` is at offset `off` in it. */
void http_head_feed(struct http_head *h, const char *feed, size_t off);
void http_head_free(struct http_head *h);

/* The length of the target's path (up to '?') in `bytes`, the head as given to llhttp. */
size_t http_head_path_len(const struct http_head *h, const char *bytes);

/* Once the head is complete: terminates the target and the fields in `bytes` (the head as
 * given to llhttp, writable) and fills the view's method, target, version, headers
 * (`headers` has room for every field; values without the blanks around them), upgrade
 * and keep_alive. The caller fills in the rest. */
void http_head_view(const struct http_head *h, llhttp_t *parser, char *bytes,
                    struct exposr_http_request *view, struct exposr_http_header *headers);

#endif
