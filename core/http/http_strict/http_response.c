/* Responses coming back from a target, followed with llhttp without being changed: where
 * each head ends and each response ends. */
#include "http_response.h"

static struct http_response_tracker *tracker_of(llhttp_t *parser)
{
	return parser->data;
}

static int on_message_begin(llhttp_t *parser)
{
	tracker_of(parser)->in_head = true;
	return 0;
}

static int on_headers_complete(llhttp_t *parser)
{
	struct http_response_tracker *t = tracker_of(parser);
	int status = llhttp_get_status_code(parser);
	t->in_head = false;
	bool no_body = t->events->head(t->arg, status);
	/* 1: "no body follows", for the answer to a HEAD request. */
	return no_body && status >= 200 ? 1 : 0;
}

/* Stops at the end of every response, so that the next one is handled on its own. */
static int on_message_complete(llhttp_t *parser)
{
	struct http_response_tracker *t = tracker_of(parser);
	int status = llhttp_get_status_code(parser);
	t->ended = true;
	t->interim = status >= 100 && status < 200 && status != 101;
	return HPE_PAUSED;
}

static const llhttp_settings_t response_settings = {
        .on_message_begin = on_message_begin,
        .on_headers_complete = on_headers_complete,
        .on_message_complete = on_message_complete,
};

void http_response_init(struct http_response_tracker *t, const struct http_response_events *events,
                        void *arg)
{
	llhttp_init(&t->parser, HTTP_RESPONSE, &response_settings);
	t->parser.data = t;
	/* The target's bytes are passed on, not judged: only their framing matters. */
	llhttp_set_lenient_headers(&t->parser, 1);
	llhttp_set_lenient_keep_alive(&t->parser, 1);
	t->events = events;
	t->arg = arg;
	t->in_head = false;
	t->ended = false;
	t->interim = false;
}

enum http_response_feed http_response_feed(struct http_response_tracker *t, const char *data,
                                           size_t len, size_t *used)
{
	t->ended = false;
	llhttp_errno_t err = llhttp_execute(&t->parser, data, len);
	if (err == HPE_OK) {
		*used = len;
		return HTTP_RESPONSE_MORE;
	}
	if (err == HPE_PAUSED && t->ended) {
		*used = (size_t)(llhttp_get_error_pos(&t->parser) - data);
		llhttp_resume(&t->parser);
		return HTTP_RESPONSE_END;
	}
	*used = len;
	return HTTP_RESPONSE_BROKEN;
}

bool http_response_interim(const struct http_response_tracker *t)
{
	return t->interim;
}

bool http_response_finish(struct http_response_tracker *t)
{
	t->ended = false;
	llhttp_errno_t err = llhttp_finish(&t->parser);
	return (err == HPE_OK || err == HPE_PAUSED) && t->ended && !t->interim;
}
