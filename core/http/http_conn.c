/* Connections on the shared HTTP listeners: reading and parsing requests, limits, timeouts. */
#include "http_conn.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "http_strict.h"
#include "log.h"
#include "timeval_ms.h"

/* After a final response the peer gets this long to stop sending before the socket is
 * closed: closing with unread input makes the kernel send a reset, which can destroy the
 * response before the client has read it. */
#define LINGER_TIMEOUT_MS 2000

static LIST_HEAD(, http_conn) connections = LIST_HEAD_INITIALIZER(connections);
/* Shutting down: connections close once they owe nothing, then `quiesce_done` runs. */
static bool quiescing;
static void (*quiesce_done)(void);

static void check_quiesced(void)
{
	if (!quiescing || !LIST_EMPTY(&connections) || quiesce_done == NULL)
		return;
	void (*done)(void) = quiesce_done;
	quiesce_done = NULL;
	done();
}

void http_conn_free(struct http_conn *conn)
{
	if (conn->req != NULL) {
		/* A handler still holding the request frees it when it answers. */
		if (conn->req->handler_owns)
			conn->req->conn = NULL;
		else
			http_request_free(conn->req);
	}
	LIST_REMOVE(conn, link);
	if (conn->timer != NULL)
		event_free(conn->timer);
	if (conn->bev != NULL)
		bufferevent_free(conn->bev);
	http_head_free(&conn->head);
	free(conn);
	check_quiesced();
}

void http_conns_close_all(void)
{
	quiesce_done = NULL;
	while (!LIST_EMPTY(&connections))
		http_conn_free(LIST_FIRST(&connections));
	quiescing = false;
}

static void conn_start_linger(struct http_conn *conn);

void http_conns_quiesce(void (*done)(void))
{
	quiescing = true;
	quiesce_done = done;
	/* Connections between requests owe nothing; the others finish their response. */
	struct http_conn *conn = LIST_FIRST(&connections);
	while (conn != NULL) {
		struct http_conn *next = LIST_NEXT(conn, link);
		if (conn->phase == PHASE_IDLE || conn->phase == PHASE_HEAD)
			conn_start_linger(conn);
		conn = next;
	}
	check_quiesced();
}

int http_conn_arm_timer(struct http_conn *conn, unsigned ms)
{
	struct timeval tv = timeval_from_ms(ms);
	return evtimer_add(conn->timer, &tv) == 0 ? EXPOSR_OK : EXPOSR_ERROR;
}

void http_conn_fail(struct http_conn *conn, int status)
{
	log_msg("http", EXPOSR_LOG_DEBUG, "%s:%d: %d %s", conn->remote_addr, conn->remote_port,
	        status, http_error_code(status));
	if (conn->req != NULL) {
		http_request_free(conn->req);
		conn->req = NULL;
	}
	evtimer_del(conn->timer);
	bufferevent_disable(conn->bev, EV_READ);
	conn->phase = PHASE_CLOSING;
	if (http_format_error(bufferevent_get_output(conn->bev), status, NULL, false) != EXPOSR_OK)
		http_conn_free(conn);
}

/* Keep-alive: the next request may already be buffered. */
static void conn_wait_request(struct http_conn *conn)
{
	if (quiescing) {
		conn_start_linger(conn);
		return;
	}
	conn->phase = PHASE_IDLE;
	conn->head_bytes = 0;
	conn->message_done = false;
	conn->body_consumed = false;
	if (http_conn_arm_timer(conn, conn->limits->idle_timeout_ms) != EXPOSR_OK ||
	    bufferevent_enable(conn->bev, EV_READ) != 0) {
		http_conn_free(conn);
		return;
	}
	http_conn_process(conn);
}

static void conn_start_linger(struct http_conn *conn)
{
	struct evbuffer *input = bufferevent_get_input(conn->bev);
	evbuffer_drain(input, evbuffer_get_length(input));
	if (shutdown(bufferevent_getfd(conn->bev), SHUT_WR) != 0 ||
	    http_conn_arm_timer(conn, LINGER_TIMEOUT_MS) != EXPOSR_OK ||
	    bufferevent_enable(conn->bev, EV_READ) != 0) {
		http_conn_free(conn);
		return;
	}
	conn->phase = PHASE_LINGER;
}

static int parser_fail(struct http_conn *conn, int status)
{
	conn->error_status = status;
	return -1;
}

/* The parser's data is the head it records (core/http_strict/http_head.c). */
static struct http_conn *conn_of(llhttp_t *parser)
{
	return (struct http_conn *)((char *)parser->data - offsetof(struct http_conn, head));
}

static int on_body(llhttp_t *parser, const char *at, size_t len)
{
	struct http_conn *conn = conn_of(parser);
	if (conn->phase != PHASE_BODY)
		return 0; /* answered already: the rest of the body is skipped */
	struct http_request *req = conn->req;
	if (len > req->body_limit - req->body.len)
		return parser_fail(conn, 413);
	if (growbuf_append(&req->body, at, len) != EXPOSR_OK)
		return parser_fail(conn, 500);
	return 0;
}

