/* The redis:// URL parser: every form of §9, and the refusals. */
#include <criterion/criterion.h>

#include "redis_url.h"

static struct redis_url parse_ok(const char *text)
{
	struct redis_url u;
	char error[256] = "";
	cr_assert_eq(redis_url_parse(text, &u, error, sizeof(error)), 0, "%s: %s", text, error);
	return u;
}

static void parse_fails(const char *text, const char *reason)
{
	struct redis_url u;
	char error[256] = "";
	cr_assert_eq(redis_url_parse(text, &u, error, sizeof(error)), -1, "%s parsed", text);
	cr_assert(strstr(error, reason) != NULL, "%s: '%s' lacks '%s'", text, error, reason);
	cr_assert_null(u.host);
	cr_assert_null(u.display);
}

Test(redis_url, host_alone_takes_the_defaults)
{
	struct redis_url u = parse_ok("redis://localhost");
	cr_assert_str_eq(u.host, "localhost");
	cr_assert_eq(u.port, 6379);
	cr_assert_null(u.user);
	cr_assert_null(u.password);
	cr_assert_eq(u.db, 0);
	cr_assert_str_eq(u.display, "redis://localhost:6379");
	redis_url_free(&u);
	u = parse_ok("redis://localhost/");
	cr_assert_eq(u.db, 0);
	redis_url_free(&u);
}

Test(redis_url, bad_escapes_in_the_userinfo_stay_as_written)
{
	struct redis_url u = parse_ok("redis://us%zzer:a%4%41+b%@redis.example");
	cr_assert_str_eq(u.user, "us%zzer");
	cr_assert_str_eq(u.password, "a%4A+b%");
	redis_url_free(&u);
}

Test(redis_url, password_port_and_db)
{
	struct redis_url u = parse_ok("redis://:s%40cret@redis.example:6380/2");
	cr_assert_str_eq(u.host, "redis.example");
	cr_assert_eq(u.port, 6380);
	cr_assert_null(u.user);
	cr_assert_str_eq(u.password, "s@cret");
	cr_assert_eq(u.db, 2);
	cr_assert_str_eq(u.display, "redis://redis.example:6380");
	const char *argv[3];
	size_t lens[3];
	cr_assert_eq(redis_url_auth_argv(&u, argv, lens), 2);
	cr_assert_str_eq(argv[0], "AUTH");
	cr_assert_str_eq(argv[1], "s@cret");
	cr_assert_eq(lens[1], 6);
	redis_url_free(&u);
}

Test(redis_url, user_and_password)
{
	struct redis_url u = parse_ok("redis://exposr:p:w@10.0.0.1");
	cr_assert_str_eq(u.user, "exposr");
	cr_assert_str_eq(u.password, "p:w");
	const char *argv[3];
	size_t lens[3];
	cr_assert_eq(redis_url_auth_argv(&u, argv, lens), 3);
	cr_assert_str_eq(argv[1], "exposr");
	cr_assert_str_eq(argv[2], "p:w");
	redis_url_free(&u);
	/* Without a colon it is the password, as redis-cli reads it; the last '@' ends it. */
	u = parse_ok("redis://pa@ss@host");
	cr_assert_null(u.user);
	cr_assert_str_eq(u.password, "pa@ss");
	cr_assert_str_eq(u.host, "host");
	redis_url_free(&u);
	u = parse_ok("redis://host");
	cr_assert_eq(redis_url_auth_argv(&u, argv, lens), 0);
	redis_url_free(&u);
}

Test(redis_url, ipv6_in_brackets)
{
	struct redis_url u = parse_ok("redis://[::1]:7000/1");
	cr_assert_str_eq(u.host, "::1");
	cr_assert_eq(u.port, 7000);
	cr_assert_eq(u.db, 1);
	cr_assert_str_eq(u.display, "redis://[::1]:7000");
	redis_url_free(&u);
	u = parse_ok("redis://[::1]");
	cr_assert_eq(u.port, 6379);
	redis_url_free(&u);
}

Test(redis_url, refusals)
{
	parse_fails("rediss://host", "TLS");
	parse_fails("http://:pw@host", "must start with redis://");
	parse_fails("redis://", "no host");
	parse_fails("redis://:pw@", "no host");
	parse_fails("redis://host:", "is not a port number");
	parse_fails("redis://host:0", "out of range");
	parse_fails("redis://host:65536", "out of range");
	parse_fails("redis://host:12ab", "is not a port number");
	parse_fails("redis://host/db", "is not a database number");
	parse_fails("redis://host/-1", "is not a database number");
	parse_fails("redis://host/1/2", "is not a database number");
	parse_fails("redis://host?db=1", "query");
	parse_fails("redis://[::1", "unterminated");
	parse_fails("redis://[::1]x", "after ']'");
}
