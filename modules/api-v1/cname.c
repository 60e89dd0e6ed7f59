/* Asynchronous DNS CNAME lookups on the event loop: one UDP query per name, no threads. */
#include "cname.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <ctype.h>
#include <errno.h>
#include <event2/event.h>
#include <event2/util.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <unistd.h>

#include <exposr/common.h>

#include "timeval_ms.h"

#define DNS_PACKET_MAX    512
#define DNS_RESPONSE_MAX  4096
#define CNAME_TARGETS_MAX 8

struct cname_resolver {
	struct event_base *base;
	struct sockaddr_storage server;
	socklen_t server_len;
	unsigned timeout_ms;
	unsigned attempts;
	LIST_HEAD(, cname_query) queries; /* pending, for cancelling them all */
};

struct cname_query {
	struct cname_resolver *resolver;
	LIST_ENTRY(cname_query) link;
	char name[NS_MAXDNAME];
	uint16_t id;
	evutil_socket_t fd;
	struct event *event; /* readable or timed out */
	unsigned attempt;
	unsigned char packet[DNS_PACKET_MAX];
	size_t packet_len;
	cname_cb cb;
	void *arg;
};

int cname_parse_server(const char *text, struct sockaddr_storage *out, socklen_t *len)
{
	int n = (int)sizeof(*out);
	memset(out, 0, sizeof(*out));
	if (evutil_parse_sockaddr_port(text, (struct sockaddr *)out, &n) != 0)
		return -1;
	struct sockaddr *sa = (struct sockaddr *)out;
	if (sa->sa_family == AF_INET && ((struct sockaddr_in *)sa)->sin_port == 0)
		((struct sockaddr_in *)sa)->sin_port = htons(53);
	else if (sa->sa_family == AF_INET6 && ((struct sockaddr_in6 *)sa)->sin6_port == 0)
		((struct sockaddr_in6 *)sa)->sin6_port = htons(53);
	*len = (socklen_t)n;
	return 0;
}

/* The first "nameserver" line of /etc/resolv.conf. */
static int system_server(struct sockaddr_storage *out, socklen_t *len)
{
	FILE *f = fopen("/etc/resolv.conf", "r");
	char line[256];
	int rc = -1;
	while (f != NULL && rc != 0 && fgets(line, sizeof(line), f) != NULL) {
		char addr[128];
		if (sscanf(line, " nameserver %127s", addr) != 1)
			continue;
		char *scope = strchr(addr, '%'); /* a link-local scope is not parseable here */
		if (scope != NULL)
			*scope = '\0';
		char text[160];
		snprintf(text, sizeof(text), strchr(addr, ':') != NULL ? "[%s]:53" : "%s:53", addr);
		rc = cname_parse_server(text, out, len);
	}
	if (f != NULL)
		fclose(f);
	return rc;
}

struct cname_resolver *cname_resolver_new(struct event_base *base, const struct sockaddr *server,
                                          socklen_t server_len, unsigned timeout_ms,
                                          unsigned attempts)
{
	struct cname_resolver *r = calloc(1, sizeof(*r));
	if (r == NULL)
		return NULL;
	r->base = base;
	r->timeout_ms = timeout_ms;
	r->attempts = attempts > 0 ? attempts : 1;
	if (server != NULL && server_len <= sizeof(r->server)) {
		memcpy(&r->server, server, server_len);
		r->server_len = server_len;
	} else if (system_server(&r->server, &r->server_len) != 0 &&
	           cname_parse_server("127.0.0.1:53", &r->server, &r->server_len) != 0) {
		free(r);
		return NULL;
	}
	return r;
}

static void query_free(struct cname_query *q)
{
	if (q->event != NULL)
		event_free(q->event);
	if (q->fd >= 0)
		evutil_closesocket(q->fd);
	free(q);
}

void cname_cancel(struct cname_query *q)
{
	LIST_REMOVE(q, link);
	query_free(q);
}

void cname_resolver_free(struct cname_resolver *r)
{
	if (r == NULL)
		return;
	while (!LIST_EMPTY(&r->queries))
		cname_cancel(LIST_FIRST(&r->queries));
	free(r);
}

static void query_finish(struct cname_query *q, int status, const char *const *targets,
                         size_t count)
{
	LIST_REMOVE(q, link);
	q->cb(q->arg, status, targets, count);
	query_free(q);
}

/* Header with recursion desired, one question: <name> CNAME IN. */
static int build_query(struct cname_query *q)
{
	unsigned char *p = q->packet;
	size_t max = sizeof(q->packet);
	memset(p, 0, 12);
	p[0] = (unsigned char)(q->id >> 8);
	p[1] = (unsigned char)q->id;
	p[2] = 0x01; /* RD */
	p[5] = 1;    /* QDCOUNT */
	size_t o = 12;
	for (const char *label = q->name; *label != '\0';) {
		size_t len = strcspn(label, ".");
		if (len == 0 || len > 63 || o + len + 1 + 5 > max)
			return -1;
		p[o++] = (unsigned char)len;
		memcpy(p + o, label, len);
		o += len;
		label += len;
		if (*label == '.')
			label++;
	}
	p[o++] = 0;
	p[o++] = 0;
	p[o++] = ns_t_cname;
	p[o++] = 0;
	p[o++] = ns_c_in;
	q->packet_len = o;
	return 0;
}

