/* Later requests on a connection a handler took over, parsed with llhttp: heads into a
 * view, bodies only measured, so that their bytes can pass on untouched. */
#include "http_reader.h"

#include <stddef.h>
#include <string.h>

#include "http_strict.h"

static struct http_reader *parser_of(llhttp_t *parser)
{
	return (struct http_reader *)((char *)parser->data - offsetof(struct http_reader, head));
}

/* llhttp stops at the end of each message, so that a pipelined request stays apart. */
static int on_message_complete(llhttp_t *parser)
{
	parser_of(parser)->message_done = true;
	return HPE_PAUSED;
}

static const llhttp_settings_t request_settings = {
        HTTP_HEAD_CALLBACKS,
        .on_message_complete = on_message_complete,
};

static void reset(struct http_reader *p)
{
	http_strict_init(&p->parser, HTTP_REQUEST, &request_settings);
	p->parser.data = &p->head;
	http_head_start(&p->head, p->max_fields);
	p->message_done = false;
}

void http_reader_init(struct http_reader *p, size_t max_fields)
{
	memset(p, 0, sizeof(*p));
	p->max_fields = max_fields;
}

void http_reader_free(struct http_reader *p)
{
	http_head_free(&p->head);
}

void http_reader_continue(struct http_reader *p, const llhttp_t *listener)
{
	reset(p);
	p->head.complete = true; /* past the head: trailers are not recorded */
	p->parser = *listener;
	p->parser.settings = (void *)&request_settings;
	p->parser.data = &p->head;
	/* The listener pauses at the end of a message: a request without a body has ended. */
	p->message_done = llhttp_get_errno(listener) == HPE_PAUSED;
	llhttp_resume(&p->parser);
}

enum http_read http_reader_head(struct http_reader *p, char *data, size_t len, size_t max_head,
                                struct exposr_http_request *view,
                                struct exposr_http_header *headers, size_t *head_len, int *status)
{
	/* One byte past the limit is enough to know that it is exceeded. */
	size_t feed = len > max_head ? max_head + 1 : len;
	reset(p);
	http_head_feed(&p->head, data, 0);
	llhttp_errno_t err = llhttp_execute(&p->parser, data, feed);
	if (err == HPE_OK) {
		if (feed <= max_head)
			return HTTP_READ_MORE;
		*status = 431;
		return HTTP_READ_ERROR;
	}
	if (err != HPE_PAUSED || p->head.target.len == 0) {
		*status = p->head.error_status != 0 ? p->head.error_status : 400;
		return HTTP_READ_ERROR;
	}
	*head_len = (size_t)(llhttp_get_error_pos(&p->parser) - data);
	if (*head_len > max_head) {
		*status = 431;
		return HTTP_READ_ERROR;
	}
	if (http_strict_head_error(data, *head_len) != NULL) {
		*status = 400;
		return HTTP_READ_ERROR;
	}
	memset(view, 0, sizeof(*view));
	http_head_view(&p->head, &p->parser, data, view, headers);
	view->path = view->target;
	view->query = "";
	view->head_raw = data;
	view->head_raw_len = *head_len;
	return HTTP_READ_HEAD;
}

bool http_reader_after_head(struct http_reader *p)
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

ssize_t http_reader_body(struct http_reader *p, const char *data, size_t len, bool *done)
{
	*done = false;
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

bool http_reader_body_ahead_ok(const struct http_reader *p, struct evbuffer *input, size_t skip)
{
	return http_strict_body_ahead_ok(&p->parser, input, skip);
}
