/* CNAME lookups and the alt-name check against a small DNS server on the same loop. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <exposr/common.h>

#include "altname_check.h"
#include "cname.h"

static struct event_base *base;
static int server_fd;
static struct event *server_event;
static struct sockaddr_in server_addr;
static int queries_seen;

/* The question's name in dotted form; returns the offset after QTYPE/QCLASS. */
static size_t question(const unsigned char *msg, size_t len, char *name)
{
	size_t o = 12, n = 0;
	while (o < len && msg[o] != 0) {
		size_t l = msg[o++];
		if (l > 63 || o + l > len || n + l + 2 > 256)
			break;
		if (n > 0)
			name[n++] = '.';
		memcpy(name + n, msg + o, l);
		n += l;
		o += l;
	}
	name[n] = '\0';
	return o + 1 + 4;
}

static size_t put_name(unsigned char *out, const char *name)
{
	size_t o = 0;
	while (*name != '\0') {
		size_t l = strcspn(name, ".");
		out[o++] = (unsigned char)l;
		memcpy(out + o, name, l);
		o += l;
		name += l;
		if (*name == '.')
			name++;
	}
	out[o++] = 0;
	return o;
}

static void on_query(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	(void)arg;
	unsigned char msg[512];
	struct sockaddr_in from;
	socklen_t from_len = sizeof(from);
	ssize_t n = recvfrom(fd, msg, sizeof(msg), 0, (struct sockaddr *)&from, &from_len);
	if (n < 12)
		return;
	queries_seen++;
	char name[256];
	size_t end = question(msg, (size_t)n, name);
	cr_assert_eq(msg[end - 3], 5, "QTYPE is CNAME");
	if (strcmp(name, "silent.example.com") == 0)
		return;
	unsigned char out[512];
	memcpy(out, msg, end);
	out[2] = 0x81; /* QR, RD */
	out[3] = 0x80; /* RA, NOERROR */
	size_t o = end;
	const char *target = NULL;
	if (strcmp(name, "good.example.com") == 0 || strcmp(name, "other.example.com") == 0)
		target = "t1.tunnels.example";
	else if (strcmp(name, "wrong.example.com") == 0)
		target = "t2.tunnels.example";
	else if (strcmp(name, "nx.example.com") == 0)
		out[3] |= 3;
	if (target != NULL) {
		out[7] = 1; /* ANCOUNT */
		static const unsigned char rr[] = {0xc0, 0x0c, 0, 5, 0, 1, 0, 0, 0, 60};
		memcpy(out + o, rr, sizeof(rr));
		o += sizeof(rr);
		size_t len = put_name(out + o + 2, target);
		out[o] = (unsigned char)(len >> 8);
		out[o + 1] = (unsigned char)len;
		o += 2 + len;
	}
	sendto(fd, out, o, 0, (struct sockaddr *)&from, from_len);
}

static void setup(void)
{
	base = event_base_new();
	server_fd = socket(AF_INET, SOCK_DGRAM, 0);
	memset(&server_addr, 0, sizeof(server_addr));
	server_addr.sin_family = AF_INET;
	server_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t len = sizeof(server_addr);
	cr_assert_eq(bind(server_fd, (struct sockaddr *)&server_addr, len), 0);
	cr_assert_eq(getsockname(server_fd, (struct sockaddr *)&server_addr, &len), 0);
	server_event = event_new(base, server_fd, EV_READ | EV_PERSIST, on_query, NULL);
	event_add(server_event, NULL);
	queries_seen = 0;
}

static void teardown(void)
{
	event_free(server_event);
	close(server_fd);
	event_base_free(base);
}

/* Turns the loop until *done; fails after 5 s naming what it waited for. */
static void run_until(const bool *done, const char *what)
{
	struct timespec now, deadline;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += 5;
	while (!*done) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		cr_assert(now.tv_sec < deadline.tv_sec ||
		                  (now.tv_sec == deadline.tv_sec && now.tv_nsec < deadline.tv_nsec),
		          "no answer within 5 s: %s", what);
		event_base_loop(base, EVLOOP_ONCE);
	}
}

struct result {
	int status;
	char target[256];
	size_t count;
	bool done;
};