static int arm(struct cname_query *q, unsigned ms)
{
	struct timeval tv = timeval_from_ms(ms);
	return event_add(q->event, &tv);
}

/* A send failure is a failed attempt like a lost datagram: the timer retries. */
static void send_query(struct cname_query *q)
{
	q->attempt++;
	if (send(q->fd, q->packet, q->packet_len, 0) < 0 && q->attempt >= q->resolver->attempts) {
		/* Report from the loop, not from inside cname_resolve(). */
		arm(q, 0);
		return;
	}
	if (arm(q, q->resolver->timeout_ms) != 0)
		arm(q, 0);
}

/* The CNAME targets of the answer section whose owner is the queried name. */
static int parse_answer(struct cname_query *q, const unsigned char *msg, size_t len,
                        char targets[][NS_MAXDNAME], size_t *count)
{
	ns_msg handle;
	*count = 0;
	if (ns_initparse(msg, (int)len, &handle) != 0)
		return EXPOSR_ERROR;
	int rcode = ns_msg_getflag(handle, ns_f_rcode);
	if (rcode == ns_r_nxdomain)
		return EXPOSR_NOT_FOUND;
	if (rcode != ns_r_noerror)
		return EXPOSR_ERROR;
	int answers = ns_msg_count(handle, ns_s_an);
	for (int i = 0; i < answers && *count < CNAME_TARGETS_MAX; i++) {
		ns_rr rr;
		if (ns_parserr(&handle, ns_s_an, i, &rr) != 0)
			return EXPOSR_ERROR;
		if (ns_rr_type(rr) != ns_t_cname || ns_rr_class(rr) != ns_c_in ||
		    strcasecmp(ns_rr_name(rr), q->name) != 0)
			continue;
		if (ns_name_uncompress(ns_msg_base(handle), ns_msg_end(handle), ns_rr_rdata(rr),
		                       targets[*count], NS_MAXDNAME) < 0)
			return EXPOSR_ERROR;
		(*count)++;
	}
	return *count > 0 ? EXPOSR_OK : EXPOSR_NOT_FOUND;
}

static void on_event(evutil_socket_t fd, short what, void *arg)
{
	struct cname_query *q = arg;
	if (what & EV_TIMEOUT) {
		if (q->attempt < q->resolver->attempts)
			send_query(q);
		else
			query_finish(q, EXPOSR_ERROR, NULL, 0);
		return;
	}
	unsigned char msg[DNS_RESPONSE_MAX];
	ssize_t n = recv(fd, msg, sizeof(msg), 0);
	/* Anything that is not the answer to this query (refused port, stray or spoofed
	 * datagram) is ignored; the timer still runs. */
	if (n < 12 || ((msg[0] << 8) | msg[1]) != q->id || !(msg[2] & 0x80))
		return;
	char targets[CNAME_TARGETS_MAX][NS_MAXDNAME];
	const char *list[CNAME_TARGETS_MAX];
	size_t count;
	int status = parse_answer(q, msg, (size_t)n, targets, &count);
	for (size_t i = 0; i < count; i++)
		list[i] = targets[i];
	query_finish(q, status, list, count);
}

struct cname_query *cname_resolve(struct cname_resolver *r, const char *name, cname_cb cb,
                                  void *arg)
{
	struct cname_query *q = calloc(1, sizeof(*q));
	if (q == NULL)
		return NULL;
	q->resolver = r;
	q->fd = -1;
	q->cb = cb;
	q->arg = arg;
	snprintf(q->name, sizeof(q->name), "%s", name);
	if (evutil_secure_rng_init() != 0)
		goto fail;
	evutil_secure_rng_get_bytes(&q->id, sizeof(q->id));
	q->fd = socket(r->server.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	q->event = q->fd >= 0 ? event_new(r->base, q->fd, EV_READ | EV_PERSIST, on_event, q) : NULL;
	if (q->event == NULL)
		goto fail;
	LIST_INSERT_HEAD(&r->queries, q, link);
	/* A name that cannot be put in a query, or a server that cannot be reached, fails
	 * the lookup like an unanswered one: reported from the loop. */
	if (build_query(q) != 0 ||
	    connect(q->fd, (struct sockaddr *)&r->server, r->server_len) != 0) {
		q->attempt = r->attempts;
		if (arm(q, 0) != 0) {
			cname_cancel(q);
			return NULL;
		}
		return q;
	}
	send_query(q);
	return q;
fail:
	query_free(q);
	return NULL;
}
