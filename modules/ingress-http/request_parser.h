/* Requests on a proxied connection, parsed with llhttp: heads into a view the rewrite
 * reads, bodies only measured, so that their bytes pass on untouched. */
#ifndef EXPOSR_INGRESS_HTTP_REQUEST_PARSER_H
#define EXPOSR_INGRESS_HTTP_REQUEST_PARSER_H

#include <sys/types.h>

#include <llhttp.h>

struct evbuffer;

#include "http_head.h"
#include "ingress_http.h"

struct request_parser {
	llhttp_t parser;
	struct http_head head; /* the parser's data */
	bool message_done;
};

enum request_parse {
	REQUEST_MORE,  /* the head is not complete yet */
	REQUEST_HEAD,  /* a head was parsed */
	REQUEST_ERROR, /* not a request we can pass on */
};

/* Frees what the parser grew; it may be used again afterwards. */
void request_parser_free(struct request_parser *p);

/* Goes on from the core listener's parser as it stood after the first head (host->http->
 * parser_state), so that the body behind that head is measured without the head being
 * parsed again. */
void request_parser_continue(struct request_parser *p, const llhttp_t *listener);

/* Parses a head from the start of `data` (everything received of it so far; writable:
 * the strings of the view are terminated in place). REQUEST_HEAD: the head is the first
 * *head_len bytes and `view` (with `headers`, INGRESS_MAX_HEADERS long) describes it,
 * pointing into `data`; the caller fills in the peer. REQUEST_ERROR: *status says why.
 * More than max_head bytes without the end of the head is an error (431). */
enum request_parse request_parser_head(struct request_parser *p, char *data, size_t len,
                                       size_t max_head, struct exposr_http_request *view,
                                       struct exposr_http_header *headers, size_t *head_len,
                                       int *status);

/* Right after a head: true when the request has no body, so it ended with its head. */
bool request_parser_after_head(struct request_parser *p);

/* Right after a head, before it is passed on: false when the body bytes already buffered
 * in `input` after its first `skip` bytes are malformed (a bad chunk, say), so that the
 * request is refused before any of it reaches the target. Nothing is consumed. */
bool request_parser_body_ahead_ok(const struct request_parser *p, struct evbuffer *input,
                                  size_t skip);

/* Measures body bytes: how many of `data` belong to the current request (all of them
 * unless it ends inside), with *done set when it ended; -1 when the body is malformed. */
ssize_t request_parser_body(struct request_parser *p, const char *data, size_t len, bool *done);

#endif
