/* Milliseconds as the struct timeval that libevent's timers and timeouts take. */
#ifndef EXPOSR_UTIL_TIMEVAL_MS_H
#define EXPOSR_UTIL_TIMEVAL_MS_H

#include <stdint.h>
#include <sys/time.h>

struct timeval timeval_from_ms(uint64_t ms);

#endif
