/* Finding the tunnel from the Host (§5.2), loop detection (§5.6) and the request head
 * rewrite (§5.5, §5.7), on their own. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>

#include "rewrite.h"
#include "tunnel_lookup.h"

#define NODE "0123456789abcdef0123456789abcdef01234567"

Test(lookup, host_is_lower_cased_and_cut_at_the_port)
{
	char host[64];
	cr_assert(tunnel_host_of("My-Tunnel.Example.COM:8080", host, sizeof(host)));
	cr_assert_str_eq(host, "my-tunnel.example.com");
	cr_assert_not(tunnel_host_of(NULL, host, sizeof(host)));
	cr_assert_not(tunnel_host_of("", host, sizeof(host)));
	cr_assert_not(tunnel_host_of(":8080", host, sizeof(host)));
	cr_assert_not(tunnel_host_of("a-host-name-too-long-for-the-buffer", host, 8));
}

Test(lookup, only_domain_names_of_two_labels_are_alt_name_candidates)
{
	cr_assert(tunnel_alt_name_candidate("example.net"));
	cr_assert(tunnel_alt_name_candidate("www.example.net"));
	cr_assert_not(tunnel_alt_name_candidate("localhost"));
	cr_assert_not(tunnel_alt_name_candidate("127.0.0.1"));
	cr_assert_not(tunnel_alt_name_candidate("[::1]"));
	cr_assert_not(tunnel_alt_name_candidate("::1"));
}

Test(lookup, one_label_under_the_domain_is_a_tunnel)
{
	char id[64];
	cr_assert(tunnel_id_from_subdomain("my-tunnel.example.com", "example.com", id, sizeof(id)));
	cr_assert_str_eq(id, "my-tunnel");
	/* Not validated here: an unknown id is answered 404 later. */
	cr_assert(tunnel_id_from_subdomain("AB.example.com", "example.com", id, sizeof(id)));
	cr_assert_not(tunnel_id_from_subdomain("a.b.example.com", "example.com", id, sizeof(id)));
	cr_assert_not(tunnel_id_from_subdomain("example.com", "example.com", id, sizeof(id)));
	cr_assert_not(tunnel_id_from_subdomain("x.other.com", "example.com", id, sizeof(id)));
	cr_assert_not(tunnel_id_from_subdomain("localhost", "localhost", id, sizeof(id)));
}

static struct exposr_http_request request_with(const struct exposr_http_header *headers,
                                               size_t count)
{
	return (struct exposr_http_request){
	        .method = "GET",
	        .target = "/page?q=1",
	        .path = "/page",
	        .query = "q=1",
	        .http_major = 1,
	        .http_minor = 1,
	        .headers = headers,
	        .header_count = count,
	        .keep_alive = true,
	        .remote_addr = "127.0.0.2",
	};
}

Test(lookup, loop_is_our_node_id_in_any_exposr_via_entry)
{
	struct exposr_http_header h[] = {{"Host", "t.example.com"},
	                                 {"exposr-via", "aaaa, " NODE " ,bbbb"}};
	struct exposr_http_request req = request_with(h, 2);
	cr_assert(tunnel_loop_detected(&req, NODE));
	h[1].value = "aaaa," NODE "x";
	cr_assert_not(tunnel_loop_detected(&req, NODE));
	struct exposr_http_header two[] = {{"exposr-via", "aaaa"}, {"Exposr-Via", NODE}};
	req = request_with(two, 2);
	cr_assert(tunnel_loop_detected(&req, NODE));
}

/* The head as a string; the caller frees it. */
static char *rewrite(const struct exposr_http_request *req, const struct ingress_target *target,
                     bool local)
{
	struct evbuffer *out = evbuffer_new();
	struct rewrite_context ctx = {
	        .node_id = NODE, .peer_addr = req->remote_addr, .local = local, .target = target};
	cr_assert_eq(head_rewrite(req, &ctx, out), EXPOSR_OK);
	size_t len = evbuffer_get_length(out);
	char *text = calloc(1, len + 1);
	evbuffer_remove(out, text, len);
	evbuffer_free(out);
	return text;
}

