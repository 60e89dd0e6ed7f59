/* Fuzz input read as a script: numbers and byte runs taken from the front, so that one
 * input describes a sequence of calls. */
#ifndef EXPOSR_FUZZ_SCRIPT_H
#define EXPOSR_FUZZ_SCRIPT_H

#include <stddef.h>
#include <stdint.h>

struct script {
	const uint8_t *data;
	size_t left;
};

static inline uint8_t take_u8(struct script *s)
{
	if (s->left == 0)
		return 0;
	s->left--;
	return *s->data++;
}

static inline uint16_t take_u16(struct script *s)
{
	uint16_t hi = take_u8(s);
	return (uint16_t)(hi << 8 | take_u8(s));
}

/* Up to `want` bytes (fewer at the end of the input); *len says how many. */
static inline const uint8_t *take_bytes(struct script *s, size_t want, size_t *len)
{
	const uint8_t *p = s->data;
	*len = want < s->left ? want : s->left;
	s->data += *len;
	s->left -= *len;
	return p;
}

#endif
