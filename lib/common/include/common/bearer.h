/* The credential in an Authorization header, read as exposrd reads it. */
#ifndef EXPOSR_MODULE_COMMON_BEARER_H
#define EXPOSR_MODULE_COMMON_BEARER_H

#include <stddef.h>

/* The second word of the header split on single spaces (the first is not checked),
 * base64-decoded leniently, into `out` (NUL-terminated; `*len` bytes, which may contain
 * NULs). Returns -1 when there is no such word, -2 when out of memory, 0 otherwise
 * (*len may be 0). The caller frees *out. */
int bearer_decode(const char *authorization, char **out, size_t *len);

#endif
