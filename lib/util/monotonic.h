/* The monotonic clock, for timeouts and expiry: wall-clock jumps move neither. */
#ifndef EXPOSR_MONOTONIC_H
#define EXPOSR_MONOTONIC_H

#include <stdint.h>

/* Milliseconds and microseconds since an arbitrary start. CLOCK_MONOTONIC cannot fail on
 * Linux with a valid argument; if it ever did, both return 0. */
uint64_t monotonic_ms(void);
uint64_t monotonic_us(void);

#endif
