/* The core's settings table: the YAML keys the core owns, their defaults and bounds, and
 * the exposrd 0.12 flags that set them. */
#include "core_settings.h"

#include <stddef.h>

#include "settings_table.h"

#define AT(field) offsetof(struct core_settings, field)

static const char *const log_levels[] = {"all",   "trace", "debug", "info", "warn",
                                         "error", "fatal", "off",   NULL};
static const char *const log_formats[] = {"text", "json", NULL};

const struct exposr_setting core_settings_table[] = {
        {.key = "log.level",
         .type = EXPOSR_SETTING_CHOICE,
         .def = "info",
         .choices = log_levels,
         .flag = "log-level",
         .value_name = "LEVEL",
         .help = "all, trace, debug, info, warn, error, fatal, off",
         .offset = AT(log_level)},
        {.key = "log.format",
         .type = EXPOSR_SETTING_CHOICE,
         .def = "text",
         .choices = log_formats,
         .flag = "log-format",
         .value_name = "FORMAT",
         .help = "text or json (one object per line), to stderr",
         .offset = AT(log_format)},
        {.key = "http.bind",
         .type = EXPOSR_SETTING_STRING,
         .flag = "bind-address",
         .value_name = "ADDRESS",
         .def_help = "all interfaces",
         .help = "address every listener binds",
         .offset = AT(bind)},
        {.key = "http.max-head-size",
         .type = EXPOSR_SETTING_INT,
         .def = "16384",
         .min = 1024,
         .max = 1 << 20,
         .help = "bytes of request line + headers; more: 431",
         .offset = AT(max_head_size)},
        {.key = "http.max-headers",
         .type = EXPOSR_SETTING_INT,
         .def = "100",
         .min = 1,
         .max = 1000,
         .help = "header fields; more: 431",
         .offset = AT(max_headers)},
        {.key = "http.head-timeout",
         .type = EXPOSR_SETTING_INT,
         .def = "10",
         .min = 1,
         .max = 3600,
         .help = "seconds for a request head to arrive; later: 408",
         .offset = AT(head_timeout_s)},
        {.key = "http.idle-timeout",
         .type = EXPOSR_SETTING_INT,
         .def = "60",
         .min = 1,
         .max = 86400,
         .help = "seconds an idle keep-alive connection is kept",
         .offset = AT(idle_timeout_s)},
        {.key = "shutdown-timeout",
         .type = EXPOSR_SETTING_INT,
         .def = "10",
         .min = 0,
         .max = 3600,
         .help = "seconds modules get to drain after SIGTERM/SIGINT",
         .offset = AT(shutdown_timeout_s)},
        {.key = "tunnels.max-connections",
         .type = EXPOSR_SETTING_INT,
         .def = "2",
         .min = 1,
         .max = 65535,
         .flag = "transport-max-connections",
         .help = "transport connections per tunnel, cluster-wide",
         .offset = AT(max_connections)},
        {.key = "cluster.key",
         .type = EXPOSR_SETTING_STRING,
         .def = "secret-signing-key",
         .flag = "cluster-key",
         .value_name = "KEY",
         .help = "key that signs cluster messages",
         .offset = AT(cluster_key)},
        {.key = "cluster.advertise-address",
         .type = EXPOSR_SETTING_STRING,
         .flag = "cluster-advertise-address",
         .value_name = "ADDRESS",
         .def_help = "the bind address, else the first non-loopback one",
         .help = "IP address other nodes reach this one at",
         .offset = AT(advertise_address)},
        {0},
};

int core_settings_read(const struct exposr_cfg *root, struct core_settings *out)
{
	return settings_read(root, "(top level)", core_settings_table, "modules", out);
}
