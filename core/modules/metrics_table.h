/* The core's metric table (include/exposr/metrics.h). */
#ifndef EXPOSR_CORE_METRICS_TABLE_H
#define EXPOSR_CORE_METRICS_TABLE_H

#include <exposr/metrics.h>

/* host->metrics. */
extern const struct exposr_metrics_api metrics_api;

/* Frees every metric: at the end of the process. */
void metrics_free(void);

#endif
