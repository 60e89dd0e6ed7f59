/* Percent-decoding as JavaScript's decodeURIComponent does it. */
#ifndef EXPOSR_UTIL_PERCENT_DECODE_H
#define EXPOSR_UTIL_PERCENT_DECODE_H

#include <stddef.h>

/* decodeURIComponent, or a copy of the input when that would throw (bad escapes, invalid
 * UTF-8) or produce a NUL. The caller frees; NULL on OOM. */
char *percent_decode(const char *in, size_t len);

#endif
