/* Timestamps as JavaScript's toISOString() writes them. */
#ifndef EXPOSR_UTIL_ISO_TIME_H
#define EXPOSR_UTIL_ISO_TIME_H

#include <stdint.h>

#define ISO_TIME_LEN 25 /* "2024-02-10T12:34:56.789Z" and NUL */

void iso_time_format(int64_t epoch_ms, char out[ISO_TIME_LEN]);

#endif
