/* Internal to the HTTP listeners: connections (http_conn.c) and their requests (http_request.c). */
#ifndef EXPOSR_CORE_HTTP_CONN_H
#define EXPOSR_CORE_HTTP_CONN_H

#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <event2/util.h>
#include <llhttp.h>

#include "http_head.h"
#include "http_listener.h"

struct evbuffer;

enum conn_phase {
	PHASE_IDLE,    /* keep-alive: waiting for the first byte of the next request */
	PHASE_HEAD,    /* reading a request head */
	PHASE_BODY,    /* reading the body into memory for the route that wants it */
	PHASE_ROUTED,  /* the head is parsed: a route handler has the request */
	PHASE_WRITING, /* writing a response, then on to the next request */
	PHASE_DISCARD, /* answered before its body was read: skipping the rest of it */
	PHASE_CLOSING, /* writing a last response */
	PHASE_LINGER,  /* response sent and our side shut: draining until the peer closes */
};

struct growbuf {
	char *data;
	size_t len;
	size_t cap;
};

struct http_request {
	struct exposr_http_request pub; /* first: handlers only see this part */
	struct http_conn *conn;         /* NULL once taken over or the connection is gone */
	bool handler_owns;              /* between handle() and respond/decline/takeover */
	bool taken_over;                /* alive until release() */
	bool body_read;
	size_t route_index; /* the route that has it, or is having its body read */
	size_t body_limit;
	/* The head with its strings terminated, then the path and the remote address; the
	 * public pointers point into it. */
	char *strings;
	struct exposr_http_header *headers;
	struct growbuf head_raw;
	struct growbuf body;
	llhttp_t parser; /* the connection's, copied at takeover for http_forward.c */
};

struct http_conn {
	LIST_ENTRY(http_conn) link;
	struct bufferevent *bev;
	struct event *timer;
	llhttp_t parser;
	struct http_head head; /* the parser's data */
	enum conn_phase phase;
	const struct http_limits *limits;
	int route_port;
	int local_port;
	int remote_port;
	char remote_addr[NI_MAXHOST];
	struct http_request *req; /* the request being read or handled */
	size_t head_bytes;        /* bytes of the current head given to llhttp */
	bool message_done;        /* llhttp has seen the end of the current request */
	bool body_consumed;       /* bytes after the head were parsed: no takeover any more */
	int error_status;         /* why a body callback failed */
};

/* Adds `len` bytes to the buffer and returns where they start, or NULL without memory. */
static inline char *growbuf_extend(struct growbuf *buf, size_t len)
{
	if (len > buf->cap - buf->len) {
		size_t cap = buf->cap > 0 ? buf->cap : 256;
		while (len > cap - buf->len)
			cap *= 2;
		char *grown = realloc(buf->data, cap);
		if (grown == NULL)
			return NULL;
		buf->data = grown;
		buf->cap = cap;
	}
	buf->len += len;
	return buf->data + buf->len - len;
}

static inline int growbuf_append(struct growbuf *buf, const char *data, size_t len)
{
	if (len == 0)
		return EXPOSR_OK;
	char *at = growbuf_extend(buf, len);
	if (at == NULL)
		return EXPOSR_ERROR;
	memcpy(at, data, len);
	return EXPOSR_OK;
}

/* The route table kept by http_listener.c, in the order requests are offered to it. */
size_t http_route_count(void);
const struct exposr_http_route *http_route_get(size_t index);

/* Serves an accepted socket (closed on failure). `limits` must outlive the connection. */
void http_conn_accept(struct event_base *base, evutil_socket_t fd, const struct sockaddr *addr,
                      socklen_t addr_len, int route_port, int local_port,
                      const struct http_limits *limits);
/* Closes every connection the listeners still own. */
void http_conns_close_all(void);
/* Lets every connection finish the response it owes, then closes it; `done` runs
 * when none is left. */
void http_conns_quiesce(void (*done)(void));
/* Frees the connection and its socket; a request a handler holds is left to the handler. */
void http_conn_free(struct http_conn *conn);
/* Answers with a listener error in JSON, then closes. */
void http_conn_fail(struct http_conn *conn, int status);
/* Feeds buffered input to llhttp. */
void http_conn_process(struct http_conn *conn);
int http_conn_arm_timer(struct http_conn *conn, unsigned ms);

void http_request_free(struct http_request *req);
/* Sets the public fields once the head is parsed. */
int http_request_complete_head(struct http_request *req);
/* Offers the request to the routes from `first_route` on (404 if none takes it). */
void http_request_offer(struct http_request *req, size_t first_route);
/* The body the route asked for has been read. */
void http_request_body_complete(struct http_request *req);
/* Appends a whole response to `dest`; nothing is appended on failure. */
int http_write_response(struct evbuffer *dest, int status, const struct exposr_http_header *headers,
                        const char *body, size_t len, bool close, bool head_only,
                        bool http10_keep_alive);

/* The request half of struct exposr_http_api. */
void http_respond(struct exposr_http_request *req, int status,
                  const struct exposr_http_header *headers, const char *body, size_t len);
void http_decline(struct exposr_http_request *req);
/* A handler's request the listener answers with its own JSON error, then closes. */
void http_request_fail(struct exposr_http_request *req, int status);
struct bufferevent *http_takeover(struct exposr_http_request *req);
void http_release(struct exposr_http_request *req);
const char *http_reason(int status);
int http_format_error(struct evbuffer *out, int status, const char *code, bool head_only);
/* The JSON error code of the listener's own answers ("BAD_REQUEST"). */
const char *http_error_code(int status);

#endif
