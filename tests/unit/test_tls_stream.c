/* lib/tls: a client and a server tls_stream joined by an in-memory pipe. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "tls_stream.h"

/* One end of a pipe: what it writes arrives at the other end, from the loop. */
struct pipe_end {
	struct exposr_stream base;
	struct pipe_end *peer;
	struct evbuffer *in;
	struct event *deliver;
	struct exposr_stream_callbacks cbs;
	void *arg;
	bool paused, peer_ended, reported, closed;
};

static struct event_base *base;

static void pipe_deliver(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct pipe_end *p = arg;
	if (p->cbs.on_data != NULL && !p->paused && evbuffer_get_length(p->in) > 0)
		p->cbs.on_data(p->arg, &p->base, p->in);
	/* The end comes right after the last bytes, as a socket's EOF can. */
	if (!p->closed && p->peer_ended && !p->reported && p->cbs.on_closed != NULL &&
	    evbuffer_get_length(p->in) == 0) {
		p->reported = true;
		p->cbs.on_closed(p->arg, &p->base, false);
	}
}

static void pipe_set_callbacks(struct exposr_stream *s, const struct exposr_stream_callbacks *cbs,
                               void *arg)
{
	struct pipe_end *p = (struct pipe_end *)s;
	p->cbs = cbs != NULL ? *cbs : (struct exposr_stream_callbacks){0};
	p->arg = arg;
	event_active(p->deliver, 0, 0);
}

static int pipe_write(struct exposr_stream *s, struct evbuffer *data)
{
	struct pipe_end *p = (struct pipe_end *)s;
	if (p->peer == NULL) {
		evbuffer_drain(data, evbuffer_get_length(data));
		return EXPOSR_ERROR;
	}
	cr_assert_eq(evbuffer_add_buffer(p->peer->in, data), 0);
	event_active(p->peer->deliver, 0, 0);
	return EXPOSR_OK;
}

static size_t pipe_output_length(struct exposr_stream *s)
{
	(void)s;
	return 0;
}

static void pipe_set_low_water(struct exposr_stream *s, size_t bytes)
{
	(void)s;
	(void)bytes;
}

static void pipe_pause(struct exposr_stream *s)
{
	((struct pipe_end *)s)->paused = true;
}

static void pipe_resume(struct exposr_stream *s)
{
	struct pipe_end *p = (struct pipe_end *)s;
	p->paused = false;
	event_active(p->deliver, 0, 0);
}

/* The other end sees the end; this one is freed at teardown (the peer may still read). */
static void pipe_end_now(struct pipe_end *p)
{
	if (p->peer != NULL) {
		p->peer->peer_ended = true;
		event_active(p->peer->deliver, 0, 0);
		p->peer->peer = NULL;
		p->peer = NULL;
	}
}

static void pipe_close(struct exposr_stream *s)
{
	struct pipe_end *p = (struct pipe_end *)s;
	p->closed = true;
	pipe_end_now(p);
}

static const struct exposr_stream_vtable pipe_vt = {
        .size = sizeof(struct exposr_stream_vtable),
        .set_callbacks = pipe_set_callbacks,
        .write = pipe_write,
        .output_length = pipe_output_length,
        .set_low_water = pipe_set_low_water,
        .pause_read = pipe_pause,
        .resume_read = pipe_resume,
        .close = pipe_close,
};

static struct pipe_end ends[2];

static void pipe_init(void)
{
	for (int i = 0; i < 2; i++) {
		ends[i] = (struct pipe_end){.base.vt = &pipe_vt, .peer = &ends[1 - i]};
		ends[i].in = evbuffer_new();
		ends[i].deliver = event_new(base, -1, 0, pipe_deliver, &ends[i]);
		cr_assert(ends[i].in != NULL && ends[i].deliver != NULL);
	}
}

/* What one owner of a tls_stream saw. */
struct owner {
	struct evbuffer *got;
	bool closed, error, handshake_ran, handshake_ok, pause_once;
	char error_what[32];
	struct exposr_stream *close_on_handshake;
};

static void owner_data(void *arg, struct exposr_stream *s, struct evbuffer *data)
{
	struct owner *o = arg;
	cr_assert_eq(evbuffer_add_buffer(o->got, data), 0);
	if (o->pause_once) {
		o->pause_once = false;
		s->vt->pause_read(s);
	}
}

static void owner_closed(void *arg, struct exposr_stream *s, bool error)
{
	(void)s;
	struct owner *o = arg;
	cr_assert_not(o->closed, "on_closed runs once");
	o->closed = true;
	o->error = error;
}

static const struct exposr_stream_callbacks owner_cbs = {.on_data = owner_data,
                                                         .on_closed = owner_closed};

