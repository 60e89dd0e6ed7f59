/* Levelled logging to stderr, as text or as one JSON object per line. */
#include "log.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/time.h>

#include "iso_time.h"

static enum exposr_log_level current_level = EXPOSR_LOG_INFO;
static enum log_format current_format = LOG_FORMAT_TEXT;

static const char *const level_names[] = {"trace", "debug", "info", "warn",
                                          "error", "fatal", "off"};

void log_configure(enum exposr_log_level level, enum log_format format)
{
	current_level = level;
	current_format = format;
}

int log_level_parse(const char *name)
{
	if (strcmp(name, "all") == 0)
		return EXPOSR_LOG_TRACE;
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (strcmp(name, level_names[i]) == 0)
			return (int)i;
	return -1;
}

bool log_enabled(enum exposr_log_level level)
{
	return level >= current_level && level < EXPOSR_LOG_OFF;
}

static void format_time(char out[ISO_TIME_LEN])
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	iso_time_format((int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000, out);
}

/* A line below warn logged while start-up is held back, in order. */
struct held_line {
	STAILQ_ENTRY(held_line) link;
	char text[];
};

static bool holding;
static STAILQ_HEAD(, held_line) held = STAILQ_HEAD_INITIALIZER(held);
static unsigned long errors_reported;

static void emit(enum exposr_log_level level, const char *text)
{
	if (level >= EXPOSR_LOG_ERROR)
		errors_reported++;
	if (!holding || level >= EXPOSR_LOG_WARN) {
		fprintf(stderr, "%s\n", text);
		return;
	}
	size_t len = strlen(text);
	struct held_line *h = malloc(sizeof(*h) + len + 1);
	if (h == NULL) {
		fprintf(stderr, "%s\n", text); /* out of order rather than lost */
		return;
	}
	memcpy(h->text, text, len + 1);
	STAILQ_INSERT_TAIL(&held, h, link);
}

void log_hold(void)
{
	holding = true;
}

void log_release(bool write)
{
	while (!STAILQ_EMPTY(&held)) {
		struct held_line *h = STAILQ_FIRST(&held);
		STAILQ_REMOVE_HEAD(&held, link);
		if (write)
			fprintf(stderr, "%s\n", h->text);
		free(h);
	}
	holding = false;
}

void log_note_error(void)
{
	errors_reported++;
}

unsigned long log_error_count(void)
{
	return errors_reported;
}

void log_msgv(const char *component, enum exposr_log_level level, const char *fmt, va_list ap)
{
	if (!log_enabled(level))
		return;
	char message[2048];
	vsnprintf(message, sizeof(message), fmt, ap);
	char when[ISO_TIME_LEN];
	format_time(when);
	if (current_format == LOG_FORMAT_TEXT) {
		char text[sizeof(message) + 128];
		snprintf(text, sizeof(text), "%s %-5s [%s] %s", when, level_names[level], component,
		         message);
		emit(level, text);
		return;
	}
	cJSON *line = cJSON_CreateObject();
	if (line == NULL)
		return;
	cJSON_AddStringToObject(line, "time", when);
	cJSON_AddStringToObject(line, "level", level_names[level]);
	cJSON_AddStringToObject(line, "logger", component);
	cJSON_AddStringToObject(line, "message", message);
	char *text = cJSON_PrintUnformatted(line);
	if (text != NULL) {
		emit(level, text);
		free(text);
	}
	cJSON_Delete(line);
}

void log_msg(const char *component, enum exposr_log_level level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_msgv(component, level, fmt, ap);
	va_end(ap);
}
