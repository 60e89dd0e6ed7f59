/* lib/util/whatwg_url.c: parsing, host normalising, formatting with another host. */
#include <criterion/criterion.h>

#include "whatwg_url.h"

Test(url, parse_and_format)
{
	struct url_parts u;
	char out[512], host[300];
	cr_assert(url_parse("http://localhost:8080", &u));
	cr_assert_str_eq(u.scheme, "http");
	cr_assert_str_eq(u.hostname, "localhost");
	cr_assert_str_eq(u.port, "8080");
	cr_assert_str_eq(u.rest, "/");
	cr_assert_eq(url_format(&u, "my-tunnel.localhost", out, sizeof(out)), 0);
	cr_assert_str_eq(out, "http://my-tunnel.localhost:8080/");

	cr_assert(url_parse("HTTPS://User:pw@Example.COM:443/base/path?q#f", &u));
	cr_assert_str_eq(u.userinfo, "User:pw");
	cr_assert_str_eq(u.hostname, "example.com");
	cr_assert_str_eq(u.port, "");
	cr_assert_str_eq(u.rest, "/base/path?q#f");
	cr_assert_eq(url_host(&u, host, sizeof(host)), 0);
	cr_assert_str_eq(host, "example.com");
	cr_assert_eq(url_format(&u, NULL, out, sizeof(out)), 0);
	cr_assert_str_eq(out, "https://User:pw@example.com/base/path?q#f");
}

Test(url, parse_rejects)
{
	struct url_parts u;
	cr_assert_not(url_parse("localhost:8080", &u));
	cr_assert_not(url_parse("http:/x", &u));
	cr_assert_not(url_parse("http://", &u));
	cr_assert_not(url_parse("http://h:port/", &u));
	cr_assert_not(url_parse("http://h:70000/", &u));
	cr_assert_not(url_parse("ht tp://h/", &u));
}

Test(url, tcps_is_not_special)
{
	struct url_parts u;
	cr_assert(url_parse("tcps://Id.Example.com:4430", &u));
	cr_assert_str_eq(u.hostname, "Id.Example.com");
	cr_assert_str_eq(u.port, "4430");
	cr_assert_str_eq(u.rest, "");
}

Test(url, special_paths_start_with_a_slash)
{
	struct url_parts u;
	char out[512];
	cr_assert(url_parse("http://h:8080?q=1#f", &u));
	cr_assert_str_eq(u.rest, "/?q=1#f");
	cr_assert_eq(url_format(&u, NULL, out, sizeof(out)), 0);
	cr_assert_str_eq(out, "http://h:8080/?q=1#f");
	cr_assert(url_parse("tcp://h:22?q", &u));
	cr_assert_str_eq(u.rest, "?q");
}
