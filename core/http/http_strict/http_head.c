/* Request heads as llhttp reads them, recorded once for the core's listeners and the HTTP
 * ingress. */
#include "http_head.h"

#include <stdlib.h>
#include <string.h>

#include "http_ows.h"

static struct http_head *head_of(llhttp_t *parser)
{
	return parser->data;
}

/* Pieces of one element arrive in order and the head's bytes are contiguous, so a span
 * only grows at its end. */
static void extend(const struct http_head *h, struct http_span *s, const char *at, size_t len)
{
	size_t off = h->feed_off + (size_t)(at - h->feed);
	if (s->len == 0)
		s->off = off;
	s->len = off + len - s->off;
}

int http_head_on_url(llhttp_t *parser, const char *at, size_t len)
{
	struct http_head *h = head_of(parser);
	if (!h->complete)
		extend(h, &h->target, at, len);
	return 0;
}

int http_head_on_header_field(llhttp_t *parser, const char *at, size_t len)
{
	struct http_head *h = head_of(parser);
	if (h->complete)
		return 0;
	if (!h->in_name) {
		if (h->field_count == h->max_fields) {
			h->error_status = 431;
			return -1;
		}
		if (h->field_count == h->field_capacity) {
			size_t capacity = h->field_capacity > 0 ? h->field_capacity * 2 : 16;
			struct http_head_field *grown =
			        realloc(h->fields, capacity * sizeof(*grown));
			if (grown == NULL) {
				h->error_status = 500;
				return -1;
			}
			h->fields = grown;
			h->field_capacity = capacity;
		}
		h->fields[h->field_count++] = (struct http_head_field){{0, 0}, {0, 0}};
		h->in_name = true;
	}
	extend(h, &h->fields[h->field_count - 1].name, at, len);
	return 0;
}

int http_head_on_header_field_complete(llhttp_t *parser)
{
	head_of(parser)->in_name = false;
	return 0;
}

int http_head_on_header_value(llhttp_t *parser, const char *at, size_t len)
{
	struct http_head *h = head_of(parser);
	if (!h->complete && h->field_count > 0)
		extend(h, &h->fields[h->field_count - 1].value, at, len);
	return 0;
}

int http_head_on_headers_complete(llhttp_t *parser)
{
	head_of(parser)->complete = true;
	return HPE_PAUSED;
}

void http_head_start(struct http_head *h, size_t max_fields)
{
	h->feed = NULL;
	h->feed_off = 0;
	h->max_fields = max_fields;
	h->in_name = false;
	h->complete = false;
	h->error_status = 0;
	h->target = (struct http_span){0, 0};
	h->field_count = 0;
}

void http_head_feed(struct http_head *h, const char *feed, size_t off)
{
	h->feed = feed;
	h->feed_off = off;
}

void http_head_free(struct http_head *h)
{
	free(h->fields);
	h->fields = NULL;
	h->field_capacity = 0;
	h->field_count = 0;
}

size_t http_head_path_len(const struct http_head *h, const char *bytes)
{
	const char *query = memchr(bytes + h->target.off, '?', h->target.len);
	return query != NULL ? (size_t)(query - (bytes + h->target.off)) : h->target.len;
}

/* Terminates a span in place: the byte after it (a space, colon or line end) is part of
 * the head. An empty span is the empty string. */
static const char *terminate(char *bytes, struct http_span s, bool trim)
{
	if (s.len == 0)
		return "";
	char *start = bytes + s.off;
	size_t len = s.len;
	if (trim) {
		const char *kept = start;
		len = http_trim_ows(&kept, len);
		start += kept - start;
	}
	start[len] = '\0';
	return start;
}

void http_head_view(const struct http_head *h, llhttp_t *parser, char *bytes,
                    struct exposr_http_request *view, struct exposr_http_header *headers)
{
	for (size_t i = 0; i < h->field_count; i++) {
		headers[i].name = terminate(bytes, h->fields[i].name, false);
		headers[i].value = terminate(bytes, h->fields[i].value, true);
	}
	view->method = llhttp_method_name(llhttp_get_method(parser));
	view->target = terminate(bytes, h->target, false);
	view->http_major = llhttp_get_http_major(parser);
	view->http_minor = llhttp_get_http_minor(parser);
	view->headers = headers;
	view->header_count = h->field_count;
	view->upgrade = llhttp_get_upgrade(parser) != 0;
	view->keep_alive = llhttp_should_keep_alive(parser) != 0;
}
