/* Process metrics: gauges and counters the core keeps and the admin interface exposes
 * in the Prometheus text format. */
#ifndef EXPOSR_METRICS_H
#define EXPOSR_METRICS_H

#include "common.h"

struct evbuffer;
struct exposr_metric;

enum exposr_metric_type {
	EXPOSR_METRIC_GAUGE = 0, /* goes up and down: what is open now */
	EXPOSR_METRIC_COUNTER,   /* only goes up: what happened since the start */
};

struct exposr_metrics_api {
	size_t size;
	/* The metric of this name, created on first use. The core owns it and keeps it to
	 * the end of the process, so a module may ask again after being reloaded. NULL for a
	 * name that is not [a-zA-Z_:][a-zA-Z0-9_:]*, for a type other than the one it was
	 * created with, or without memory; add() and set() accept NULL and do nothing. */
	struct exposr_metric *(*get)(const char *name, enum exposr_metric_type type,
	                             const char *help);
	void (*add)(struct exposr_metric *metric, int64_t delta);
	void (*set)(struct exposr_metric *metric, int64_t value);
	int64_t (*value)(const struct exposr_metric *metric);
	/* Appends every metric in the Prometheus text exposition format 0.0.4. */
	int (*write_text)(struct evbuffer *out);
};

#endif
