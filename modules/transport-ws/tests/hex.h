/* The multiplex tests write expected messages as hex, as docs/transport.md prints them. */
#ifndef EXPOSR_WS_TESTS_HEX_H
#define EXPOSR_WS_TESTS_HEX_H

#include <stddef.h>
#include <stdint.h>

/* Lower-case hex digits to bytes, anything else (spaces) skipped; returns the count. */
size_t unhex(const char *hex, uint8_t *out);

#endif
