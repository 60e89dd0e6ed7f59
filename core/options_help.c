/* Value names and defaults of exposrd's options, as --help shows them. The defaults are
 * those of config/exposrd.yaml and of the modules when the YAML file does not set them. */
#include "options_help.h"

#include <stddef.h>
#include <string.h>

#define BOOL "[true|false]"

static const struct option_help help[] = {
        {"config", "FILE", EXPOSR_CONFIG_FILE ", or config/exposrd.yaml from the build tree"},
        {"module-dir", "DIR", EXPOSR_MODULE_DIR ", or modules/ beside a built exposrd"},
        {"bind-address", "ADDRESS", "all interfaces"},
        {"ingress", "LIST", "http"},
        {"http-ingress-domain", "URL", NULL},
        {"ingress-http-domain", "URL", NULL},
        {"ingress-http-url", "URL", "http://localhost:8080, from the default exposrd.yaml"},
        {"ingress-http-port", "PORT", "8080"},
        {"ingress-http-agent-idle-timeout", "SECONDS", "60"},
        {"ingress-sni-port", "PORT", "4430"},
        {"ingress-sni-host", "HOST[:PORT]",
         "the certificate's wildcard domain and --ingress-sni-port"},
        {"ingress-sni-cert", "FILE", NULL},
        {"ingress-sni-key", "FILE", NULL},
        {"transport", "LIST", "ws"},
        {"transport-max-connections", "N", "2"},
        {"transport-ssh-port", "PORT", "2200"},
        {"transport-ssh-host", "HOST[:PORT]", "the API request's host and --transport-ssh-port"},
        {"transport-ssh-key", "KEY", "a new key at every start"},
        {"transport-ssh-allow-insecure-target", BOOL, "false"},
        {"admin-enable", BOOL, "false"},
        {"admin-port", "PORT", "8081"},
        {"admin-api-enable", BOOL, "false"},
        {"admin-api-port", "PORT", "8081"},
        {"admin-api-key", "KEY", "none; clients send Authorization: Bearer <base64 of KEY>"},
        {"admin-api-allow-access-without-key", BOOL, "false"},
        {"api-url", "URL", "answer every host"},
        {"api-port", "PORT", "8080"},
        {"allow-registration", BOOL, "false"},
        {"cluster", "MODE", "auto"},
        {"cluster-key", "KEY", "secret-signing-key"},
        {"cluster-advertise-address", "ADDRESS",
         "the bind address, else the first non-loopback one"},
        {"cluster-udp-discovery", "METHOD", "auto"},
        {"cluster-udp-port", "PORT", "1025"},
        {"cluster-udp-discovery-multicast-group", "ADDRESS", "239.0.0.1"},
        {"cluster-udp-discovery-kubernetes-service", "NAME", "$SERVICE_NAME, else exposr-headless"},
        {"cluster-udp-discovery-kubernetes-namespace", "NAME", "$POD_NAMESPACE, else default"},
        {"cluster-udp-discovery-kubernetes-service-env", "VARIABLE", "SERVICE_NAME"},
        {"cluster-udp-discovery-kubernetes-namespace-env", "VARIABLE", "POD_NAMESPACE"},
        {"cluster-udp-discovery-kubernetes-cluster-domain", "DOMAIN", "cluster.local"},
        {"cluster-redis-url", "URL", NULL},
        {"redis-url", "URL", NULL},
        {"storage-url", "URL", "memory://"},
        {"storage-pgsql-connection-pool-size", "N", "10"},
        {"log-level", "LEVEL", "info"},
        {"log-format", "FORMAT", "text"},
        {"version", NULL, NULL},
        {"help", NULL, NULL},
        {"show-hidden", NULL, NULL},
};

const struct option_help *options_help_find(const char *name)
{
	for (size_t i = 0; i < sizeof(help) / sizeof(help[0]); i++)
		if (strcmp(help[i].name, name) == 0)
			return &help[i];
	return NULL;
}