static void on_handshake(void *arg, bool ok)
{
	struct owner *o = arg;
	cr_assert_not(o->handshake_ran, "on_handshake runs once");
	o->handshake_ran = true;
	o->handshake_ok = ok;
	if (o->close_on_handshake != NULL)
		o->close_on_handshake->vt->close(o->close_on_handshake);
}

static void on_error(void *arg, const char *what, const char *reason)
{
	struct owner *o = arg;
	cr_assert_not_null(reason);
	snprintf(o->error_what, sizeof(o->error_what), "%s", what);
}

static struct tls_stream_events events_of(struct owner *o)
{
	return (struct tls_stream_events){
	        .on_handshake = on_handshake, .on_error = on_error, .arg = o};
}

static SSL_CTX *server_ctx, *client_ctx;
static struct owner server_owner, client_owner;

/* A throwaway self-signed P-256 certificate for "test.example". */
static void make_server_ctx(void)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *cert = X509_new();
	cr_assert(key != NULL && cert != NULL);
	X509_set_version(cert, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
	X509_gmtime_adj(X509_getm_notBefore(cert), -60);
	X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
	X509_set_pubkey(cert, key);
	X509_NAME *name = X509_get_subject_name(cert);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"test.example",
	                           -1, -1, 0);
	X509_set_issuer_name(cert, name);
	cr_assert_gt(X509_sign(cert, key, EVP_sha256()), 0);
	server_ctx = SSL_CTX_new(TLS_server_method());
	cr_assert_not_null(server_ctx);
	cr_assert_eq(SSL_CTX_use_certificate(server_ctx, cert), 1);
	cr_assert_eq(SSL_CTX_use_PrivateKey(server_ctx, key), 1);
	X509_free(cert);
	EVP_PKEY_free(key);
}

static void setup(void)
{
	base = event_base_new();
	cr_assert_not_null(base);
	pipe_init();
	make_server_ctx();
	client_ctx = SSL_CTX_new(TLS_client_method());
	cr_assert_not_null(client_ctx);
	SSL_CTX_set_verify(client_ctx, SSL_VERIFY_NONE, NULL);
	server_owner = (struct owner){.got = evbuffer_new()};
	client_owner = (struct owner){.got = evbuffer_new()};
}

static void teardown(void)
{
	for (int i = 0; i < 2; i++) {
		evbuffer_free(ends[i].in);
		event_free(ends[i].deliver);
	}
	evbuffer_free(server_owner.got);
	evbuffer_free(client_owner.got);
	SSL_CTX_free(server_ctx);
	SSL_CTX_free(client_ctx);
	event_base_free(base);
}

static void run(void)
{
	for (int i = 0; i < 200; i++)
		event_base_loop(base, EVLOOP_NONBLOCK);
}

static struct exposr_stream *server_new(void)
{
	SSL *ssl = SSL_new(server_ctx);
	cr_assert_not_null(ssl);
	SSL_set_accept_state(ssl);
	struct tls_stream_events events = events_of(&server_owner);
	struct exposr_stream *s = tls_stream_new(base, &ends[0].base, ssl, &events);
	cr_assert_not_null(s);
	return s;
}

static struct exposr_stream *client_new(const char *check_host)
{
	SSL *ssl = SSL_new(client_ctx);
	cr_assert_not_null(ssl);
	if (check_host != NULL) {
		SSL_set_verify(ssl, SSL_VERIFY_PEER, NULL);
		cr_assert_eq(SSL_set1_host(ssl, check_host), 1);
	}
	SSL_set_connect_state(ssl);
	struct tls_stream_events events = events_of(&client_owner);
	struct exposr_stream *s = tls_stream_new(base, &ends[1].base, ssl, &events);
	cr_assert_not_null(s);
	return s;
}

static void write_text(struct exposr_stream *s, const char *text)
{
	struct evbuffer *b = evbuffer_new();
	cr_assert_eq(evbuffer_add(b, text, strlen(text)), 0);
	cr_assert_eq(s->vt->write(s, b), EXPOSR_OK);
	cr_assert_eq(evbuffer_get_length(b), 0);
	evbuffer_free(b);
}

static bool got_is(struct owner *o, const char *text)
{
	size_t len = evbuffer_get_length(o->got);
	return len == strlen(text) && memcmp(evbuffer_pullup(o->got, -1), text, len) == 0;
}

Test(tls_stream, writes_before_the_handshake_wait_then_both_ways, .init = setup, .fini = teardown)
{
	struct exposr_stream *server = server_new();
	struct exposr_stream *client = client_new(NULL);
	client->vt->set_callbacks(client, &owner_cbs, &client_owner);
	write_text(client, "hello before the handshake");
	run();
	cr_assert(server_owner.handshake_ran && server_owner.handshake_ok);
	cr_assert(client_owner.handshake_ran && client_owner.handshake_ok);
	server->vt->set_callbacks(server, &owner_cbs, &server_owner);
	run();
	cr_assert(got_is(&server_owner, "hello before the handshake"));
	write_text(server, "and back");
	run();
	cr_assert(got_is(&client_owner, "and back"));
	/* close_notify: the server's owner sees a clean end. */
	client->vt->close(client);
	run();
	cr_assert(server_owner.closed);
	cr_assert_not(server_owner.error);
	server->vt->close(server);
	run();
}

