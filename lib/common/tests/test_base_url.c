/* The base URL of a request: every header of docs/api.md §2.1 and the WHATWG normalising. */
#include <criterion/criterion.h>
#include <string.h>

#include "common/base_url.h"
#include "common/request.h"
#include "common/tunnel_object.h"

static char *base(const char *fwd, const char *xfp, const char *xs, const char *host,
                  const char *xfport)
{
	static char text[512];
	struct url_parts u;
	if (!base_url_from_headers(fwd, xfp, xs, host, xfport, &u))
		return NULL;
	cr_assert_eq(url_format(&u, NULL, text, sizeof(text)), 0);
	return text;
}

#define EXPECT(expected, ...)                                                                      \
	do {                                                                                       \
		const char *got = base(__VA_ARGS__);                                               \
		cr_assert_not_null(got, "no base URL, expected %s", expected);                     \
		cr_assert_str_eq(got, expected);                                                   \
	} while (0)

Test(base_url, host_only)
{
	EXPECT("http://localhost:8080/", NULL, NULL, NULL, "localhost:8080", NULL);
	EXPECT("http://example.com/", NULL, NULL, NULL, "Example.COM", NULL);
	EXPECT("http://127.0.0.1:8080/", NULL, NULL, NULL, "127.0.0.1:8080", NULL);
}

Test(base_url, default_ports_dropped)
{
	EXPECT("http://example.com/", NULL, NULL, NULL, "example.com:80", NULL);
	EXPECT("https://example.com/", NULL, "https", NULL, "example.com:443", NULL);
	EXPECT("https://example.com:80/", NULL, "https", NULL, "example.com:80", NULL);
	EXPECT("http://example.com:443/", NULL, NULL, NULL, "example.com:443", NULL);
	EXPECT("http://example.com:8080/", NULL, NULL, NULL, "example.com:08080", NULL);
}

Test(base_url, scheme_sources_in_order)
{
	EXPECT("https://h/", "proto=https", "ws", "ftp", "h", NULL);
	EXPECT("wss://h/", NULL, "wss", "ftp", "h", NULL);
	EXPECT("ftp://h/", NULL, NULL, "ftp", "h", NULL);
	EXPECT("https://h/", NULL, "HTTPS", NULL, "h", NULL);
	/* An empty value counts as absent, like JavaScript's ||. */
	EXPECT("https://h/", "proto=", "https", NULL, "h", NULL);
}

Test(base_url, forwarded_host_and_port)
{
	EXPECT("https://public.example:8443/", "for=1.2.3.4;proto=https;host=Public.Example:8443",
	       NULL, NULL, "internal:8080", NULL);
	/* No port in the Forwarded host: X-Forwarded-Port, then the Host header's port. */
	EXPECT("http://public.example:9000/", "host=public.example", NULL, NULL, "internal:8080",
	       "9000");
	EXPECT("http://public.example:8080/", "host=public.example", NULL, NULL, "internal:8080",
	       NULL);
	/* Naive parsing: keys are case-sensitive, values are not unquoted, the last wins. */
	EXPECT("http://internal/", "Host=other", NULL, NULL, "internal", NULL);
	EXPECT("http://b/", "host=a; host=b", NULL, NULL, "internal", NULL);
	EXPECT("http://a/", " host = a ;;", NULL, NULL, "internal", NULL);
}

Test(base_url, x_forwarded_port)
{
	EXPECT("http://h:1234/", NULL, NULL, NULL, "h:8080", "1234");
	EXPECT("https://h/", NULL, "https", NULL, "h:8080", "443");
}

Test(base_url, cannot_be_built)
{
	cr_assert_null(base(NULL, NULL, NULL, NULL, NULL));
	cr_assert_null(base(NULL, NULL, NULL, "", NULL));
	cr_assert_null(base(NULL, NULL, NULL, "h:99999", NULL));
	cr_assert_null(base(NULL, NULL, NULL, "h:12ab", NULL));
	cr_assert_null(base(NULL, "1http", NULL, "h", NULL));
	cr_assert_null(base(NULL, "http, https", NULL, "h", NULL));
	cr_assert_null(base(NULL, NULL, NULL, "bad host", NULL));
	cr_assert_null(base(NULL, NULL, NULL, "a%41", NULL));
	cr_assert_null(base("proto=\"https\"", NULL, NULL, "h", NULL));
	cr_assert_null(base(NULL, NULL, NULL, "999.1.1.1", NULL));
}

Test(base_url, ipv4_and_ipv6_hosts)
{
	EXPECT("http://127.0.0.1/", NULL, NULL, NULL, "127.1", NULL);
	EXPECT("http://192.168.0.1:8080/", NULL, NULL, NULL, "0xc0.0250.0.1:8080", NULL);
	EXPECT("http://[::1]:8080/", NULL, NULL, NULL, "[::1]:8080", NULL);
}

Test(base_url, from_request_headers)
{
	struct exposr_http_header headers[] = {
	        {"host", "api.example:8080"},
	        {"X-FORWARDED-PROTO", "https"},
	        {"x-forwarded-port", "443"},
	};
	struct exposr_http_request req = {.method = "GET", .headers = headers, .header_count = 3};
	struct url_parts u;
	char host[300];
	cr_assert(base_url_of_request(&req, &u));
	cr_assert_str_eq(u.scheme, "https");
	cr_assert_eq(url_host(&u, host, sizeof(host)), 0);
	cr_assert_str_eq(host, "api.example");
}

Test(base_url, websocket_endpoint_url)
{
	struct url_parts u;
	char url[512];
	cr_assert(base_url_from_headers(NULL, "https", NULL, "h:8443", NULL, &u));
	cr_assert_eq(ws_endpoint_url(&u, "my-tunnel", "a-b_c", url, sizeof(url)), 0);
	cr_assert_str_eq(url, "wss://h:8443/v1/tunnel/my-tunnel/ws-endpoint?t=a-b_c");
	cr_assert(base_url_from_headers(NULL, NULL, NULL, "localhost:8080", NULL, &u));
	cr_assert_eq(ws_endpoint_url(&u, "t1234", "x+y/z", url, sizeof(url)), 0);
	cr_assert_str_eq(url, "ws://localhost:8080/v1/tunnel/t1234/ws-endpoint?t=x%2By%2Fz");
}
