/* The benchmark's latency probe: GET requests at a fixed rate over kept-alive connections,
 * one request per connection at a time; prints the latency percentiles in microseconds. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#define MAX_CONNECTIONS 64
#define MAX_HEAD        (16 * 1024)

struct probe;

struct conn {
	struct probe *p;
	struct bufferevent *bev;
	bool busy;      /* a request is out */
	bool have_head; /* of its response */
	size_t body_left;
	uint64_t sent_ns;
};

struct probe {
	struct event_base *base;
	struct sockaddr_in addr;
	char request[1024];
	size_t request_len;
	double rate;
	uint64_t start_ns, warmup_end_ns, end_ns, next_ns;
	struct event *tick;
	struct conn conns[MAX_CONNECTIONS];
	int nconns, max_conns;
	uint64_t *samples;
	size_t nsamples, cap;
	unsigned long sent, errors, skipped;
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void conn_event(struct bufferevent *bev, short what, void *arg);
static void conn_read(struct bufferevent *bev, void *arg);

static int conn_open(struct probe *p, struct conn *c)
{
	memset(c, 0, sizeof(*c));
	c->p = p;
	c->bev = bufferevent_socket_new(p->base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL)
		return -1;
	bufferevent_setcb(c->bev, conn_read, NULL, conn_event, c);
	if (bufferevent_socket_connect(c->bev, (struct sockaddr *)&p->addr, sizeof(p->addr)) != 0)
		return -1;
	int one = 1;
	setsockopt(bufferevent_getfd(c->bev), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	return 0;
}

static void conn_fail(struct conn *c)
{
	struct probe *p = c->p;
	if (c->busy)
		p->errors++;
	bufferevent_free(c->bev);
	if (conn_open(p, c) != 0) {
		fprintf(stderr, "latency: cannot reconnect\n");
		event_base_loopbreak(p->base);
	}
}

static void record(struct probe *p, uint64_t sent_ns, uint64_t done_ns)
{
	if (sent_ns < p->warmup_end_ns)
		return;
	if (p->nsamples == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 4096;
		uint64_t *s = realloc(p->samples, cap * sizeof(*s));
		if (s == NULL)
			return;
		p->samples = s;
		p->cap = cap;
	}
	p->samples[p->nsamples++] = done_ns - sent_ns;
}

static void conn_read(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	while (c->busy) {
		if (!c->have_head) {
			struct evbuffer_ptr end = evbuffer_search(in, "\r\n\r\n", 4, NULL);
			if (end.pos < 0 || end.pos + 4 > MAX_HEAD) {
				if (evbuffer_get_length(in) > MAX_HEAD)
					conn_fail(c);
				return;
			}
			char head[MAX_HEAD + 1];
			size_t len = (size_t)end.pos + 4;
			evbuffer_remove(in, head, len);
			head[len] = '\0';
			if (strncmp(head, "HTTP/1.1 200", 12) != 0) {
				c->p->errors++;
				c->busy = false;
				conn_fail(c);
				return;
			}
			const char *cl = strcasestr(head, "\r\ncontent-length:");
			c->body_left = cl != NULL ? strtoul(cl + 17, NULL, 10) : 0;
			c->have_head = true;
		}
		size_t have = evbuffer_get_length(in);
		size_t n = have < c->body_left ? have : c->body_left;
		evbuffer_drain(in, n);
		c->body_left -= n;
		if (c->body_left > 0)
			return;
		record(c->p, c->sent_ns, now_ns());
		c->busy = false;
		c->have_head = false;
	}
}

static void conn_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	if (what & BEV_EVENT_CONNECTED)
		return;
	conn_fail(arg);
}

static void send_one(struct probe *p)
{
	struct conn *c = NULL;
	for (int i = 0; i < p->nconns; i++) {
		if (!p->conns[i].busy) {
			c = &p->conns[i];
			break;
		}
	}
	if (c == NULL && p->nconns < p->max_conns) {
		c = &p->conns[p->nconns];
		if (conn_open(p, c) != 0) {
			p->errors++;
			return;
		}
		p->nconns++;
	}
	if (c == NULL) {
		p->skipped++; /* every connection still waits: the target is far too slow */
		return;
	}
	c->busy = true;
	c->have_head = false;
	c->sent_ns = now_ns();
	bufferevent_write(c->bev, p->request, p->request_len);
	p->sent++;
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct probe *p = arg;
	uint64_t now = now_ns();
	if (now >= p->end_ns) {
		event_base_loopbreak(p->base);
		return;
	}
	uint64_t interval = (uint64_t)(1e9 / p->rate);
	/* Requests are due on a fixed schedule; a late timer sends what it owes. */
	unsigned burst = 0;
	while (p->next_ns <= now && burst++ < 16) {
		send_one(p);
		p->next_ns += interval;
	}
	if (p->next_ns <= now)
		p->next_ns = now + interval;
	uint64_t wait = p->next_ns - now;
	struct timeval tv = {.tv_sec = (time_t)(wait / 1000000000u),
	                     .tv_usec = (suseconds_t)(wait % 1000000000u / 1000u)};
	evtimer_add(p->tick, &tv);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static double percentile_us(const uint64_t *s, size_t n, double q)
{
	if (n == 0)
		return 0;
	size_t i = (size_t)(q * (double)(n - 1) + 0.5);
	return (double)s[i] / 1000.0;
}

static void usage(const char *argv0)
{
	fprintf(stderr,
	        "usage: %s --port N [--host 127.0.0.1] [--host-header H] [--path /1k]\n"
	        "          [--rate 500] [--duration 10] [--warmup 1] [--connections 8]\n",
	        argv0);
}

int main(int argc, char **argv)
{
	struct probe p = {.rate = 500, .max_conns = 8};
	const char *host = "127.0.0.1", *host_header = NULL, *path = "/1k";
	int port = 0;
	double duration = 10, warmup = 1;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (v == NULL) {
			usage(argv[0]);
			return 2;
		}
		if (strcmp(a, "--port") == 0)
			port = atoi(v);
		else if (strcmp(a, "--host") == 0)
			host = v;
		else if (strcmp(a, "--host-header") == 0)
			host_header = v;
		else if (strcmp(a, "--path") == 0)
			path = v;
		else if (strcmp(a, "--rate") == 0)
			p.rate = atof(v);
		else if (strcmp(a, "--duration") == 0)
			duration = atof(v);
		else if (strcmp(a, "--warmup") == 0)
			warmup = atof(v);
		else if (strcmp(a, "--connections") == 0)
			p.max_conns = atoi(v);
		else {
			usage(argv[0]);
			return 2;
		}
		i++;
	}
	if (port <= 0 || p.rate <= 0 || duration <= 0 || p.max_conns < 1 ||
	    p.max_conns > MAX_CONNECTIONS) {
		usage(argv[0]);
		return 2;
	}
	p.addr.sin_family = AF_INET;
	p.addr.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &p.addr.sin_addr) != 1) {
		fprintf(stderr, "latency: bad address %s\n", host);
		return 2;
	}
	char hostbuf[300];
	if (host_header == NULL) {
		snprintf(hostbuf, sizeof(hostbuf), "%s:%d", host, port);
		host_header = hostbuf;
	}
	int n = snprintf(p.request, sizeof(p.request), "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", path,
	                 host_header);
	if (n <= 0 || (size_t)n >= sizeof(p.request)) {
		fprintf(stderr, "latency: request too long\n");
		return 2;
	}
	p.request_len = (size_t)n;
	signal(SIGPIPE, SIG_IGN);
	struct event_config *cfg = event_config_new();
	event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
	p.base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	if (p.base == NULL)
		return 1;
	/* Two warm connections before the clock starts. */
	for (; p.nconns < 2 && p.nconns < p.max_conns; p.nconns++)
		if (conn_open(&p, &p.conns[p.nconns]) != 0)
			return 1;
	p.start_ns = now_ns();
	p.warmup_end_ns = p.start_ns + (uint64_t)(warmup * 1e9);
	p.end_ns = p.warmup_end_ns + (uint64_t)(duration * 1e9);
	p.next_ns = p.start_ns + 1000000; /* let the connections complete */
	p.tick = evtimer_new(p.base, on_tick, &p);
	struct timeval first = {0, 1000};
	evtimer_add(p.tick, &first);
	event_base_dispatch(p.base);
	qsort(p.samples, p.nsamples, sizeof(*p.samples), cmp_u64);
	double measured_s = duration;
	printf("requests=%zu rate=%.1f errors=%lu skipped=%lu p50_us=%.1f p90_us=%.1f "
	       "p99_us=%.1f max_us=%.1f\n",
	       p.nsamples, (double)p.nsamples / measured_s, p.errors, p.skipped,
	       percentile_us(p.samples, p.nsamples, 0.50),
	       percentile_us(p.samples, p.nsamples, 0.90),
	       percentile_us(p.samples, p.nsamples, 0.99),
	       p.nsamples ? (double)p.samples[p.nsamples - 1] / 1000.0 : 0.0);
	for (int i = 0; i < p.nconns; i++)
		bufferevent_free(p.conns[i].bev);
	event_free(p.tick);
	event_base_free(p.base);
	free(p.samples);
	return p.nsamples > 0 && p.errors == 0 ? 0 : 1;
}