static void assert_has(const char *head, const char *line)
{
	char want[512];
	snprintf(want, sizeof(want), "\r\n%s\r\n", line);
	cr_assert_not_null(strstr(head, want), "missing \"%s\" in:\n%s", line, head);
}

static void assert_lacks(const char *head, const char *text)
{
	cr_assert_null(strcasestr(head, text), "unexpected \"%s\" in:\n%s", text, head);
}

Test(rewrite, forwarding_headers_of_a_plain_request)
{
	struct exposr_http_header h[] = {
	        {"Host", "t.localhost.example"}, {"Connection", "keep-alive"}, {"Accept", "*/*"}};
	struct exposr_http_request req = request_with(h, 3);
	char *head = rewrite(&req, NULL, true);
	cr_assert(strncmp(head, "GET /page?q=1 HTTP/1.1\r\n", 24) == 0, "%s", head);
	assert_has(head, "Host: t.localhost.example");
	assert_has(head, "Accept: */*");
	assert_has(head, "x-forwarded-for: 127.0.0.2");
	assert_has(head, "x-real-ip: 127.0.0.2");
	assert_has(head, "exposr-via: " NODE);
	assert_has(head, "x-forwarded-host: t.localhost.example");
	assert_has(head, "x-forwarded-proto: http");
	assert_has(head, "forwarded: by=_exposr;for=127.0.0.2;host=t.localhost.example;proto=http");
	assert_lacks(head, "connection:");
	assert_lacks(head, "x-forwarded-port");
	cr_assert(strcmp(head + strlen(head) - 4, "\r\n\r\n") == 0);
	free(head);
}

Test(rewrite, incoming_forwarding_headers_are_replaced)
{
	struct exposr_http_header h[] = {
	        {"Host", "t.example.com:8080"}, {"X-Forwarded-For", "127.0.0.3, 10.0.0.1"},
	        {"X-Forwarded-Proto", "https"}, {"X-Real-IP", "10.9.9.9"},
	        {"Forwarded", "for=1.2.3.4"},   {"X-Forwarded-Host", "evil"},
	        {"exposr-via", "other-node"}};
	struct exposr_http_request req = request_with(h, 7);
	char *head = rewrite(&req, NULL, true);
	assert_has(head, "x-forwarded-for: 127.0.0.3");
	assert_has(head, "x-real-ip: 127.0.0.3");
	assert_has(head, "x-forwarded-proto: https");
	assert_has(head, "x-forwarded-host: t.example.com:8080");
	assert_has(head, "x-forwarded-port: 8080");
	assert_has(head, "forwarded: by=_exposr;for=127.0.0.3;host=t.example.com:8080;proto=https");
	assert_has(head, "exposr-via: " NODE ",other-node");
	assert_lacks(head, "10.0.0.1");
	assert_lacks(head, "10.9.9.9");
	assert_lacks(head, "1.2.3.4");
	assert_lacks(head, "evil");
	free(head);
}

Test(rewrite, client_ip_that_is_no_address_is_empty)
{
	struct exposr_http_header h[] = {{"Host", "t.example.com"}, {"X-Forwarded-For", "junk"}};
	struct exposr_http_request req = request_with(h, 2);
	char ip[64];
	rewrite_client_ip(&req, "127.0.0.2", ip, sizeof(ip));
	cr_assert_str_eq(ip, "");
	h[1].value = " ::1 ,1.1.1.1";
	rewrite_client_ip(&req, "127.0.0.2", ip, sizeof(ip));
	cr_assert_str_eq(ip, "::1");
	req.header_count = 1;
	rewrite_client_ip(&req, "::ffff:127.0.0.1", ip, sizeof(ip));
	cr_assert_str_eq(ip, "::ffff:127.0.0.1");
}

