/* client/net.c: addresses are refreshed through evdns without blocking the loop, against a
 * DNS server in this process (libevent's evdns server on a loopback UDP socket). */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/dns.h>
#include <event2/dns_struct.h>
#include <event2/event.h>

#include "monotonic.h"
#include "net.h"

#define DEADLINE_MS 5000

enum dns_mode { DNS_ANSWER, DNS_NXDOMAIN, DNS_SILENT };

struct dns_server {
	evutil_socket_t fd;
	struct evdns_server_port *port;
	struct sockaddr_in addr;
	enum dns_mode mode;
	struct in_addr answer; /* for A questions; AAAA ones get no answer */
	int questions;
};

/* Each test has a loop, a DNS server in one mode, a resolver that asks only that server
 * (and reads no /etc/hosts), and a target resolved to 127.0.0.9 that is due for a new
 * lookup. */
static struct event_base *base;
static struct dns_server d;
static struct evdns_base *dns;
static struct net_target t;

static void dns_answer(struct evdns_server_request *req, void *arg)
{
	(void)arg;
	d.questions++;
	if (d.mode == DNS_SILENT) {
		evdns_server_request_drop(req);
		return;
	}
	if (d.mode == DNS_NXDOMAIN) {
		evdns_server_request_respond(req, DNS_ERR_NOTEXIST);
		return;
	}
	for (int i = 0; i < req->nquestions; i++)
		if (req->questions[i]->type == EVDNS_TYPE_A)
			cr_assert_eq(evdns_server_request_add_a_reply(req, req->questions[i]->name,
			                                              1, &d.answer, 60),
			             0);
	cr_assert_eq(evdns_server_request_respond(req, 0), 0);
}

static void start_dns_server(enum dns_mode mode)
{
	memset(&d, 0, sizeof(d));
	d.mode = mode;
	d.fd = socket(AF_INET, SOCK_DGRAM, 0);
	cr_assert_geq(d.fd, 0);
	d.addr.sin_family = AF_INET;
	d.addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(d.fd, (struct sockaddr *)&d.addr, sizeof(d.addr)), 0);
	socklen_t len = sizeof(d.addr);
	cr_assert_eq(getsockname(d.fd, (struct sockaddr *)&d.addr, &len), 0);
	cr_assert_eq(evutil_make_socket_nonblocking(d.fd), 0);
	d.port = evdns_add_server_port_with_base(base, d.fd, 0, dns_answer, NULL);
	cr_assert_not_null(d.port);
}

static void start(enum dns_mode mode)
{
	base = event_base_new();
	cr_assert_not_null(base);
	start_dns_server(mode);
	dns = evdns_base_new(base, 0);
	cr_assert_not_null(dns);
	cr_assert_eq(evdns_base_nameserver_sockaddr_add(dns, (const struct sockaddr *)&d.addr,
	                                                sizeof(d.addr), 0),
	             0);
	memset(&t, 0, sizeof(t));
	snprintf(t.host, sizeof(t.host), "target.test");
	t.port = 8080;
	struct sockaddr_in *sin = (struct sockaddr_in *)&t.addr;
	sin->sin_family = AF_INET;
	sin->sin_port = htons(8080);
	cr_assert_eq(inet_pton(AF_INET, "127.0.0.9", &sin->sin_addr), 1);
	t.addr_len = sizeof(*sin);
	t.dns = dns;
}

static void finish(void)
{
	evdns_base_free(dns, 0);
	evdns_close_server_port(d.port);
	close(d.fd);
	event_base_free(base);
}

/* The target's address as text, and its port. */
static const char *target_address(char out[INET_ADDRSTRLEN])
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&t.addr;
	cr_assert_eq(sin->sin_family, AF_INET);
	return inet_ntop(AF_INET, &sin->sin_addr, out, INET_ADDRSTRLEN);
}

static int target_port(void)
{
	return ntohs(((const struct sockaddr_in *)&t.addr)->sin_port);
}