Test(tls_stream, records_held_when_the_socket_ends_are_delivered, .init = setup, .fini = teardown)
{
	struct exposr_stream *server = server_new();
	struct exposr_stream *client = client_new(NULL);
	run();
	cr_assert(server_owner.handshake_ok);
	/* 1 MiB, then the client's socket ends without close_notify. */
	size_t total = 1024 * 1024;
	char *payload = malloc(total);
	cr_assert_not_null(payload);
	for (size_t i = 0; i < total; i++)
		payload[i] = (char)('a' + i % 26);
	struct evbuffer *b = evbuffer_new();
	cr_assert_eq(evbuffer_add(b, payload, total), 0);
	cr_assert_eq(client->vt->write(client, b), EXPOSR_OK);
	evbuffer_free(b);
	pipe_end_now(&ends[1]);
	server_owner.pause_once = true;
	server->vt->set_callbacks(server, &owner_cbs, &server_owner);
	run();
	cr_assert_lt(evbuffer_get_length(server_owner.got), total, "paused after the first batch");
	cr_assert_not(server_owner.closed, "not before the held records");
	server->vt->resume_read(server);
	run();
	cr_assert_eq(evbuffer_get_length(server_owner.got), total);
	cr_assert(memcmp(evbuffer_pullup(server_owner.got, -1), payload, total) == 0);
	cr_assert(server_owner.closed);
	cr_assert_not(server_owner.error, "an end without close_notify is still an end");
	free(payload);
	server->vt->close(server);
	client->vt->close(client);
	run();
}

Test(tls_stream, a_certificate_for_another_name_fails_the_client, .init = setup, .fini = teardown)
{
	struct exposr_stream *server = server_new();
	struct exposr_stream *client = client_new("other.example");
	client->vt->set_callbacks(client, &owner_cbs, &client_owner);
	write_text(client, "never sent");
	run();
	cr_assert(client_owner.handshake_ran);
	cr_assert_not(client_owner.handshake_ok);
	cr_assert_str_eq(client_owner.error_what, "handshake");
	cr_assert(client_owner.closed && client_owner.error);
	struct evbuffer *b = evbuffer_new();
	cr_assert_eq(evbuffer_add(b, "x", 1), 0);
	cr_assert_eq(client->vt->write(client, b), EXPOSR_ERROR);
	cr_assert_eq(evbuffer_get_length(b), 0);
	evbuffer_free(b);
	cr_assert_eq(evbuffer_get_length(server_owner.got), 0);
	client->vt->close(client);
	server->vt->close(server);
	run();
}

Test(tls_stream, garbage_or_an_early_end_fails_the_handshake, .init = setup, .fini = teardown)
{
	struct exposr_stream *server = server_new();
	struct evbuffer *b = evbuffer_new();
	cr_assert_eq(evbuffer_add(b, "GET / HTTP/1.1\r\n\r\n", 18), 0);
	cr_assert_eq(ends[1].base.vt->write(&ends[1].base, b), EXPOSR_OK);
	evbuffer_free(b);
	run();
	cr_assert(server_owner.handshake_ran);
	cr_assert_not(server_owner.handshake_ok);
	cr_assert_str_eq(server_owner.error_what, "handshake");
	server->vt->close(server);
	run();

	/* A socket that ends before any byte: unfinished, not an error from OpenSSL. */
	teardown();
	setup();
	server = server_new();
	pipe_end_now(&ends[1]);
	run();
	cr_assert(server_owner.handshake_ran);
	cr_assert_not(server_owner.handshake_ok);
	cr_assert_str_eq(server_owner.error_what, "");
	server->vt->close(server);
	run();
}

Test(tls_stream, close_inside_on_handshake_is_safe, .init = setup, .fini = teardown)
{
	/* The SNI ingress closes the stream from its handshake callback when it fails. */
	struct exposr_stream *server = server_new();
	struct evbuffer *b = evbuffer_new();
	cr_assert_eq(evbuffer_add(b, "\x16\x03\x01\x00\x04\x01\x00\x00\x00", 9), 0);
	cr_assert_eq(ends[1].base.vt->write(&ends[1].base, b), EXPOSR_OK);
	evbuffer_free(b);
	server_owner.close_on_handshake = server;
	run();
	cr_assert(server_owner.handshake_ran);
	cr_assert_not(server_owner.handshake_ok);
	cr_assert(ends[0].closed, "the inner stream is closed with it");
}
