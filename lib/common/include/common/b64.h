/* Node's lenient base64 decoder (encoding is OpenSSL's EVP_EncodeBlock). */
#ifndef EXPOSR_MODULE_COMMON_B64_H
#define EXPOSR_MODULE_COMMON_B64_H

#include <stddef.h>

/* Room b64_decode_lenient needs for `len` input characters. */
#define B64_DECODED_MAX(len) ((len) / 4 * 3 + 3)

/* Like Node's Buffer.from(s, 'base64'): the standard and URL-safe alphabets, padding
 * optional, other characters skipped, decoding stops at the first '='. Returns the number
 * of bytes written to `out` (at least B64_DECODED_MAX(len) bytes). */
size_t b64_decode_lenient(const char *in, size_t len, unsigned char *out);

#endif
