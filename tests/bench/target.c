/* The benchmark's target: a small keep-alive HTTP/1.1 server that answers every GET with
 * a fixed body of the size its path names, straight from one static buffer. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

/* Bodies are references into this buffer; one piece at a time goes into the output. */
#define BODY_PIECE   (256 * 1024)
#define OUTPUT_LOW   (256 * 1024)
#define MAX_HEAD     (16 * 1024)
#define MAX_BODY_LEN (16ULL << 30)

static char body_piece[BODY_PIECE];

struct conn {
	LIST_ENTRY(conn) link; /* every open connection, freed at exit */
	struct bufferevent *bev;
	unsigned long long body_left;    /* of the response being written */
	unsigned long long discard_left; /* of the request body being skipped */
	bool close_after;
};

static LIST_HEAD(, conn) conns = LIST_HEAD_INITIALIZER(conns);

static void conn_free(struct conn *c)
{
	LIST_REMOVE(c, link);
	bufferevent_free(c->bev);
	free(c);
}

/* "/1k", "/100m", "/size/<n>" and "/<n>" with an optional k/m/g suffix; 0 for others. */
static bool body_size(const char *path, size_t len, unsigned long long *size)
{
	char buf[64];
	if (len == 0 || len >= sizeof(buf) || path[0] != '/')
		return false;
	memcpy(buf, path, len);
	buf[len] = '\0';
	char *p = buf + 1;
	if (strncmp(p, "size/", 5) == 0)
		p += 5;
	char *q = strchr(p, '?');
	if (q != NULL)
		*q = '\0';
	char *end;
	errno = 0;
	unsigned long long n = strtoull(p, &end, 10);
	if (end == p || errno != 0)
		return false;
	switch (*end) {
	case 'k':
	case 'K':
		n <<= 10;
		end++;
		break;
	case 'm':
	case 'M':
		n <<= 20;
		end++;
		break;
	case 'g':
	case 'G':
		n <<= 30;
		end++;
		break;
	default:
		break;
	}
	if (*end != '\0' || n > MAX_BODY_LEN)
		return false;
	*size = n;
	return true;
}

static void write_body(struct conn *c)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	while (c->body_left > 0 && evbuffer_get_length(out) < OUTPUT_LOW) {
		size_t n = c->body_left < BODY_PIECE ? (size_t)c->body_left : BODY_PIECE;
		if (evbuffer_add_reference(out, body_piece, n, NULL, NULL) != 0)
			break;
		c->body_left -= n;
	}
}

static void respond(struct conn *c, int status, const char *reason, unsigned long long len)
{
	char head[256];
	int n = snprintf(head, sizeof(head),
	                 "HTTP/1.1 %d %s\r\nContent-Type: application/octet-stream\r\n"
	                 "Content-Length: %llu\r\n%s\r\n",
	                 status, reason, len, c->close_after ? "Connection: close\r\n" : "");
	bufferevent_write(c->bev, head, (size_t)n);
	c->body_left = len;
	write_body(c);
}

/* Case-insensitive search for a header's value in a NUL-terminated head. */
static const char *header_value(const char *head, const char *name)
{
	size_t nlen = strlen(name);
	for (const char *p = strstr(head, "\r\n"); p != NULL; p = strstr(p + 2, "\r\n")) {
		if (strncasecmp(p + 2, name, nlen) == 0 && p[2 + nlen] == ':') {
			const char *v = p + 3 + nlen;
			while (*v == ' ' || *v == '\t')
				v++;
			return v;
		}
	}
	return NULL;
}