/* Stops before a pipelined request: it waits until this one is answered. */
static int on_message_complete(llhttp_t *parser)
{
	conn_of(parser)->message_done = true;
	return HPE_PAUSED;
}

static const llhttp_settings_t parser_settings = {
        HTTP_HEAD_CALLBACKS,
        .on_body = on_body,
        .on_message_complete = on_message_complete,
};

static void conn_head_complete(struct http_conn *conn)
{
	const char *why = http_strict_head_error(conn->req->head_raw.data, conn->req->head_raw.len);
	if (why == NULL &&
	    !http_strict_body_ahead_ok(&conn->parser, bufferevent_get_input(conn->bev), 0))
		why = "malformed body";
	if (why != NULL) {
		log_msg("http", EXPOSR_LOG_DEBUG, "%s:%d: bad request: %s", conn->remote_addr,
		        conn->remote_port, why);
		http_conn_fail(conn, 400);
		return;
	}
	conn->phase = PHASE_ROUTED;
	evtimer_del(conn->timer);
	/* Pipelined requests wait in the kernel until this one is answered. */
	bufferevent_disable(conn->bev, EV_READ);
	if (http_request_complete_head(conn->req) != EXPOSR_OK) {
		http_conn_fail(conn, 500);
		return;
	}
	/* A request without a body ends with its head: let llhttp say so now (it consumes
	 * nothing), so that it is known before a route asks for the body. */
	llhttp_resume(&conn->parser);
	llhttp_errno_t err = llhttp_execute(&conn->parser, "", 0);
	if (err != HPE_OK && err != HPE_PAUSED) {
		http_conn_fail(conn, 400);
		return;
	}
	http_request_offer(conn->req, 0);
}

/* Records and drains what llhttp has parsed. */
static int conn_consume(struct http_conn *conn, const char *data, size_t used)
{
	if (conn->phase == PHASE_HEAD) {
		if (growbuf_append(&conn->req->head_raw, data, used) != EXPOSR_OK)
			return EXPOSR_ERROR;
		conn->head_bytes += used;
	} else if (conn->phase == PHASE_BODY && used > 0) {
		conn->body_consumed = true;
	}
	return evbuffer_drain(bufferevent_get_input(conn->bev), used) == 0 ? EXPOSR_OK
	                                                                   : EXPOSR_ERROR;
}

/* llhttp stopped on purpose: at the end of a head or of a message. */
static void conn_paused(struct http_conn *conn)
{
	if (conn->phase == PHASE_HEAD)
		conn_head_complete(conn);
	else if (conn->phase == PHASE_BODY)
		http_request_body_complete(conn->req);
	else
		conn_wait_request(conn); /* the end of a skipped body */
}

/* Feeds buffered input to llhttp. Every path that hands the request on returns at once:
 * the connection may be gone afterwards. */
void http_conn_process(struct http_conn *conn)
{
	struct evbuffer *input = bufferevent_get_input(conn->bev);
	for (;;) {
		size_t available = evbuffer_get_length(input);
		if (available == 0)
			return;
		if (conn->phase == PHASE_IDLE) {
			/* The head timeout runs from the first byte of a request. */
			conn->phase = PHASE_HEAD;
			if (http_conn_arm_timer(conn, conn->limits->head_timeout_ms) != EXPOSR_OK)
				goto fail;
		}
		if (conn->phase != PHASE_HEAD && conn->phase != PHASE_BODY &&
		    conn->phase != PHASE_DISCARD)
			return;
		size_t feed = available;
		if (conn->phase == PHASE_HEAD) {
			if (conn->req == NULL) {
				conn->req = calloc(1, sizeof(*conn->req));
				if (conn->req == NULL)
					goto fail;
				conn->req->conn = conn;
				http_head_start(&conn->head, conn->limits->max_headers);
			}
			/* One byte past the limit is enough to know that it is exceeded. */
			size_t room = conn->limits->max_head_bytes + 1 - conn->head_bytes;
			if (feed > room)
				feed = room;
		}
		const char *data = (const char *)evbuffer_pullup(input, (ev_ssize_t)feed);
		if (data == NULL)
			goto fail;
		http_head_feed(&conn->head, data, conn->head_bytes);
		llhttp_resume(&conn->parser);
		llhttp_errno_t err = llhttp_execute(&conn->parser, data, feed);
		if (err != HPE_OK && err != HPE_PAUSED) {
			log_msg("http", EXPOSR_LOG_DEBUG, "%s:%d: bad request: %s",
			        conn->remote_addr, conn->remote_port,
			        llhttp_get_error_reason(&conn->parser));
			int status = conn->error_status != 0 ? conn->error_status
			                                     : conn->head.error_status;
			http_conn_fail(conn, status != 0 ? status : 400);
			return;
		}
		size_t used = feed;
		if (err == HPE_PAUSED)
			used = (size_t)(llhttp_get_error_pos(&conn->parser) - data);
		if (conn_consume(conn, data, used) != EXPOSR_OK)
			goto fail;
		if (conn->phase == PHASE_HEAD && conn->head_bytes > conn->limits->max_head_bytes) {
			http_conn_fail(conn, 431);
			return;
		}
		if (err == HPE_PAUSED) {
			conn_paused(conn);
			return;
		}
		/* A body that keeps coming keeps its connection. */
		if (conn->phase == PHASE_BODY &&
		    http_conn_arm_timer(conn, conn->limits->idle_timeout_ms) != EXPOSR_OK)
			goto fail;
	}
fail:
	http_conn_fail(conn, 500);
}

