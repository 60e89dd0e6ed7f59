/* Timestamps as JavaScript's toISOString() writes them. */
#include "iso_time.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

void iso_time_format(int64_t epoch_ms, char out[ISO_TIME_LEN])
{
	int64_t secs = epoch_ms / 1000;
	int ms = (int)(epoch_ms % 1000);
	if (ms < 0) {
		ms += 1000;
		secs -= 1;
	}
	time_t t = (time_t)secs;
	struct tm tm;
	if (gmtime_r(&t, &tm) == NULL) {
		snprintf(out, ISO_TIME_LEN, "1970-01-01T00:00:00.000Z");
		return;
	}
	/* Room for any int the compiler imagines; real dates take 24 characters. */
	char text[96];
	snprintf(text, sizeof(text), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
	         tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
	size_t len = strlen(text) < ISO_TIME_LEN ? strlen(text) : ISO_TIME_LEN - 1;
	memcpy(out, text, len);
	out[len] = '\0';
}
