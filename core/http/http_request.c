/* Requests on the shared HTTP listeners: dispatch to routes, and the calls handlers answer with. */
#include "http_conn.h"

#include <strings.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>

#include "log.h"
#include "request_header.h"

static const struct exposr_http_header json_headers[] = {
        {"Content-Type", "application/json"},
        {NULL, NULL},
};

static struct http_request *request_of(struct exposr_http_request *pub)
{
	return (struct http_request *)pub;
}

void http_request_free(struct http_request *req)
{
	free(req->strings);
	free(req->headers);
	free(req->head_raw.data);
	free(req->body.data);
	free(req);
}

const char *http_reason(int status)
{
	switch (status) {
	case 100:
		return "Continue";
	case 101:
		return "Switching Protocols";
	case 200:
		return "OK";
	case 201:
		return "Created";
	case 202:
		return "Accepted";
	case 204:
		return "No Content";
	case 301:
		return "Moved Permanently";
	case 302:
		return "Found";
	case 304:
		return "Not Modified";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 408:
		return "Request Timeout";
	case 409:
		return "Conflict";
	case 413:
		return "Payload Too Large";
	case 421:
		return "Misdirected Request";
	case 429:
		return "Too Many Requests";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 501:
		return "Not Implemented";
	case 502:
		return "Bad Gateway";
	case 503:
		return "Service Unavailable";
	case 504:
		return "Gateway Timeout";
	case 508:
		return "Loop Detected";
	default:
		return "Unknown";
	}
}

