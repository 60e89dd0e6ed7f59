/* The host API table handed to every module. */
#include "host_table.h"

#include <stdarg.h>

#include "cfg.h"
#include "cluster.h"
#include "http_listener.h"
#include "ids.h"
#include "loader.h"
#include "log.h"
#include "metrics_table.h"
#include "registry_table.h"
#include "server.h"
#include "services.h"
#include "streams.h"
#include "timer.h"

static struct event_base *host_base;

static void host_vlog(struct exposr_module_handle *mod, enum exposr_log_level level,
                      const char *fmt, va_list ap)
{
	log_msgv(loader_module_name(mod), level, fmt, ap);
}

static void host_log(struct exposr_module_handle *mod, enum exposr_log_level level, const char *fmt,
                     ...)
{
	va_list ap;
	va_start(ap, fmt);
	host_vlog(mod, level, fmt, ap);
	va_end(ap);
}

struct event_base *host_event_base(void)
{
	return host_base;
}

static const struct exposr_host host = {
        .abi_major = EXPOSR_ABI_MAJOR,
        .abi_minor = EXPOSR_ABI_MINOR,
        .size = sizeof(struct exposr_host),
        .server_version = EXPOSR_VERSION,
        .log_enabled = log_enabled,
        .log = host_log,
        .event_base = host_event_base,
        .timer_add = timer_add,
        .timer_cancel = timer_cancel,
        .drained = loader_module_drained,
        .config = &cfg_api,
        .registry = &registry_api,
        .http = &http_api,
        .accounts = &accounts_api,
        .tunnels = &tunnels_api,
        .node_id = ids_node_id,
        .now_ms = ids_now_ms,
        .server_state = server_state,
        .streams = &stream_api,
        .cluster = &cluster_api,
        .metrics = &metrics_api,
        .vlog = host_vlog,
};

const struct exposr_host *host_table(struct event_base *base)
{
	host_base = base;
	timers_init(base);
	return &host;
}
