/* The client's messages: plain lines on stderr (--non-interactive, or not a terminal), or
 * printed above a status line redrawn in place on the terminal. */
#ifndef EXPOSR_CLIENT_CLIENT_LOG_H
#define EXPOSR_CLIENT_CLIENT_LOG_H

#include <stdbool.h>

enum log_level {
	LOG_ALL,
	LOG_TRACE,
	LOG_DEBUG,
	LOG_INFO,
	LOG_WARN,
	LOG_ERROR,
	LOG_FATAL,
	LOG_OFF,
};

/* "all", "trace", ... "off" (the exposr client's names); -1 for anything else. */
int log_level_parse(const char *name);

void log_setup(enum log_level level, bool interactive);
bool log_interactive(void);

__attribute__((format(printf, 2, 3))) void log_msg(enum log_level level, const char *fmt, ...);

/* Replaces the status line (interactive only); NULL removes it. */
void log_status(const char *line);

#endif
