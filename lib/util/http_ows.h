/* Optional whitespace (RFC 9110 §5.6.3: spaces and horizontal tabs) around header values
 * and the elements of comma-separated header lists. */
#ifndef EXPOSR_UTIL_HTTP_OWS_H
#define EXPOSR_UTIL_HTTP_OWS_H

#include <stdbool.h>
#include <stddef.h>

bool http_is_ows(char c);

/* Trims optional whitespace from both ends of the `len` bytes at *start: advances *start
 * past the leading whitespace and returns the length left. */
size_t http_trim_ows(const char **start, size_t len);

#endif
