/* Later requests on a connection the listener forwards to a stream (http_forward.c),
 * parsed with llhttp: heads into a view, bodies only measured, so that
 * their bytes can pass on untouched. */
#ifndef EXPOSR_HTTP_READER_H
#define EXPOSR_HTTP_READER_H

#include <sys/types.h>

#include <llhttp.h>

struct evbuffer;

#include "http_head.h"

struct http_reader {
	llhttp_t parser;
	struct http_head head; /* the parser's data */
	size_t max_fields;
	bool message_done;
};

enum http_read {
	HTTP_READ_MORE,  /* the head is not complete yet */
	HTTP_READ_HEAD,  /* a head was parsed */
	HTTP_READ_ERROR, /* not a request we can pass on */
};

/* Before first use: more than `max_fields` header fields in a head fail with 431. */
void http_reader_init(struct http_reader *p, size_t max_fields);

/* Frees what the parser grew; it may be used again afterwards. */
void http_reader_free(struct http_reader *p);

/* Goes on from the core listener's parser as it stood after the first head (copied at
 * the hand-over to http_forward.c), so that the body behind that head is measured without the head
 * being parsed again. */
void http_reader_continue(struct http_reader *p, const llhttp_t *listener);

/* Parses a head from the start of `data` (everything received of it so far; writable:
 * the strings of the view are terminated in place). HTTP_READ_HEAD: the head is the first
 * *head_len bytes and `view` (with `headers`, max_fields long) describes it,
 * pointing into `data`; the caller fills in the peer. HTTP_READ_ERROR: *status says why.
 * More than max_head bytes without the end of the head is an error (431). */
enum http_read http_reader_head(struct http_reader *p, char *data, size_t len, size_t max_head,
                                struct exposr_http_request *view,
                                struct exposr_http_header *headers, size_t *head_len, int *status);

/* Right after a head: true when the request has no body, so it ended with its head. */
bool http_reader_after_head(struct http_reader *p);

/* Right after a head, before it is passed on: false when the body bytes already buffered
 * in `input` after its first `skip` bytes are malformed (a bad chunk, say), so that the
 * request is refused before any of it reaches the target. Nothing is consumed. */
bool http_reader_body_ahead_ok(const struct http_reader *p, struct evbuffer *input, size_t skip);

/* Measures body bytes: how many of `data` belong to the current request (all of them
 * unless it ends inside), with *done set when it ended; -1 when the body is malformed. */
ssize_t http_reader_body(struct http_reader *p, const char *data, size_t len, bool *done);

#endif