/* Handles every complete request head in the input, one response at a time. */
static void process(struct conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	while (c->body_left == 0 && !c->close_after) {
		if (c->discard_left > 0) {
			size_t have = evbuffer_get_length(in);
			size_t n = have < c->discard_left ? have : (size_t)c->discard_left;
			evbuffer_drain(in, n);
			c->discard_left -= n;
			if (c->discard_left > 0)
				return;
		}
		struct evbuffer_ptr end = evbuffer_search(in, "\r\n\r\n", 4, NULL);
		if (end.pos < 0) {
			if (evbuffer_get_length(in) > MAX_HEAD) {
				conn_free(c);
			}
			return;
		}
		size_t head_len = (size_t)end.pos + 4;
		if (head_len > MAX_HEAD) {
			conn_free(c);
			return;
		}
		char head[MAX_HEAD + 1];
		evbuffer_remove(in, head, head_len);
		head[head_len] = '\0';
		const char *sp = strchr(head, ' ');
		const char *sp2 = sp != NULL ? strchr(sp + 1, ' ') : NULL;
		const char *eol = strstr(head, "\r\n");
		if (sp == NULL || sp2 == NULL || sp2 > eol) {
			c->close_after = true;
			respond(c, 400, "Bad Request", 0);
			break;
		}
		const char *conn_hdr = header_value(head, "connection");
		if (conn_hdr != NULL && strncasecmp(conn_hdr, "close", 5) == 0)
			c->close_after = true;
		if (strncmp(sp2 + 1, "HTTP/1.0", 8) == 0 &&
		    (conn_hdr == NULL || strncasecmp(conn_hdr, "keep-alive", 10) != 0))
			c->close_after = true;
		const char *cl = header_value(head, "content-length");
		if (cl != NULL)
			c->discard_left = strtoull(cl, NULL, 10);
		unsigned long long size;
		if (body_size(sp + 1, (size_t)(sp2 - sp - 1), &size))
			respond(c, 200, "OK", size);
		else
			respond(c, 404, "Not Found", 0);
	}
}

static void on_read(struct bufferevent *bev, void *arg)
{
	(void)bev;
	process(arg);
}

static void on_write(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	if (c->body_left > 0) {
		write_body(c);
		return;
	}
	if (evbuffer_get_length(bufferevent_get_output(bev)) > 0)
		return;
	if (c->close_after) {
		conn_free(c);
		return;
	}
	process(c);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	(void)what;
	conn_free(arg);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int len,
                      void *arg)
{
	(void)l;
	(void)sa;
	(void)len;
	struct event_base *base = arg;
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	struct conn *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		evutil_closesocket(fd);
		return;
	}
	c->bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		evutil_closesocket(fd);
		free(c);
		return;
	}
	LIST_INSERT_HEAD(&conns, c, link);
	bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
	bufferevent_setwatermark(c->bev, EV_WRITE, OUTPUT_LOW / 2, 0);
	/* libevent writes at most 16 KiB per loop iteration unless told otherwise. */
	bufferevent_set_max_single_write(c->bev, BODY_PIECE);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	event_base_loopbreak(arg);
}

int main(int argc, char **argv)
{
	const char *bind_addr = "127.0.0.1";
	int port = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--port") == 0 && i + 1 < argc)
			port = atoi(argv[++i]);
		else if (strcmp(argv[i], "--bind") == 0 && i + 1 < argc)
			bind_addr = argv[++i];
		else {
			fprintf(stderr,
			        "usage: %s --port N [--bind ADDR]\n"
			        "GET /<n>[k|m|g] answers 200 with a body of that many bytes\n",
			        argv[0]);
			return 2;
		}
	}
	if (port <= 0 || port > 65535) {
		fprintf(stderr, "target: --port is required\n");
		return 2;
	}
	memset(body_piece, 'x', sizeof(body_piece));
	signal(SIGPIPE, SIG_IGN);
	struct event_base *base = event_base_new();
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	if (base == NULL || inet_pton(AF_INET, bind_addr, &sin.sin_addr) != 1) {
		fprintf(stderr, "target: bad address %s\n", bind_addr);
		return 1;
	}
	struct evconnlistener *l = evconnlistener_new_bind(
	        base, on_accept, base, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 1024,
	        (struct sockaddr *)&sin, sizeof(sin));
	if (l == NULL) {
		fprintf(stderr, "target: cannot listen on %s:%d: %s\n", bind_addr, port,
		        strerror(errno));
		return 1;
	}
	struct event *sigterm = evsignal_new(base, SIGTERM, on_signal, base);
	struct event *sigint = evsignal_new(base, SIGINT, on_signal, base);
	event_add(sigterm, NULL);
	event_add(sigint, NULL);
	printf("target: listening on %s:%d\n", bind_addr, port);
	fflush(stdout);
	event_base_dispatch(base);
	while (!LIST_EMPTY(&conns))
		conn_free(LIST_FIRST(&conns));
	event_free(sigterm);
	event_free(sigint);
	evconnlistener_free(l);
	event_base_free(base);
	return 0;
}
