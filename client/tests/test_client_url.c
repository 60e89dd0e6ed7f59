/* The client's URLs: parsing, target serialisation, Host headers and the API's paths. */
#include <criterion/criterion.h>

#include "client_url.h"

Test(url, parses_what_the_client_meets)
{
	struct client_url u;
	char err[256] = "";
	cr_assert_eq(client_url_parse("ws://LocalHost:8080/v1/tunnel/x/ws-endpoint?t=abc", &u, err,
	                              sizeof(err)),
	             0, "%s", err);
	cr_assert_str_eq(u.parts.scheme, "ws");
	cr_assert_str_eq(u.host, "localhost");
	cr_assert_eq(u.port, 8080);
	cr_assert_str_eq(u.path, "/v1/tunnel/x/ws-endpoint?t=abc");
	cr_assert_not(u.tls);
	cr_assert_eq(client_url_parse("wss://example.com", &u, err, sizeof(err)), 0);
	cr_assert_eq(u.port, 443);
	cr_assert(u.tls);
	cr_assert_str_eq(u.path, "/");
	cr_assert_eq(client_url_parse("http://[::1]:3000/a#frag", &u, err, sizeof(err)), 0);
	cr_assert_str_eq(u.host, "::1");
	cr_assert_eq(u.port, 3000);
	cr_assert_str_eq(u.path, "/a");
	cr_assert_eq(client_url_parse("tls://db.internal:5432", &u, err, sizeof(err)), 0);
	cr_assert(u.tls);
	cr_assert_eq(u.port, 5432);
}

Test(url, refuses_with_a_reason)
{
	struct client_url u;
	char err[256];
	cr_assert_eq(client_url_parse("localhost:3000", &u, err, sizeof(err)), -1);
	cr_assert_str_eq(err, "not an absolute URL: localhost:3000");
	cr_assert_eq(client_url_parse("ftp://x", &u, err, sizeof(err)), -1);
	cr_assert_str_eq(err, "unsupported URL scheme: ftp://x");
	cr_assert_eq(client_url_parse("http://x:99999/", &u, err, sizeof(err)), -1);
	cr_assert_str_eq(err, "bad host or port in URL: http://x:99999/");
	cr_assert_eq(client_url_parse("http://:80/", &u, err, sizeof(err)), -1);
	cr_assert_eq(client_url_parse("http://[::1/", &u, err, sizeof(err)), -1);
	cr_assert_eq(client_url_parse("http://user@host/", &u, err, sizeof(err)), -1);
}

Test(url, targets_serialised_as_the_client_does)
{
	char out[256], err[256] = "";
	struct {
		const char *in, *out;
	} cases[] = {
	        {"http://localhost:3000", "http://localhost:3000/"},
	        {"HTTP://Example.COM:80/x?y=1", "http://example.com/x?y=1"},
	        {"https://example.com:443", "https://example.com/"},
	        {"https://example.com:8443/", "https://example.com:8443/"},
	        {"tcp://127.0.0.1:22", "tcp://127.0.0.1:22"},
	        {"tls://db:5432", "tls://db:5432"},
	        {"http://[::1]:3000", "http://[::1]:3000/"},
	        {"http://h:3000?x=1#top", "http://h:3000/?x=1"},
	        {"http://0x7f.1:3000/", "http://127.0.0.1:3000/"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_assert_eq(client_url_target(cases[i].in, out, sizeof(out), err, sizeof(err)), 0,
		             "%s", err);
		cr_assert_str_eq(out, cases[i].out);
	}
	cr_assert_eq(client_url_target("tcp://host", out, sizeof(out), err, sizeof(err)), -1);
	cr_assert_str_eq(err, "a tcp, tcps or tls target needs a port: tcp://host");
	cr_assert_eq(client_url_target("ws://host:1", out, sizeof(out), err, sizeof(err)), -1);
	cr_assert_str_eq(err, "target must be http, https, tcp, tcps or tls: ws://host:1");
}

Test(url, api_paths_go_below_the_server_path)
{
	struct client_url u;
	char err[256], out[256];
	const char *servers[] = {"http://h:8080", "http://h:8080/", "https://h/base",
	                         "https://h/base/"};
	const char *want[] = {"/v1/account", "/v1/account", "/base/v1/account", "/base/v1/account"};
	for (size_t i = 0; i < 4; i++) {
		cr_assert_eq(client_url_parse(servers[i], &u, err, sizeof(err)), 0);
		cr_assert_eq(client_url_join(&u, "v1/account", out, sizeof(out)), 0);
		cr_assert_str_eq(out, want[i]);
	}
}

Test(url, host_header_drops_the_default_port)
{
	struct client_url u;
	char err[256], out[300];
	client_url_parse("http://h:80/", &u, err, sizeof(err));
	cr_assert_eq(url_host(&u.parts, out, sizeof(out)), 0);
	cr_assert_str_eq(out, "h");
	client_url_parse("http://h:8080/", &u, err, sizeof(err));
	cr_assert_eq(url_host(&u.parts, out, sizeof(out)), 0);
	cr_assert_str_eq(out, "h:8080");
	client_url_parse("https://[::1]:8443/", &u, err, sizeof(err));
	cr_assert_eq(url_host(&u.parts, out, sizeof(out)), 0);
	cr_assert_str_eq(out, "[::1]:8443");
}
