/* The ingress' error responses (docs/ingress.md §5.3, §5.8). */
#include "errors.h"

#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/util.h>

static int json_body(char *out, size_t size, const char *code)
{
	int len = snprintf(out, size, "{\"error\":\"%s\"}", code);
	return len > 0 && (size_t)len < size ? len : -1;
}

void error_respond(const struct exposr_host *host, struct exposr_http_request *req, int status,
                   const char *code)
{
	static const struct exposr_http_header json[] = {
	        {"Content-Type", "application/json"},
	        {NULL, NULL},
	};
	char body[96];
	int len = json_body(body, sizeof(body), code);
	host->http->respond(req, status, json, body, len > 0 ? (size_t)len : 0);
}

int error_format_raw(struct evbuffer *out, int http_major, int http_minor, int status,
                     const char *reason, const char *code)
{
	char body[96];
	int len = json_body(body, sizeof(body), code);
	if (len < 0 || evbuffer_add_printf(out,
	                                   "HTTP/%d.%d %d %s\r\nContent-Length: %d\r\n"
	                                   "Connection: close\r\n\r\n%s",
	                                   http_major, http_minor, status, reason, len, body) < 0)
		return EXPOSR_ERROR;
	return EXPOSR_OK;
}

void error_send_and_close(const struct exposr_host *host, struct bufferevent *bev,
                          struct evbuffer *response)
{
	if (bufferevent_write_buffer(bev, response) != 0) {
		bufferevent_free(bev);
		return;
	}
	/* The core's socket stream flushes, shuts our side down and lingers before it
	 * closes, so that the client reads the answer instead of a reset. */
	struct exposr_stream *stream = host->streams->from_bufferevent(bev);
	if (stream == NULL) {
		bufferevent_free(bev);
		return;
	}
	stream->vt->close(stream);
}
