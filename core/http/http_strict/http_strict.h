/* The one strict reading of HTTP/1.x that the core's listeners and the HTTP ingress share,
 * so that what exposrd accepts is framed the same way by every target behind it. */
#ifndef EXPOSR_HTTP_STRICT_H
#define EXPOSR_HTTP_STRICT_H

#include <stdbool.h>
#include <stddef.h>

#include <llhttp.h>

struct evbuffer;

/* llhttp_init() for a parser that reads strictly: llhttp is built in its strict mode
 * (LLHTTP_STRICT_MODE: a space in a header name, a bad chunk terminator and control
 * characters are errors) and no lenient flag is set. */
void http_strict_init(llhttp_t *parser, llhttp_type_t type, const llhttp_settings_t *settings);

/* What strict llhttp still lets through in a request head, checked on the head's raw bytes
 * (from the request line to the empty line): an obsolete folded line, header lines after
 * an HTTP/0.9 request line, whitespace around a Content-Length or Transfer-Encoding value
 * (other than the one space after the colon). NULL when the head is fine, else why not. */
const char *http_strict_head_error(const char *head, size_t len);

/* Right after a request's head (where `parser` paused), before anything of it is passed
 * on: false when the body bytes already buffered in `input` after its first `skip` bytes
 * are malformed (a bad chunk, say). A copy of the parser reads them; nothing is consumed
 * and `parser` is left as it is. */
bool http_strict_body_ahead_ok(const llhttp_t *parser, struct evbuffer *input, size_t skip);

#endif
