/* mcast_receiver GROUP IFACE PORT: a multicast receiver as many are written: bind
 * the wildcard and PORT (SO_REUSEADDR), join GROUP on IFACE (IPv4: an interface
 * address, in a struct ip_mreq; IPv6: an interface name, its index in a struct
 * ipv6_mreq), then send by that interface too (IP_MULTICAST_IF / IPV6_MULTICAST_IF),
 * as an mDNS or SSDP responder does.  Prints "joined" and exits 0; a failed call
 * is said on stderr, exit 1. */
#include "common.h"

#include <net/if.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>

/* IPv4: join and multicast interface by the address @iface. */
static int join4(int fd, char **argv)
{
	struct ip_mreq m;
	struct in_addr ifaddr;

	memset(&m, 0, sizeof(m));
	if (inet_pton(AF_INET, argv[1], &m.imr_multiaddr) != 1 ||
	    inet_pton(AF_INET, argv[2], &ifaddr) != 1) {
		fprintf(stderr, "%s on %s: not IPv4 addresses\n", argv[1], argv[2]);
		return 1;
	}
	m.imr_interface = ifaddr;
	if (setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof(m)) < 0)
		return fail("setsockopt(IP_ADD_MEMBERSHIP)", argv[1], argv[3]);
	if (setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &ifaddr, sizeof(ifaddr)) < 0)
		return fail("setsockopt(IP_MULTICAST_IF)", argv[2], argv[3]);
	return 0;
}

/* IPv6: join and multicast interface by the index of the interface named @iface. */
static int join6(int fd, char **argv)
{
	struct ipv6_mreq m;
	int index = (int)if_nametoindex(argv[2]);

	memset(&m, 0, sizeof(m));
	if (inet_pton(AF_INET6, argv[1], &m.ipv6mr_multiaddr) != 1) {
		fprintf(stderr, "%s: not an IPv6 address\n", argv[1]);
		return 1;
	}
	m.ipv6mr_interface = (unsigned)index;
	if (setsockopt(fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, &m, sizeof(m)) < 0)
		return fail("setsockopt(IPV6_JOIN_GROUP)", argv[1], argv[3]);
	if (setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &index, sizeof(index)) < 0)
		return fail("setsockopt(IPV6_MULTICAST_IF)", argv[2], argv[3]);
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1, v6, rc;

	if (argc != 4) {
		fprintf(stderr, "usage: mcast_receiver GROUP IFACE PORT\n");
		return 2;
	}
	v6 = strchr(argv[1], ':') != NULL;
	if (resolve(v6 ? "::" : "0.0.0.0", argv[3], &ss, &len) < 0)
		return 1;
	fd = socket(ss.ss_family, SOCK_DGRAM, 0);
	if (fd < 0)
		return fail("socket", argv[1], argv[3]);
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&ss, len) < 0)
		return fail("bind", argv[1], argv[3]);
	rc = v6 ? join6(fd, argv) : join4(fd, argv);
	if (rc == 0)
		printf("joined\n");
	close(fd);
	return rc;
}
