/* Shared definitions for the exposrd module ABI: status codes, log levels, visibility. */
#ifndef EXPOSR_COMMON_H
#define EXPOSR_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Return codes for every function of the ABI that can fail. */
enum exposr_status {
	EXPOSR_OK = 0,
	EXPOSR_ERROR = -1,
	EXPOSR_AGAIN = -2,    /* not finished yet; completion is signalled later */
	EXPOSR_DECLINED = -3, /* not mine: offer it to the next handler */
	EXPOSR_EXISTS = -4,   /* "only if absent" found something */
	EXPOSR_NOT_FOUND = -5,
	EXPOSR_UNREACHABLE = -6, /* held by another node that cannot be reached (ABI 1.2) */
};

enum exposr_log_level {
	EXPOSR_LOG_TRACE = 0,
	EXPOSR_LOG_DEBUG,
	EXPOSR_LOG_INFO,
	EXPOSR_LOG_WARN,
	EXPOSR_LOG_ERROR,
	EXPOSR_LOG_FATAL,
	EXPOSR_LOG_OFF,
};

#if defined(__GNUC__)
#define EXPOSR_EXPORT            __attribute__((visibility("default")))
#define EXPOSR_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define EXPOSR_EXPORT
#define EXPOSR_PRINTF(fmt, args)
#endif

/* The loader's handle for one loaded module; opaque to modules. Every host call that
 * creates something long-lived takes it, so a failed module can be undone. */
struct exposr_module_handle;

#endif
