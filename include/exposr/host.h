/* The table of services the core hands every module at init. Modules never link
 * against core symbols; they call through this table. It grows only at its end. */
#ifndef EXPOSR_HOST_H
#define EXPOSR_HOST_H

#include <stdarg.h>

#include "accounts.h"
#include "common.h"
#include "config.h"
#include "eventbus.h"
#include "http.h"
#include "metrics.h"
#include "registry.h"
#include "stream.h"
#include "tunnels.h"

struct event_base;
struct exposr_timer;

typedef void (*exposr_timer_cb)(void *arg);

enum exposr_server_state {
	EXPOSR_SERVER_STARTING = 0,
	EXPOSR_SERVER_RUNNING,
	EXPOSR_SERVER_STOPPING,
};

struct exposr_host {
	uint16_t abi_major;
	uint16_t abi_minor;
	size_t size; /* sizeof(struct exposr_host) as the core knows it */
	const char *server_version;

	/* Logging, tagged with the module's name. */
	bool (*log_enabled)(enum exposr_log_level level);
	void (*log)(struct exposr_module_handle *mod, enum exposr_log_level level, const char *fmt,
	            ...) EXPOSR_PRINTF(3, 4);

	/* The process's one event loop. */
	struct event_base *(*event_base)(void);

	/* Timers on the loop, owned by the module: all of a module's timers are freed
	 * when it is unloaded. A one-shot timer is freed after it fired. */
	struct exposr_timer *(*timer_add)(struct exposr_module_handle *mod, uint64_t ms,
	                                  bool repeat, exposr_timer_cb cb, void *arg);
	void (*timer_cancel)(struct exposr_timer *timer);

	/* The module calls this once it has finished draining after stop() returned
	 * EXPOSR_AGAIN. */
	void (*drained)(struct exposr_module_handle *mod);

	const struct exposr_config_api *config;
	const struct exposr_registry_api *registry;
	const struct exposr_http_api *http;

	const struct exposr_account_api *accounts;
	const struct exposr_tunnel_api *tunnels;

	/* This process's node id: 40 lower-case hex characters, new at every start. */
	const char *(*node_id)(void);
	/* Wall-clock time in epoch milliseconds. */
	int64_t (*now_ms)(void);
	enum exposr_server_state (*server_state)(void);

	const struct exposr_stream_api *streams;

	/* The cluster service: bus modules hand it received messages, the admin API
	 * lists the nodes (include/exposr/eventbus.h). */
	const struct exposr_cluster_api *cluster;

	/* Gauges and counters for the admin interface's /metrics (ABI 1.1). */
	const struct exposr_metrics_api *metrics;

	/* log() for a module's own printf-style wrapper, which has a va_list to pass on
	 * (ABI 3.1). */
	void (*vlog)(struct exposr_module_handle *mod, enum exposr_log_level level, const char *fmt,
	             va_list ap) EXPOSR_PRINTF(3, 0);
};

#endif