static void on_cname(void *arg, int status, const char *const *targets, size_t count)
{
	struct result *r = arg;
	r->status = status;
	r->count = count;
	if (count > 0)
		snprintf(r->target, sizeof(r->target), "%s", targets[0]);
	r->done = true;
}

static struct result resolve(struct cname_resolver *resolver, const char *name)
{
	struct result r = {0};
	cr_assert_not_null(cname_resolve(resolver, name, on_cname, &r));
	cr_assert_not(r.done, "never answers from inside cname_resolve");
	run_until(&r.done, name);
	return r;
}

static struct cname_resolver *resolver_new(unsigned timeout_ms)
{
	return cname_resolver_new(base, (struct sockaddr *)&server_addr, sizeof(server_addr),
	                          timeout_ms, 2);
}

Test(cname, answers, .init = setup, .fini = teardown)
{
	struct cname_resolver *r = resolver_new(1000);
	struct result res = resolve(r, "good.example.com");
	cr_assert_eq(res.status, EXPOSR_OK);
	cr_assert_eq(res.count, 1);
	cr_assert_str_eq(res.target, "t1.tunnels.example");
	res = resolve(r, "nx.example.com");
	cr_assert_eq(res.status, EXPOSR_NOT_FOUND);
	res = resolve(r, "none.example.com");
	cr_assert_eq(res.status, EXPOSR_NOT_FOUND);
	cname_resolver_free(r);
}

Test(cname, timeout_after_retries, .init = setup, .fini = teardown)
{
	struct cname_resolver *r = resolver_new(100);
	struct result res = resolve(r, "silent.example.com");
	cr_assert_eq(res.status, EXPOSR_ERROR);
	cr_assert_eq(queries_seen, 2, "one retry");
	cname_resolver_free(r);
}

Test(cname, free_cancels_pending, .init = setup, .fini = teardown)
{
	struct cname_resolver *r = resolver_new(1000);
	struct result res = {0};
	cr_assert_not_null(cname_resolve(r, "silent.example.com", on_cname, &res));
	cname_resolver_free(r);
	cr_assert_not(res.done);
}

Test(cname, server_setting)
{
	struct sockaddr_storage ss;
	socklen_t len;
	cr_assert_eq(cname_parse_server("127.0.0.1:5353", &ss, &len), 0);
	cr_assert_eq(ntohs(((struct sockaddr_in *)&ss)->sin_port), 5353);
	cr_assert_eq(cname_parse_server("10.0.0.1", &ss, &len), 0);
	cr_assert_eq(ntohs(((struct sockaddr_in *)&ss)->sin_port), 53);
	cr_assert_eq(cname_parse_server("[::1]:53", &ss, &len), 0);
	cr_assert_eq(ss.ss_family, AF_INET6);
	cr_assert_neq(cname_parse_server("dns.example:53", &ss, &len), 0);
}

struct check_result {
	bool done;
	bool failed;
	char rejected[256];
};

static void on_check(void *arg, const char *rejected, bool failed)
{
	struct check_result *r = arg;
	r->done = true;
	r->failed = failed;
	snprintf(r->rejected, sizeof(r->rejected), "%s", rejected != NULL ? rejected : "");
}

Test(altname_check, names_pointing_elsewhere_are_rejected_in_order, .init = setup, .fini = teardown)
{
	struct cname_resolver *r = resolver_new(100);
	const char *names[] = {"nx.example.com", "good.example.com", "wrong.example.com",
	                       "silent.example.com", "other.example.com"};
	struct check_result res = {0};
	struct altname_check *check =
	        altname_check_start(r, "t1.tunnels.example", names, 5, on_check, &res);
	cr_assert_not_null(check);
	run_until(&res.done, "the check of five names");
	cr_assert_not(res.failed);
	cr_assert_str_eq(res.rejected, "nx.example.com, wrong.example.com, silent.example.com");

	const char *good[] = {"good.example.com", "other.example.com"};
	struct check_result ok = {0};
	cr_assert_not_null(altname_check_start(r, "t1.tunnels.example", good, 2, on_check, &ok));
	run_until(&ok.done, "the check of two good names");
	cr_assert_str_eq(ok.rejected, "");

	struct check_result cancelled = {0};
	check = altname_check_start(r, "t1.tunnels.example", good, 2, on_check, &cancelled);
	altname_check_cancel(check);
	cname_resolver_free(r);
	cr_assert_not(cancelled.done);
}
