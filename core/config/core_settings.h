/* The core's own settings (log, http, shutdown-timeout, busy-poll, tunnels, cluster): one table,
 * read in one place. */
#ifndef EXPOSR_CORE_CORE_SETTINGS_H
#define EXPOSR_CORE_CORE_SETTINGS_H

#include <exposr/settings.h>

struct exposr_cfg;

struct core_settings {
	const char *log_level, *log_format;
	const char *bind; /* http.bind; NULL or "" for every address */
	long max_head_size, max_headers, head_timeout_s, idle_timeout_s;
	long shutdown_timeout_s;
	long busy_poll_us;
	long max_connections; /* tunnels.max-connections */
	const char *cluster_key, *advertise_address;
};

extern const struct exposr_setting core_settings_table[];

/* Checks the whole tree but `modules` against the table and fills `out`. */
int core_settings_read(const struct exposr_cfg *root, struct core_settings *out);

#endif
