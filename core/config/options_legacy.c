/* exposrd 0.12's module flags and the module each belongs to. The flags themselves, their
 * types and defaults are in the modules' settings tables; this list is only what is
 * needed to explain a flag when its module is not installed. */
#include "options_legacy.h"

const struct legacy_flag options_legacy[] = {
        {"http-ingress-domain", "ingress-http", false},
        {"ingress-http-domain", "ingress-http", false},
        {"ingress-http-url", "ingress-http", false},
        {"ingress-http-port", "ingress-http", false},
        {"ingress-http-agent-idle-timeout", "ingress-http", false},
        {"ingress-sni-port", "ingress-sni", false},
        {"ingress-sni-host", "ingress-sni", false},
        {"ingress-sni-cert", "ingress-sni", false},
        {"ingress-sni-key", "ingress-sni", false},
        {"transport-ssh-port", "transport-ssh", false},
        {"transport-ssh-host", "transport-ssh", false},
        {"transport-ssh-key", "transport-ssh", false},
        {"transport-ssh-allow-insecure-target", "transport-ssh", true},
        {"admin-enable", "admin", true},
        {"admin-port", "admin", false},
        {"admin-api-enable", "admin-api", true},
        {"admin-api-port", "admin-api", false},
        {"admin-api-key", "admin-api", false},
        {"admin-api-allow-access-without-key", "admin-api", true},
        {"api-url", "api-v1", false},
        {"api-port", "api-v1", false},
        {"allow-registration", "api-v1", true},
        {"cluster-redis-url", "cluster-redis", false},
        {"cluster-udp-discovery", "cluster-udp", false},
        {"cluster-udp-port", "cluster-udp", false},
        {"cluster-udp-discovery-multicast-group", "cluster-udp", false},
        {"cluster-udp-discovery-kubernetes-service", "cluster-udp", false},
        {"cluster-udp-discovery-kubernetes-namespace", "cluster-udp", false},
        {"cluster-udp-discovery-kubernetes-service-env", "cluster-udp", false},
        {"cluster-udp-discovery-kubernetes-namespace-env", "cluster-udp", false},
        {"cluster-udp-discovery-kubernetes-cluster-domain", "cluster-udp", false},
        {"storage-pgsql-connection-pool-size", "storage-postgres", false},
};

const size_t options_legacy_count = sizeof(options_legacy) / sizeof(options_legacy[0]);