static void conn_next_request(struct http_conn *conn)
{
	if (conn->message_done) {
		conn_wait_request(conn);
		return;
	}
	conn->phase = PHASE_DISCARD;
	if (http_conn_arm_timer(conn, conn->limits->idle_timeout_ms) != EXPOSR_OK ||
	    bufferevent_enable(conn->bev, EV_READ) != 0) {
		http_conn_free(conn);
		return;
	}
	http_conn_process(conn);
}

static void conn_readable(struct bufferevent *bev, void *arg)
{
	struct http_conn *conn = arg;
	if (conn->phase == PHASE_LINGER) {
		struct evbuffer *input = bufferevent_get_input(bev);
		evbuffer_drain(input, evbuffer_get_length(input));
		return;
	}
	http_conn_process(conn);
}

/* The output buffer is empty. */
static void conn_written(struct bufferevent *bev, void *arg)
{
	(void)bev;
	struct http_conn *conn = arg;
	if (conn->phase == PHASE_CLOSING)
		conn_start_linger(conn);
	else if (conn->phase == PHASE_WRITING)
		conn_next_request(conn);
}

static void conn_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	struct http_conn *conn = arg;
	if (what & BEV_EVENT_ERROR)
		log_msg("http", EXPOSR_LOG_DEBUG, "%s:%d: %s", conn->remote_addr, conn->remote_port,
		        evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	http_conn_free(conn);
}

static void conn_timeout(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct http_conn *conn = arg;
	if (conn->phase == PHASE_HEAD || conn->phase == PHASE_BODY)
		http_conn_fail(conn, 408);
	else
		http_conn_free(conn); /* idle keep-alive, skipped body or lingering close */
}

void http_conn_accept(struct event_base *base, evutil_socket_t fd, const struct sockaddr *addr,
                      socklen_t addr_len, int route_port, int local_port,
                      const struct http_limits *limits)
{
	struct http_conn *conn = calloc(1, sizeof(*conn));
	if (conn == NULL) {
		log_msg("http", EXPOSR_LOG_WARN, "cannot accept a connection: out of memory");
		evutil_closesocket(fd);
		return;
	}
	char port[NI_MAXSERV];
	int rc = getnameinfo(addr, addr_len, conn->remote_addr, sizeof(conn->remote_addr), port,
	                     sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV);
	if (rc != 0) {
		log_msg("http", EXPOSR_LOG_WARN, "cannot read a peer address: %s",
		        gai_strerror(rc));
		goto fail;
	}
	conn->remote_port = atoi(port);
	conn->route_port = route_port;
	conn->local_port = local_port;
	conn->limits = limits;
	/* Responses are written whole: don't hold one back waiting for an acknowledgement. */
	int one = 1;
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0)
		log_msg("http", EXPOSR_LOG_DEBUG, "TCP_NODELAY: %s",
		        evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	conn->bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (conn->bev == NULL) {
		log_msg("http", EXPOSR_LOG_WARN, "cannot set up a connection from %s",
		        conn->remote_addr);
		goto fail;
	}
	/* libevent writes at most 16 KiB per loop iteration unless told otherwise: a bulk
	 * response would cost an epoll round and a write per 16 KiB. */
	bufferevent_set_max_single_write(conn->bev, 512 * 1024);
	/* From here http_conn_free() closes the socket. */
	LIST_INSERT_HEAD(&connections, conn, link);
	http_strict_init(&conn->parser, HTTP_REQUEST, &parser_settings);
	conn->parser.data = &conn->head;
	conn->phase = PHASE_HEAD;
	bufferevent_setcb(conn->bev, conn_readable, conn_written, conn_event, conn);
	/* A client that stops reading our response is dropped like an idle one. */
	struct timeval write_timeout = timeval_from_ms(limits->idle_timeout_ms);
	conn->timer = evtimer_new(base, conn_timeout, conn);
	if (conn->timer == NULL ||
	    http_conn_arm_timer(conn, limits->head_timeout_ms) != EXPOSR_OK ||
	    bufferevent_set_timeouts(conn->bev, NULL, &write_timeout) != 0 ||
	    bufferevent_enable(conn->bev, EV_READ | EV_WRITE) != 0) {
		log_msg("http", EXPOSR_LOG_WARN, "cannot set up a connection from %s",
		        conn->remote_addr);
		http_conn_free(conn);
	}
	return;
fail:
	free(conn);
	evutil_closesocket(fd);
}
