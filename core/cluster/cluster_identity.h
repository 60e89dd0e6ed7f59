/* How this node names itself to the cluster (docs/api.md §1.6): "<pid>@<hostname>" and
 * the address other nodes reach its ingress ports at. */
#ifndef EXPOSR_CORE_CLUSTER_IDENTITY_H
#define EXPOSR_CORE_CLUSTER_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>

#define CLUSTER_HOST_MAX 300
#define CLUSTER_IP_MAX   64

/* "<pid>@<hostname>". */
void cluster_identity_host(char *out, size_t size);

/* True when `text` is an IPv4 or IPv6 literal other than the unspecified address. */
bool cluster_identity_specific(const char *text);

/* The advertised address if given, else the HTTP bind address if it is a specific one,
 * else the first non-loopback IPv4 address of an interface that is up (else IPv6, not
 * link-local), else 127.0.0.1. `advertise` must be specific (checked by the caller). */
void cluster_identity_ip(const char *advertise, const char *bind, char *out, size_t size);

#endif
