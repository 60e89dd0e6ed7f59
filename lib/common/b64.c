/* Node's lenient base64 decoder (encoding is OpenSSL's EVP_EncodeBlock). */
#include "common/b64.h"

#include <stdint.h>
#include <stdlib.h>

/* 0-63 for both alphabets, 64 for anything else. */
static unsigned char sextet(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return (unsigned char)(c - 'A');
	if (c >= 'a' && c <= 'z')
		return (unsigned char)(c - 'a' + 26);
	if (c >= '0' && c <= '9')
		return (unsigned char)(c - '0' + 52);
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return 64;
}

size_t b64_decode_lenient(const char *in, size_t len, unsigned char *out)
{
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		if (c == '=')
			break;
		unsigned char v = sextet(c);
		if (v == 64)
			continue;
		acc = (acc << 6) | v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	return n;
}
