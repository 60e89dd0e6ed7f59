/* Levelled logging to stderr, as text or as one JSON object per line. */
#ifndef EXPOSR_CORE_LOG_H
#define EXPOSR_CORE_LOG_H

#include <stdarg.h>

#include <exposr/common.h>

enum log_format { LOG_FORMAT_TEXT, LOG_FORMAT_JSON };

void log_configure(enum exposr_log_level level, enum log_format format);
/* Parses "trace".."off" (and "all" = trace); -1 if unknown. */
int log_level_parse(const char *name);
bool log_enabled(enum exposr_log_level level);
/* While exposrd starts, lines below warn are held back: a start that fails shows its
 * error alone, and nothing claims to listen or serve before it. log_release() writes them
 * (start-up went through) or drops them, and ends the hold. */
void log_hold(void);
void log_release(bool write);
/* Errors reported so far, logged at error or above or noted by whoever printed one. */
void log_note_error(void);
unsigned long log_error_count(void);
void log_msgv(const char *component, enum exposr_log_level level, const char *fmt, va_list ap);
void log_msg(const char *component, enum exposr_log_level level, const char *fmt, ...)
        EXPOSR_PRINTF(3, 4);

#define log_error(...) log_msg("core", EXPOSR_LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg("core", EXPOSR_LOG_WARN, __VA_ARGS__)
#define log_info(...)  log_msg("core", EXPOSR_LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg("core", EXPOSR_LOG_DEBUG, __VA_ARGS__)

#endif
