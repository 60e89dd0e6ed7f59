/* How this node names itself to the cluster (docs/api.md §1.6). */
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cluster_identity.h"

void cluster_identity_host(char *out, size_t size)
{
	char hostname[256];
	if (gethostname(hostname, sizeof(hostname)) != 0)
		snprintf(hostname, sizeof(hostname), "localhost");
	hostname[sizeof(hostname) - 1] = '\0';
	snprintf(out, size, "%ld@%s", (long)getpid(), hostname);
}

bool cluster_identity_specific(const char *text)
{
	struct in_addr v4;
	struct in6_addr v6;
	if (text == NULL)
		return false;
	if (inet_pton(AF_INET, text, &v4) == 1)
		return v4.s_addr != htonl(INADDR_ANY);
	return inet_pton(AF_INET6, text, &v6) == 1 && !IN6_IS_ADDR_UNSPECIFIED(&v6);
}

static bool usable_ipv6(const struct in6_addr *a)
{
	return !IN6_IS_ADDR_LOOPBACK(a) && !IN6_IS_ADDR_LINKLOCAL(a) && !IN6_IS_ADDR_UNSPECIFIED(a);
}

/* The first IPv4 address, else the first usable IPv6 one; false when there is none. */
static bool interface_address(char *out, size_t size)
{
	struct ifaddrs *list;
	if (getifaddrs(&list) != 0)
		return false;
	char v6[INET6_ADDRSTRLEN] = "";
	bool found = false;
	for (struct ifaddrs *i = list; i != NULL && !found; i = i->ifa_next) {
		if (i->ifa_addr == NULL || (i->ifa_flags & IFF_LOOPBACK) ||
		    !(i->ifa_flags & IFF_UP))
			continue;
		if (i->ifa_addr->sa_family == AF_INET) {
			const struct sockaddr_in *sin = (const struct sockaddr_in *)i->ifa_addr;
			found = inet_ntop(AF_INET, &sin->sin_addr, out, (socklen_t)size) != NULL;
		} else if (i->ifa_addr->sa_family == AF_INET6 && v6[0] == '\0') {
			const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)i->ifa_addr;
			if (usable_ipv6(&sin6->sin6_addr) &&
			    inet_ntop(AF_INET6, &sin6->sin6_addr, v6, sizeof(v6)) == NULL)
				v6[0] = '\0';
		}
	}
	freeifaddrs(list);
	if (!found && v6[0] != '\0' && strlen(v6) < size) {
		strcpy(out, v6);
		found = true;
	}
	return found;
}

void cluster_identity_ip(const char *advertise, const char *bind, char *out, size_t size)
{
	if (advertise != NULL && advertise[0] != '\0')
		snprintf(out, size, "%s", advertise);
	else if (cluster_identity_specific(bind))
		snprintf(out, size, "%s", bind);
	else if (!interface_address(out, size))
		snprintf(out, size, "127.0.0.1");
}
