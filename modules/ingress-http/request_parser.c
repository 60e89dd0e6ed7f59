/* Requests on a proxied connection, parsed with llhttp: heads into a view the rewrite
 * reads, bodies only measured, so that their bytes pass on untouched. */
#include "request_parser.h"

#include <string.h>

#include "http_strict.h"

static struct request_parser *parser_of(llhttp_t *parser)
{
	return parser->data;
}

/* Pieces of one element arrive in order within the one buffer llhttp was given. */
static void extend(const struct request_parser *p, struct span *s, const char *at, size_t len)
{
	uint32_t off = (uint32_t)(at - p->base);
	if (s->len == 0)
		s->off = off;
	s->len = off + (uint32_t)len - s->off;
}

static int on_url(llhttp_t *parser, const char *at, size_t len)
{
	struct request_parser *p = parser_of(parser);
	extend(p, &p->url, at, len);
	return 0;
}

static int on_header_field(llhttp_t *parser, const char *at, size_t len)
{
	struct request_parser *p = parser_of(parser);
	if (!p->in_name) {
		if (p->header_count == INGRESS_MAX_HEADERS) {
			p->error_status = 431;
			return -1;
		}
		p->headers[p->header_count++] = (struct header_span){{0, 0}, {0, 0}};
		p->in_name = true;
	}
	extend(p, &p->headers[p->header_count - 1].name, at, len);
	return 0;
}

static int on_header_field_complete(llhttp_t *parser)
{
	parser_of(parser)->in_name = false;
	return 0;
}

static int on_header_value(llhttp_t *parser, const char *at, size_t len)
{
	struct request_parser *p = parser_of(parser);
	if (p->header_count > 0)
		extend(p, &p->headers[p->header_count - 1].value, at, len);
	return 0;
}

/* llhttp stops after the head, so the caller sees where it ends. */
static int on_headers_complete(llhttp_t *parser)
{
	(void)parser;
	return HPE_PAUSED;
}

/* ... and at the end of each message, so that a pipelined request stays apart. */
static int on_message_complete(llhttp_t *parser)
{
	parser_of(parser)->message_done = true;
	return HPE_PAUSED;
}

static const llhttp_settings_t request_settings = {
        .on_url = on_url,
        .on_header_field = on_header_field,
        .on_header_field_complete = on_header_field_complete,
        .on_header_value = on_header_value,
        .on_headers_complete = on_headers_complete,
        .on_message_complete = on_message_complete,
};

static void reset(struct request_parser *p, const char *base)
{
	http_strict_init(&p->parser, HTTP_REQUEST, &request_settings);
	p->parser.data = p;
	p->base = base;
	p->in_name = false;
	p->message_done = false;
	p->error_status = 0;
	p->url = (struct span){0, 0};
	p->header_count = 0;
}

void request_parser_continue(struct request_parser *p, const llhttp_t *listener)
{
	reset(p, NULL);
	p->parser = *listener;
	p->parser.settings = (void *)&request_settings;
	p->parser.data = p;
	/* The listener pauses at the end of a message: a request without a body has ended. */
	p->message_done = llhttp_get_errno(listener) == HPE_PAUSED;
	llhttp_resume(&p->parser);
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Terminates a span in place; an empty one is the empty string. */
static const char *terminate(char *data, struct span s, bool trim)
{
	if (s.len == 0)
		return "";
	char *start = data + s.off;
	size_t len = s.len;
	while (trim && len > 0 && is_blank(start[len - 1]))
		len--;
	start[len] = '\0';
	return start;
}

enum request_parse request_parser_head(struct request_parser *p, char *data, size_t len,
                                       size_t max_head, struct exposr_http_request *view,
                                       struct exposr_http_header *headers, size_t *head_len,
                                       int *status)
{
	/* One byte past the limit is enough to know that it is exceeded. */
	size_t feed = len > max_head ? max_head + 1 : len;
	reset(p, data);
	llhttp_errno_t err = llhttp_execute(&p->parser, data, feed);
	if (err == HPE_OK) {
		if (feed <= max_head)
			return REQUEST_MORE;
		*status = 431;
		return REQUEST_ERROR;
	}
	if (err != HPE_PAUSED || p->url.len == 0) {
		*status = p->error_status != 0 ? p->error_status : 400;
		return REQUEST_ERROR;
	}
	*head_len = (size_t)(llhttp_get_error_pos(&p->parser) - data);
	if (*head_len > max_head) {
		*status = 431;
		return REQUEST_ERROR;
	}
	if (http_strict_head_error(data, *head_len) != NULL) {
		*status = 400;
		return REQUEST_ERROR;
	}
	for (size_t i = 0; i < p->header_count; i++) {
		headers[i].name = terminate(data, p->headers[i].name, false);
		headers[i].value = terminate(data, p->headers[i].value, true);
	}
	memset(view, 0, sizeof(*view));
	view->method = llhttp_method_name(llhttp_get_method(&p->parser));
	view->target = terminate(data, p->url, false);
	view->path = view->target;
	view->query = "";
	view->http_major = llhttp_get_http_major(&p->parser);
	view->http_minor = llhttp_get_http_minor(&p->parser);
	view->headers = headers;
	view->header_count = p->header_count;
	view->upgrade = llhttp_get_upgrade(&p->parser) != 0;
	view->keep_alive = llhttp_should_keep_alive(&p->parser) != 0;
	view->head_raw = data;
	view->head_raw_len = *head_len;
	return REQUEST_HEAD;
}

bool request_parser_after_head(struct request_parser *p)
{
	/* A request without a body ends with its head: llhttp says so on an empty feed (a
	 * continued listener's parser has said so already). */
	if (!p->message_done) {
		llhttp_resume(&p->parser);
		if (llhttp_execute(&p->parser, "", 0) != HPE_PAUSED || !p->message_done)
			return false;
	}
	llhttp_resume(&p->parser);
	return true;
}

ssize_t request_parser_body(struct request_parser *p, const char *data, size_t len, bool *done)
{
	*done = false;
	p->base = data;
	llhttp_errno_t err = llhttp_execute(&p->parser, data, len);
	if (err == HPE_OK)
		return (ssize_t)len;
	if (err == HPE_PAUSED && p->message_done) {
		const char *end = llhttp_get_error_pos(&p->parser);
		*done = true;
		llhttp_resume(&p->parser);
		return (ssize_t)(end - data);
	}
	return -1;
}

bool request_parser_body_ahead_ok(const struct request_parser *p, struct evbuffer *input,
                                  size_t skip)
{
	return http_strict_body_ahead_ok(&p->parser, input, skip);
}