/* Built aside first, so that a failure leaves no half response on the connection. */
int http_write_response(struct evbuffer *dest, int status, const struct exposr_http_header *headers,
                        const char *body, size_t len, bool close, bool head_only,
                        bool http10_keep_alive)
{
	char date[64];
	int date_len = evutil_date_rfc1123(date, sizeof(date), NULL);
	if (date_len <= 0 || (size_t)date_len >= sizeof(date))
		return EXPOSR_ERROR;
	struct evbuffer *out = evbuffer_new();
	if (out == NULL)
		return EXPOSR_ERROR;
	/* 1xx and 204 carry neither a body nor Content-Length; 304 and HEAD announce it only. */
	bool no_length = status < 200 || status == 204;
	bool send_body = !no_length && status != 304 && !head_only;
	if (evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\n", status, http_reason(status)) < 0)
		goto fail;
	for (size_t i = 0; headers != NULL && headers[i].name != NULL; i++) {
		const char *name = headers[i].name;
		/* These the listener writes itself; a CR or LF would split the response. */
		if (strcasecmp(name, "Content-Length") == 0 || strcasecmp(name, "Date") == 0 ||
		    strcasecmp(name, "Connection") == 0 || strpbrk(name, "\r\n") != NULL ||
		    strpbrk(headers[i].value, "\r\n") != NULL)
			continue;
		if (evbuffer_add_printf(out, "%s: %s\r\n", name, headers[i].value) < 0)
			goto fail;
	}
	if (!no_length && evbuffer_add_printf(out, "Content-Length: %zu\r\n", len) < 0)
		goto fail;
	if (evbuffer_add_printf(out, "Date: %s\r\n", date) < 0)
		goto fail;
	if (close && evbuffer_add_printf(out, "Connection: close\r\n") < 0)
		goto fail;
	if (!close && http10_keep_alive &&
	    evbuffer_add_printf(out, "Connection: keep-alive\r\n") < 0)
		goto fail;
	if (evbuffer_add(out, "\r\n", 2) != 0)
		goto fail;
	if (send_body && len > 0 && evbuffer_add(out, body, len) != 0)
		goto fail;
	if (evbuffer_add_buffer(dest, out) != 0)
		goto fail;
	evbuffer_free(out);
	return EXPOSR_OK;
fail:
	evbuffer_free(out);
	return EXPOSR_ERROR;
}

const char *http_error_code(int status)
{
	switch (status) {
	case 400:
		return "BAD_REQUEST";
	case 408:
		return "REQUEST_TIMEOUT";
	case 413:
		return "PAYLOAD_TOO_LARGE";
	case 431:
		return "REQUEST_HEADER_FIELDS_TOO_LARGE";
	default:
		return "INTERNAL_ERROR";
	}
}

int http_format_error(struct evbuffer *out, int status, const char *code, bool head_only)
{
	char body[128];
	int len = snprintf(body, sizeof(body), "{\"error\":\"%s\"}",
	                   code != NULL ? code : http_error_code(status));
	if (len < 0 || (size_t)len >= sizeof(body))
		return EXPOSR_ERROR;
	return http_write_response(out, status, json_headers, body, (size_t)len, true, head_only,
	                           false);
}

int http_request_complete_head(struct http_request *req)
{
	struct http_conn *conn = req->conn;
	const struct http_head *head = &conn->head;
	const struct growbuf *raw = &req->head_raw;
	size_t path_len = http_head_path_len(head, raw->data);
	size_t addr_len = strlen(conn->remote_addr) + 1;
	/* Copied: the request can outlive its connection. */
	req->strings = malloc(raw->len + path_len + 1 + addr_len);
	if (req->strings == NULL)
		return EXPOSR_ERROR;
	memcpy(req->strings, raw->data, raw->len);
	char *path = req->strings + raw->len;
	memcpy(path, raw->data + head->target.off, path_len);
	path[path_len] = '\0';
	char *addr = path + path_len + 1;
	memcpy(addr, conn->remote_addr, addr_len);
	if (head->field_count > 0) {
		req->headers = calloc(head->field_count, sizeof(*req->headers));
		if (req->headers == NULL)
			return EXPOSR_ERROR;
	}
	struct exposr_http_request *pub = &req->pub;
	http_head_view(head, &conn->parser, req->strings, pub, req->headers);
	pub->path = path;
	pub->query = pub->target[path_len] == '?' ? pub->target + path_len + 1 : "";
	pub->remote_addr = addr;
	pub->remote_port = conn->remote_port;
	pub->local_port = conn->local_port;
	/* llhttp skips empty lines before a request line: they are not part of the head. */
	size_t skip = 0;
	while (skip < raw->len && (raw->data[skip] == '\r' || raw->data[skip] == '\n'))
		skip++;
	pub->head_raw = raw->data + skip;
	pub->head_raw_len = raw->len - skip;
	return EXPOSR_OK;
}

static bool headers_ask_close(const struct exposr_http_header *headers)
{
	for (size_t i = 0; headers != NULL && headers[i].name != NULL; i++)
		if (strcasecmp(headers[i].name, "Connection") == 0 &&
		    strcasecmp(headers[i].value, "close") == 0)
			return true;
	return false;
}

/* Writes the response and lets go of the request; the connection goes on once it is sent. */
static void request_answer(struct http_request *req, int status,
                           const struct exposr_http_header *headers, const char *body, size_t len)
{
	struct http_conn *conn = req->conn;
	const struct exposr_http_request *pub = &req->pub;
	/* After an upgrade request the bytes that follow are not HTTP any more. */
	bool close = !pub->keep_alive || pub->upgrade || headers_ask_close(headers);
	bool http10 = pub->http_major == 1 && pub->http_minor == 0;
	int rc = http_write_response(bufferevent_get_output(conn->bev), status, headers, body, len,
	                             close, strcmp(pub->method, "HEAD") == 0, http10);
	conn->req = NULL;
	http_request_free(req); /* only now: the body may point into it */
	if (rc != EXPOSR_OK) {
		http_conn_free(conn);
		return;
	}
	conn->phase = close ? PHASE_CLOSING : PHASE_WRITING;
}

static void request_read_body(struct http_request *req, size_t limit)
{
	struct http_conn *conn = req->conn;
	req->body_limit = limit;
	if (conn->message_done) {
		http_request_body_complete(req);
		return;
	}
	/* A client that asked waits for this before it sends the body. */
	const char *expect = request_header(&req->pub, "Expect");
	if (expect != NULL && strcasecmp(expect, "100-continue") == 0 &&
	    bufferevent_write(conn->bev, "HTTP/1.1 100 Continue\r\n\r\n", 25) != 0)
		goto fail;
	conn->phase = PHASE_BODY;
	if (http_conn_arm_timer(conn, conn->limits->idle_timeout_ms) != EXPOSR_OK ||
	    bufferevent_enable(conn->bev, EV_READ) != 0)
		goto fail;
	http_conn_process(conn);
	return;
fail:
	http_conn_free(conn);
}

/* Gives the request to a route that matched; nothing may touch it afterwards. */
static void request_hand(struct http_request *req, size_t route_index)
{
	struct http_conn *conn = req->conn;
	const struct exposr_http_route *route = http_route_get(route_index);
	req->route_index = route_index;
	if (route->max_body > 0) {
		if (!req->body_read) {
			request_read_body(req, route->max_body);
			return;
		}
		/* Read for an earlier route with a larger limit. */
		if (req->pub.body_len > route->max_body) {
			http_conn_fail(conn, 413);
			return;
		}
	} else if (conn->body_consumed) {
		/* A route that leaves the body on the connection (one that takes connections
		 * over) comes after a route that declined once it had read the body: those bytes
		 * are gone, so the connection cannot be handed on intact. Routes that take
		 * connections over must come first (lower priority numbers). */
		log_msg("http", EXPOSR_LOG_ERROR,
		        "route %s cannot have %s %s: an earlier route read its body", route->name,
		        req->pub.method, req->pub.path);
		http_conn_fail(conn, 500);
		return;
	}
	req->handler_owns = true;
	route->handle(route->self, &req->pub);
}

void http_request_body_complete(struct http_request *req)
{
	struct http_conn *conn = req->conn;
	conn->phase = PHASE_ROUTED;
	evtimer_del(conn->timer);
	bufferevent_disable(conn->bev, EV_READ);
	req->body_read = true;
	/* NUL-terminated for handlers that read it as text. */
	if (growbuf_append(&req->body, "", 1) != EXPOSR_OK) {
		http_conn_fail(conn, 500);
		return;
	}
	req->pub.body = req->body.data;
	req->pub.body_len = req->body.len - 1;
	request_hand(req, req->route_index);
}

void http_request_offer(struct http_request *req, size_t first_route)
{
	static const char not_found[] = "{\"error\":\"NOT_FOUND\"}";
	struct http_conn *conn = req->conn;
	size_t count = http_route_count();
	for (size_t i = first_route; i < count; i++) {
		const struct exposr_http_route *route = http_route_get(i);
		if (route->port != conn->route_port)
			continue;
		if (route->match != NULL && !route->match(route->self, &req->pub))
			continue;
		request_hand(req, i);
		return;
	}
	request_answer(req, 404, json_headers, not_found, sizeof(not_found) - 1);
}

/* Claims the request back from its handler; false (logged) if the handler didn't hold it. */
static bool request_reclaim(struct http_request *req, const char *call)
{
	if (!req->handler_owns) {
		log_msg("http", EXPOSR_LOG_ERROR, "%s: request %s %s is not the handler's", call,
		        req->pub.method, req->pub.path);
		return false;
	}
	req->handler_owns = false;
	return true;
}

void http_respond(struct exposr_http_request *pub, int status,
                  const struct exposr_http_header *headers, const char *body, size_t len)
{
	struct http_request *req = request_of(pub);
	if (!request_reclaim(req, "respond"))
		return;
	if (req->conn == NULL) {
		http_request_free(req); /* the connection is gone */
		return;
	}
	request_answer(req, status, headers, body, len);
}

void http_request_fail(struct exposr_http_request *pub, int status)
{
	struct http_request *req = request_of(pub);
	if (!request_reclaim(req, "fail"))
		return;
	if (req->conn == NULL)
		http_request_free(req);
	else
		http_conn_fail(req->conn, status);
}

void http_decline(struct exposr_http_request *pub)
{
	struct http_request *req = request_of(pub);
	if (!request_reclaim(req, "decline"))
		return;
	if (req->conn == NULL) {
		http_request_free(req);
		return;
	}
	http_request_offer(req, req->route_index + 1);
}

/* NULL only if the listeners were freed while the handler held the request; either way
 * the request stays readable until release(). */
struct bufferevent *http_takeover(struct exposr_http_request *pub)
{
	struct http_request *req = request_of(pub);
	if (!request_reclaim(req, "takeover"))
		return NULL;
	req->taken_over = true;
	struct http_conn *conn = req->conn;
	if (conn == NULL)
		return NULL;
	/* Reading stays disabled, as on a new bufferevent: the new owner enables it. */
	/* The body's framing, for a forwarded connection (http_forward.c). */
	req->parser = conn->parser;
	struct bufferevent *bev = conn->bev;
	bufferevent_setcb(bev, NULL, NULL, NULL, NULL);
	bufferevent_set_timeouts(bev, NULL, NULL);
	conn->bev = NULL;
	conn->req = NULL;
	req->conn = NULL;
	http_conn_free(conn);
	return bev;
}

void http_release(struct exposr_http_request *pub)
{
	struct http_request *req = request_of(pub);
	if (!req->taken_over) {
		log_msg("http", EXPOSR_LOG_ERROR, "release: request %s %s was not taken over",
		        pub->method, pub->path);
		return;
	}
	http_request_free(req);
}