Test(rewrite, host_referer_and_origin_follow_an_https_target)
{
	struct ingress_target target = {
	        .rewrite = true, .scheme = "https", .hostname = "echo.localhost.example"};
	struct exposr_http_header h[] = {{"Host", "t.localhost.example"},
	                                 {"Origin", "t.localhost.example"},
	                                 {"Referer", "https://t.localhost.example/page"}};
	struct exposr_http_request req = request_with(h, 3);
	char *head = rewrite(&req, &target, true);
	assert_has(head, "Host: echo.localhost.example");
	assert_has(head, "Origin: echo.localhost.example");
	assert_has(head, "Referer: https://echo.localhost.example/page");
	/* The forwarding headers still name the public host. */
	assert_has(head, "x-forwarded-host: t.localhost.example");
	free(head);
}

Test(rewrite, urls_move_to_the_target_only_from_the_tunnel_host)
{
	struct ingress_target target = {
	        .rewrite = true, .scheme = "http", .hostname = "127.0.0.1", .port = "3000"};
	char out[256];
	cr_assert(rewrite_target_value("https://t.example.com", "t.example.com", &target, out,
	                               sizeof(out)));
	cr_assert_str_eq(out, "http://127.0.0.1:3000/", "an Origin gains its path");
	cr_assert(rewrite_target_value("http://u@t.example.com/a?b#c", "t.example.com", &target,
	                               out, sizeof(out)));
	cr_assert_str_eq(out, "http://u@127.0.0.1:3000/a?b#c");
	cr_assert_not(rewrite_target_value("https://elsewhere.com/x", "t.example.com", &target, out,
	                                   sizeof(out)));
	cr_assert(rewrite_target_value("null", "t.example.com", &target, out, sizeof(out)));
	cr_assert_str_eq(out, "127.0.0.1:3000");
}

Test(rewrite, nothing_follows_a_target_that_is_not_http)
{
	struct ingress_target none = {.rewrite = false};
	struct exposr_http_header h[] = {{"Host", "t.localhost.example"},
	                                 {"Origin", "t.localhost.example"}};
	struct exposr_http_request req = request_with(h, 2);
	char *head = rewrite(&req, &none, true);
	assert_has(head, "Host: t.localhost.example");
	assert_has(head, "Origin: t.localhost.example");
	free(head);
}

Test(rewrite, upgrades_keep_connection)
{
	struct exposr_http_header h[] = {
	        {"Host", "t.example.com"}, {"Connection", "Upgrade"}, {"Upgrade", "websocket"}};
	struct exposr_http_request req = request_with(h, 3);
	req.upgrade = true;
	char *head = rewrite(&req, NULL, true);
	assert_has(head, "Connection: Upgrade");
	assert_has(head, "Upgrade: websocket");
	assert_has(head, "x-forwarded-for: 127.0.0.2");
	free(head);
}

Test(rewrite, a_rerouted_request_gets_only_the_client_headers)
{
	struct exposr_http_header h[] = {
	        {"Host", "t.example.com"}, {"Connection", "close"}, {"X-Forwarded-Proto", "https"}};
	struct exposr_http_request req = request_with(h, 3);
	char *head = rewrite(&req, NULL, false);
	assert_has(head, "Connection: close");
	assert_has(head, "X-Forwarded-Proto: https");
	assert_has(head, "x-forwarded-for: 127.0.0.2");
	assert_lacks(head, "forwarded: by");
	assert_lacks(head, "x-forwarded-host");
	free(head);
}

Test(rewrite, line_breaks_in_values_cannot_split_the_head)
{
	struct exposr_http_header h[] = {{"Host", "t.example.com"}, {"X-Odd", "a\r\n b"}};
	struct exposr_http_request req = request_with(h, 2);
	char *head = rewrite(&req, NULL, true);
	assert_has(head, "X-Odd: a   b");
	free(head);
}
