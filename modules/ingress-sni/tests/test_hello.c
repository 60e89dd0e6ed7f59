/* The ClientHello reader against hellos OpenSSL writes, whole, cut and damaged. */
#include <criterion/criterion.h>
#include <string.h>

#include <openssl/ssl.h>

#include "sni.h"

/* The first flight of an OpenSSL client asking for `name` (NULL: no SNI). */
static size_t client_hello(const char *name, unsigned char *out, size_t size)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl = SSL_new(ctx);
	BIO *rbio = BIO_new(BIO_s_mem()), *wbio = BIO_new(BIO_s_mem());
	SSL_set_bio(ssl, rbio, wbio);
	SSL_set_connect_state(ssl);
	if (name != NULL)
		cr_assert_eq(SSL_set_tlsext_host_name(ssl, name), 1);
	cr_assert_eq(SSL_do_handshake(ssl), -1, "the client waits for the server");
	int n = BIO_read(wbio, out, (int)size);
	cr_assert_gt(n, 0, "the client wrote its hello");
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	return (size_t)n;
}

static unsigned char hello[SNI_MAX_HELLO];

Test(hello, reads_the_server_name_lower_cased)
{
	size_t len = client_hello("MyTunnel.Example.TEST", hello, sizeof(hello));
	char name[SNI_NAME_MAX];
	cr_assert_eq(sni_hello_parse(hello, len, name), SNI_HELLO_NAME);
	cr_assert_str_eq(name, "mytunnel.example.test");
}

Test(hello, a_hello_without_sni_is_complete_and_nameless)
{
	size_t len = client_hello(NULL, hello, sizeof(hello));
	char name[SNI_NAME_MAX];
	cr_assert_eq(sni_hello_parse(hello, len, name), SNI_HELLO_NONE);
}

Test(hello, every_cut_short_of_the_end_asks_for_more)
{
	size_t len = client_hello("t1234.example.test", hello, sizeof(hello));
	char name[SNI_NAME_MAX];
	for (size_t cut = 0; cut < len; cut++)
		cr_assert_eq(sni_hello_parse(hello, cut, name), SNI_HELLO_MORE, "cut at %zu", cut);
}

Test(hello, a_hello_split_over_two_records_is_gathered)
{
	unsigned char one[SNI_MAX_HELLO];
	size_t len = client_hello("split.example.test", one, sizeof(one));
	size_t body = len - 5, first = 40;
	/* Record 1: 40 bytes of the message; record 2: the rest. */
	memcpy(hello, one, 5);
	hello[3] = 0;
	hello[4] = (unsigned char)first;
	memcpy(hello + 5, one + 5, first);
	unsigned char *r2 = hello + 5 + first;
	memcpy(r2, one, 3);
	r2[3] = (unsigned char)((body - first) >> 8);
	r2[4] = (unsigned char)(body - first);
	memcpy(r2 + 5, one + 5 + first, body - first);
	char name[SNI_NAME_MAX];
	cr_assert_eq(sni_hello_parse(hello, len + 5, name), SNI_HELLO_NAME);
	cr_assert_str_eq(name, "split.example.test");
}

Test(hello, other_bytes_are_refused)
{
	char name[SNI_NAME_MAX];
	const char *http = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	cr_assert_eq(sni_hello_parse((const unsigned char *)http, strlen(http), name),
	             SNI_HELLO_BAD);
	/* A handshake record that is not a ClientHello (a ServerHello). */
	const unsigned char server_hello[] = {22, 3, 3, 0, 4, 2, 0, 0, 0};
	cr_assert_eq(sni_hello_parse(server_hello, sizeof(server_hello), name), SNI_HELLO_BAD);
	/* A ClientHello announcing more than a hello may hold. */
	const unsigned char huge[] = {22, 3, 1, 0, 4, 1, 0xff, 0xff, 0xff};
	cr_assert_eq(sni_hello_parse(huge, sizeof(huge), name), SNI_HELLO_BAD);
}

Test(hello, a_damaged_extension_block_is_refused)
{
	size_t len = client_hello("t1234.example.test", hello, sizeof(hello));
	/* The extensions' length (after version, random, session id, suites, compression)
	 * made longer than the message. */
	size_t at = 5 + 4 + 2 + 32;
	at += 1 + hello[at];
	at += 2 + ((size_t)hello[at] << 8 | hello[at + 1]);
	at += 1 + hello[at];
	hello[at] = 0xff;
	char name[SNI_NAME_MAX];
	cr_assert_eq(sni_hello_parse(hello, len, name), SNI_HELLO_BAD);
}
