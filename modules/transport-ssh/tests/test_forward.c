/* The tcpip-forward rule of docs/ssh.md §7.3: when the bind address and port become the
 * target, and which port the reply reports. */
#include <criterion/criterion.h>

#include "forward.h"

Test(forward, bind_address_and_port_replace_the_target)
{
	struct forward_result r;
	cr_assert_eq(forward_apply("http://localhost:3000/app", "example.test", 8080, &r), 0);
	cr_assert(r.changed);
	cr_assert_str_eq(r.url, "http://example.test:8080/app");
	cr_assert_eq(r.allocated, 8080);
}

Test(forward, well_known_port_updates_too)
{
	/* 0.12 skipped the update here; the C server does not. */
	struct forward_result r;
	cr_assert_eq(forward_apply("http://localhost:3000/", "example.com", 80, &r), 0);
	cr_assert(r.changed);
	cr_assert_str_eq(r.url, "http://example.com/");
	cr_assert_eq(r.allocated, 80);
}

Test(forward, port_zero_keeps_the_target_and_reports_its_port)
{
	struct forward_result r;
	cr_assert_eq(forward_apply("https://example.com/", "localhost", 0, &r), 0);
	cr_assert_not(r.changed);
	cr_assert_str_eq(r.url, "https://example.com/");
	cr_assert_eq(r.allocated, 443);
	cr_assert_eq(forward_apply("http://127.0.0.1:4567/", "", 0, &r), 0);
	cr_assert_eq(r.allocated, 4567);
}

Test(forward, empty_bind_address_keeps_the_target)
{
	struct forward_result r;
	cr_assert_eq(forward_apply("http://127.0.0.1:4567/", "", 9000, &r), 0);
	cr_assert_not(r.changed);
	cr_assert_eq(r.allocated, 4567);
}

Test(forward, no_target_becomes_tcp)
{
	struct forward_result r;
	cr_assert_eq(forward_apply(NULL, "localhost", 0, &r), 0);
	cr_assert_eq(r.allocated, 0, "no target and no port: nothing to report");
	cr_assert_eq(forward_apply(NULL, "db.example", 5432, &r), 0);
	cr_assert(r.changed);
	cr_assert_str_eq(r.url, "tcp://db.example:5432");
	cr_assert_eq(r.allocated, 5432);
	cr_assert_eq(forward_apply("tcp://db.example", "", 0, &r), 0);
	cr_assert_eq(r.allocated, 0, "tcp has no default port");
}

Test(forward, bad_bind_address_is_refused)
{
	struct forward_result r;
	cr_assert_eq(forward_apply("http://localhost:3000/", "bad host/name", 8080, &r), -1);
}
