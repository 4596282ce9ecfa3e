/*
 * probe_ifaddrs.h: this network namespace's addresses, read from rtnetlink.
 *
 * The C answer to the seed's get_local_ips(): every address of every interface,
 * with the flags that decide whether a bind() to it can work (tentative and
 * dadfailed IPv6 addresses give EADDRNOTAVAIL) and the state of its link.  Read
 * with a raw NETLINK_ROUTE socket (RTM_GETLINK and RTM_GETADDR dumps), never by
 * parsing `ip` output.
 */
#ifndef PROBE_IFADDRS_H
#define PROBE_IFADDRS_H

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifndef IFF_LOWER_UP
#define IFF_LOWER_UP 0x10000	/* <linux/if.h>, which clashes with <net/if.h> */
#endif

struct local_addr {
	char ifname[IF_NAMESIZE];	/* "" when the link was not in the link dump */
	int ifindex;
	int family;			/* AF_INET or AF_INET6 */
	union {
		struct in_addr v4;
		struct in6_addr v6;
	} a;
	char text[INET6_ADDRSTRLEN];	/* "10.0.0.1", "fe80::1" (no scope) */
	unsigned prefixlen;
	unsigned scope;			/* RT_SCOPE_*: host, link, site, global */
	uint32_t flags;			/* IFA_F_* (IFA_FLAGS when the kernel sends it) */
	unsigned link_flags;		/* IFF_* of the interface */
	unsigned char operstate;	/* IF_OPER_* of the interface */
};

/*
 * Reads every address of this namespace (both families) into a new array.
 * On success returns 0 and stores the array in *@out (the caller frees it with
 * free()) and its length in *@n (0 is possible: an empty namespace has only a down
 * lo).  Returns -1 with errno set (socket, send or recv failed, ENOMEM, EPROTO for
 * a malformed reply, or the kernel's error from an NLMSG_ERROR); *@out is then NULL.
 */
int addrs_dump(struct local_addr **out, size_t *n);

/* "host", "link", "site", "global", "nowhere", or the number as text in @buf. */
const char *addr_scope_name(unsigned scope, char *buf, size_t len);

/* "up", "down", "lowerlayerdown", "dormant", "notpresent", "testing", "unknown". */
const char *addr_operstate_name(unsigned char operstate);

/* How many IFA_F_* flags have a name: the most addr_flag_names() can give. */
#define ADDR_FLAGS_MAX 12

/*
 * Stores the names of @a's IFA_F_* flags ("tentative", "permanent", ...; IPv6
 * "temporary" for the bit IPv4 calls "secondary") in @names, in a fixed order, at
 * most @max of them.  Returns how many; the names are static strings.
 */
size_t addr_flag_names(const struct local_addr *a, const char **names, size_t max);

/* Writes @a's flag names comma-separated into @buf of @len bytes ("-" for none),
 * cut to fit at a name. */
void addr_flags_text(const struct local_addr *a, char *buf, size_t len);

struct json_out;

/* Adds the members of @a that `addrs --json` and diagnose's "local_addrs" share to
 * @j (lib/json.h): family, addr, prefixlen, scope, flags (an array of names) and
 * link ("up"/"down"). */
void addr_json_members(struct json_out *j, const struct local_addr *a);

/* True when the interface is administratively up and has a carrier (IFF_UP and
 * IFF_LOWER_UP): the state in which packets from this address can leave. */
bool addr_link_usable(const struct local_addr *a);

#endif
