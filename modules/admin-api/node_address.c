/* How this node names itself in the cluster listing (docs/api.md §1.6). */
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "admin_api.h"

static bool usable_ipv6(const struct in6_addr *a)
{
	return !IN6_IS_ADDR_LOOPBACK(a) && !IN6_IS_ADDR_LINKLOCAL(a) && !IN6_IS_ADDR_UNSPECIFIED(a);
}

void node_address(char *host, size_t host_size, char *ip, size_t ip_size)
{
	char hostname[256];
	if (gethostname(hostname, sizeof(hostname)) != 0)
		snprintf(hostname, sizeof(hostname), "localhost");
	hostname[sizeof(hostname) - 1] = '\0';
	snprintf(host, host_size, "%ld@%s", (long)getpid(), hostname);

	snprintf(ip, ip_size, "127.0.0.1");
	struct ifaddrs *list;
	if (getifaddrs(&list) != 0)
		return;
	bool have_v6 = false;
	char v6[INET6_ADDRSTRLEN] = "";
	for (struct ifaddrs *i = list; i != NULL; i = i->ifa_next) {
		if (i->ifa_addr == NULL || (i->ifa_flags & IFF_LOOPBACK) ||
		    !(i->ifa_flags & IFF_UP))
			continue;
		if (i->ifa_addr->sa_family == AF_INET) {
			const struct sockaddr_in *sin = (const struct sockaddr_in *)i->ifa_addr;
			if (inet_ntop(AF_INET, &sin->sin_addr, ip, (socklen_t)ip_size) != NULL) {
				freeifaddrs(list);
				return;
			}
		} else if (i->ifa_addr->sa_family == AF_INET6 && !have_v6) {
			const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)i->ifa_addr;
			have_v6 = usable_ipv6(&sin6->sin6_addr) &&
			          inet_ntop(AF_INET6, &sin6->sin6_addr, v6, sizeof(v6)) != NULL;
		}
	}
	freeifaddrs(list);
	if (have_v6)
		snprintf(ip, ip_size, "%s", v6);
}