/* Runs the loop until the lookup has ended, within DEADLINE_MS. */
static void wait_lookup(void)
{
	uint64_t deadline = monotonic_ms() + DEADLINE_MS;
	while (t.lookup != NULL) {
		cr_assert_lt(monotonic_ms(), deadline, "the lookup did not end");
		struct timeval tick = {0, 10000};
		cr_assert_eq(event_base_loopexit(base, &tick), 0);
		cr_assert_geq(event_base_dispatch(base), 0);
	}
}

Test(net_refresh, a_new_answer_replaces_the_address)
{
	start(DNS_ANSWER);
	cr_assert_eq(inet_pton(AF_INET, "127.0.0.2", &d.answer), 1);

	net_target_refresh(&t, monotonic_ms());
	/* Asked, not answered yet: the old address serves meanwhile. */
	cr_assert_not_null(t.lookup);
	char text[INET_ADDRSTRLEN];
	cr_assert_str_eq(target_address(text), "127.0.0.9");
	wait_lookup();
	cr_assert_str_eq(target_address(text), "127.0.0.2");
	cr_assert_eq(target_port(), 8080);
	/* Fresh for a minute: no new question. */
	int asked = d.questions;
	net_target_refresh(&t, monotonic_ms());
	cr_assert_null(t.lookup);
	cr_assert_eq(d.questions, asked);

	finish();
}

Test(net_refresh, a_failed_lookup_keeps_the_address)
{
	start(DNS_NXDOMAIN);

	net_target_refresh(&t, monotonic_ms());
	cr_assert_not_null(t.lookup);
	wait_lookup();
	char text[INET_ADDRSTRLEN];
	cr_assert_str_eq(target_address(text), "127.0.0.9");
	cr_assert_gt(d.questions, 0);
	/* Tried again later, not at once. */
	net_target_refresh(&t, monotonic_ms());
	cr_assert_null(t.lookup);

	finish();
}

static void mark(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	*(bool *)arg = true;
}

/* A server that never answers: the loop goes on (a timer fires while the lookup waits),
 * and cancelling leaves the address as it was. */
Test(net_refresh, an_unanswered_lookup_does_not_hold_the_loop)
{
	start(DNS_SILENT);

	net_target_refresh(&t, monotonic_ms());
	cr_assert_not_null(t.lookup);
	bool fired = false;
	struct event *timer = evtimer_new(base, mark, &fired);
	cr_assert_not_null(timer);
	struct timeval soon = {0, 20000};
	cr_assert_eq(event_add(timer, &soon), 0);
	uint64_t deadline = monotonic_ms() + DEADLINE_MS;
	while (!fired) {
		cr_assert_lt(monotonic_ms(), deadline, "the timer did not fire");
		cr_assert_geq(event_base_loop(base, EVLOOP_ONCE), 0);
	}
	cr_assert_not_null(t.lookup, "the silent server answered");
	cr_assert_gt(d.questions, 0);
	net_target_cancel(&t);
	cr_assert_null(t.lookup);
	char text[INET_ADDRSTRLEN];
	cr_assert_str_eq(target_address(text), "127.0.0.9");
	/* The cancellation comes from the loop, and changes nothing. */
	cr_assert_geq(event_base_loop(base, EVLOOP_NONBLOCK), 0);
	cr_assert_str_eq(target_address(text), "127.0.0.9");

	event_free(timer);
	finish();
}

/* A name set again (the server moved) while a refresh of the old one waits: the old
 * answer never lands on the new name. */
Test(net_refresh, setting_a_new_name_cancels_the_refresh)
{
	start(DNS_SILENT);

	net_target_refresh(&t, monotonic_ms());
	cr_assert_not_null(t.lookup);
	char err[256];
	cr_assert_eq(net_target_set(&t, "127.0.0.5", 9090, err, sizeof(err)), 0, "%s", err);
	cr_assert_null(t.lookup);
	char text[INET_ADDRSTRLEN];
	cr_assert_str_eq(target_address(text), "127.0.0.5");
	cr_assert_eq(target_port(), 9090);
	cr_assert_geq(event_base_loop(base, EVLOOP_NONBLOCK), 0);
	cr_assert_str_eq(target_address(text), "127.0.0.5");

	finish();
}
