/* Log lines and the status line (see client_log.h). */
#include "client_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "iso_time.h"

static const char *const names[] = {"all",  "trace", "debug", "info",
                                    "warn", "error", "fatal", "off"};

static enum log_level min_level = LOG_INFO;
static bool interactive;
static char status[4096];

int log_level_parse(const char *name)
{
	for (int i = 0; i < (int)(sizeof(names) / sizeof(names[0])); i++)
		if (strcmp(names[i], name) == 0)
			return i;
	return -1;
}

void log_setup(enum log_level level, bool tty)
{
	min_level = level;
	interactive = tty;
}

bool log_interactive(void)
{
	return interactive;
}

static void clear_status(void)
{
	if (interactive && status[0] != '\0')
		fputs("\r\033[K", stderr);
}

static void draw_status(void)
{
	if (interactive && status[0] != '\0')
		fputs(status, stderr);
	fflush(stderr);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	if (level < min_level || level >= LOG_OFF)
		return;
	clear_status();
	if (!interactive) {
		char stamp[ISO_TIME_LEN];
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		iso_time_format((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, stamp);
		fprintf(stderr, "%s %-5s ", stamp, names[level]);
	} else if (level >= LOG_WARN) {
		fprintf(stderr, "%s: ", names[level]);
	}
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	draw_status();
}

void log_status(const char *line)
{
	if (!interactive)
		return;
	clear_status();
	snprintf(status, sizeof(status), "%s", line != NULL ? line : "");
	draw_status();
}
