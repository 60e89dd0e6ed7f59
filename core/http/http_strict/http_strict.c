/* The one strict reading of HTTP/1.x that the core's listeners and the HTTP ingress share. */
#include "http_strict.h"

#include <string.h>
#include <strings.h>

#include <event2/buffer.h>

#include "http_ows.h"

void http_strict_init(llhttp_t *parser, llhttp_type_t type, const llhttp_settings_t *settings)
{
	llhttp_init(parser, type, settings);
	/* llhttp_init's defaults, pinned: no leniency may come in with another llhttp. */
	llhttp_set_lenient_headers(parser, 0);
	llhttp_set_lenient_chunked_length(parser, 0);
	llhttp_set_lenient_keep_alive(parser, 0);
	llhttp_set_lenient_transfer_encoding(parser, 0);
}

/* The framing headers: a value the target reads otherwise than llhttp would split the
 * stream differently. */
static bool frames_the_body(const char *name, size_t len)
{
	static const char *const names[] = {"Content-Length", "Transfer-Encoding"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (len == strlen(names[i]) && strncasecmp(name, names[i], len) == 0)
			return true;
	return false;
}

static const char *header_line_error(const char *line, size_t len)
{
	if (http_is_ows(line[0]))
		return "obsolete line folding";
	const char *colon = memchr(line, ':', len);
	if (colon == NULL || !frames_the_body(line, (size_t)(colon - line)))
		return NULL;
	const char *value = colon + 1;
	size_t value_len = len - (size_t)(value - line);
	if (value_len > 0 && value[0] == ' ') {
		value++;
		value_len--;
	}
	if (value_len > 0 && (http_is_ows(value[0]) || http_is_ows(value[value_len - 1])))
		return "whitespace around a Content-Length or Transfer-Encoding value";
	return NULL;
}

const char *http_strict_head_error(const char *head, size_t len)
{
	const char *end = head + len;
	const char *p = head;
	/* llhttp skips empty lines before the request line. */
	while (p < end && (*p == '\r' || *p == '\n'))
		p++;
	bool http09 = true;
	bool request_line = true;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t line_len = (size_t)((nl != NULL ? nl : end) - p);
		if (line_len > 0 && p[line_len - 1] == '\r')
			line_len--;
		if (request_line) {
			/* No space can be in a strict target: " HTTP/" is the version. */
			http09 = memmem(p, line_len, " HTTP/", 6) == NULL;
			request_line = false;
		} else if (line_len == 0) {
			break;
		} else if (http09) {
			return "header lines after an HTTP/0.9 request line";
		} else {
			const char *why = header_line_error(p, line_len);
			if (why != NULL)
				return why;
		}
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	return NULL;
}

/* Only the end of the message matters to the look-ahead: nothing of it is recorded. */
static int on_lookahead_complete(llhttp_t *parser)
{
	(void)parser;
	return HPE_PAUSED;
}

static const llhttp_settings_t lookahead_settings = {
        .on_message_complete = on_lookahead_complete,
};

bool http_strict_body_ahead_ok(const llhttp_t *parser, struct evbuffer *input, size_t skip)
{
	llhttp_t ahead = *parser;
	ahead.settings = (void *)&lookahead_settings;
	llhttp_resume(&ahead);
	struct evbuffer_ptr pos;
	if (evbuffer_ptr_set(input, &pos, skip, EVBUFFER_PTR_SET) != 0)
		return true; /* nothing buffered after the head */
	for (;;) {
		struct evbuffer_iovec vec[8];
		int n = evbuffer_peek(input, -1, &pos, vec, 8);
		if (n <= 0)
			return true;
		size_t seen = 0;
		for (int i = 0; i < n && i < 8; i++) {
			llhttp_errno_t err =
			        llhttp_execute(&ahead, vec[i].iov_base, vec[i].iov_len);
			if (err == HPE_PAUSED)
				return true;
			if (err != HPE_OK)
				return false;
			seen += vec[i].iov_len;
		}
		if (n <= 8 || evbuffer_ptr_set(input, &pos, seen, EVBUFFER_PTR_ADD) != 0)
			return true;
	}
}
