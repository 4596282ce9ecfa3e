/*
 * probe_udp.h: the UDP calls besides bind and connect where address errors hide,
 * each on a socket made with the case's options (probe_sock.h) and bound first
 * when the case asks:
 *
 *   join      IP_ADD_MEMBERSHIP (struct ip_mreqn: the interface by address or by
 *             index) / IPV6_JOIN_GROUP (by index); ADDR is the group
 *   mcast-if  IP_MULTICAST_IF (an address: struct in_addr; an index: ip_mreqn) /
 *             IPV6_MULTICAST_IF (an index)
 *   send      one datagram to ADDR:PORT: sendto() from the bound source (src=,
 *             sport=), or sendmsg() with a source (pktinfo=) and/or an interface
 *             index (if=) in IP_PKTINFO / IPV6_PKTINFO
 *
 * A join's or mcast-if's PORT, or src=, binds the socket first (to src= or the
 * wildcard); a send binds first when src= or sport= is given.  The interface if=
 * names is resolved in this namespace (a name through if_nametoindex(): ENODEV,
 * call "if_nametoindex", when there is none); the index used is the record's
 * "ifindex".  What each errno means on each call: docs/netprobe.md.
 */
#ifndef PROBE_UDP_H
#define PROBE_UDP_H

#include "probe_case.h"

/*
 * Runs join or mcast-if case @c and fills @r (errno, the failing call, elapsed
 * time, the index used).  Returns the socket, which the caller owns (a joined
 * group stays joined while it is open), or -1 when a call failed.
 */
int probe_join(const struct probe_case *c, struct probe_result *r);

/*
 * Runs send case @c: socket, options, the bind first, one datagram; fills @r
 * (r->local: the address and port the socket had after the send).  Returns the
 * socket (for probe_send_again(); also when the send failed), which the caller
 * owns, or -1 when it could not be made or bound.
 */
int probe_send(const struct probe_case *c, struct probe_result *r);

/* Sends the datagram of @c once more on @fd (from probe_send()), into @r. */
void probe_send_again(int fd, const struct probe_case *c, struct probe_result *r);

/*
 * Runs any case that is not a connect (bind, join, mcast-if, send): the calls a
 * batch runs one after another in plan order.  Returns the socket or -1, as the
 * probe of its operation does.
 */
int probe_run_at_once(const struct probe_case *c, struct probe_result *r);

#endif
