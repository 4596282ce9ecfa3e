/*
 * trace_udpcalls.h: the records of the calls besides bind and connect where an
 * address error hides, for both tracers (libbindtrace.so: bindtrace_udp.c;
 * bindtrace-sys: systrace_udp.c), in netprobe's record format (docs/netprobe.md):
 *
 *   setsockopt(IP_ADD_MEMBERSHIP | IPV6_JOIN_GROUP | MCAST_JOIN_GROUP)
 *             op "join": addr the group, port the socket's own port (0: unbound),
 *             "if" (the interface as the call named it: an address, or an index as
 *             text), "ifindex" (null when named by address), "src" (the address
 *             the socket is bound to, null: the wildcard or none)
 *   setsockopt(IP_MULTICAST_IF | IPV6_MULTICAST_IF)
 *             op "mcast-if": addr and port null (the call names no group), "if",
 *             "ifindex", "src" as for a join
 *   setsockopt(IP_FREEBIND | IPV6_FREEBIND | IP_BIND_ADDRESS_NO_PORT |
 *              SO_BINDTODEVICE)
 *             op "setsockopt": "option" as netprobe's plan word: "freebind",
 *             "bindnoport", "dev=IF" ("freebind=0", "bindnoport=0", "dev=" when
 *             turned off), addr and port the socket's own address
 *   sendto() / sendmsg() on a UDP socket with a chosen source: a source in
 *             IP_PKTINFO / IPV6_PKTINFO, or a socket bound to a specific address
 *             op "send": addr and port the destination (null: a connected
 *             socket's), "src" and "sport" (the bound source), "pktinfo" (the
 *             PKTINFO source, null), "if" / "ifindex" (PKTINFO's index), "local"
 *             (the socket's address after the call); call "sendto", "sendmsg",
 *             "sendmsg(IP_PKTINFO)" or "sendmsg(IPV6_PKTINFO)"
 *
 * A send whose source the kernel chooses (an unbound or wildcard socket without
 * PKTINFO: most sends) is not recorded.  Each record ends with the caller members
 * of every record (trace_record.h).
 */
#ifndef TRACE_UDPCALLS_H
#define TRACE_UDPCALLS_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "trace_record.h"

/* The longest option value read: a struct group_req. */
#define TRACE_OPTVAL_MAX 160
/* The most control data of a sendmsg() read (its cmsgs). */
#define TRACE_CONTROL_MAX 512

enum trace_opt_kind {
	TRACE_OPT_NONE, TRACE_OPT_JOIN, TRACE_OPT_MCAST_IF, TRACE_OPT_FREEBIND,
	TRACE_OPT_BINDNOPORT, TRACE_OPT_DEV
};

/* What a setsockopt() asked, read from its arguments. */
struct trace_sockopt {
	enum trace_opt_kind kind;
	const char *call;		/* "setsockopt(IP_ADD_MEMBERSHIP)" ... */
	int family;			/* AF_INET / AF_INET6: the option's level */
	bool have;			/* the value was read */
	union trace_ipaddr group;	/* a join's group */
	union trace_ipaddr ifaddr;	/* the interface by address (AF_UNSPEC: none) */
	int ifindex;			/* the interface by index (0: none) */
	int value;			/* freebind, bindnoport */
	char dev[IF_NAMESIZE + 1];	/* SO_BINDTODEVICE */
};

/* Which option setsockopt(@level, @name) sets, TRACE_OPT_NONE for one not
 * recorded (the syscall tracer asks this before it reads anything). */
enum trace_opt_kind trace_sockopt_which(int level, int name);

/* Fills @o from setsockopt(@level, @name, @val, @len) that failed with @err (0:
 * it did not); @val is read only when the kernel read it too. */
void trace_sockopt_read(struct trace_sockopt *o, int level, int name, const void *val,
			socklen_t len, int err);

/* The record of the setsockopt() @o of @fd (asked through @qfd).  Returns true
 * when it wrote one (an IP socket, an option recorded). */
bool trace_record_sockopt(const struct trace_caller *c, int fd, int qfd,
			  const struct trace_sockopt *o, int err, int64_t elapsed_ns);

/* What a sendto()/sendmsg() asked: the destination and the PKTINFO source. */
struct trace_send {
	const char *call;		/* "sendto", "sendmsg", "sendmsg(IP_PKTINFO)" ... */
	bool have_dest;
	union trace_ipaddr dest;
	bool pktinfo;			/* a PKTINFO cmsg came with it */
	union trace_ipaddr src;		/* its source (any: the kernel's choice) */
	int ifindex;			/* its interface index (0: none) */
};

/* The destination @addr (@len bytes, NULL: none) of a send that failed with @err,
 * into @s. */
void trace_send_dest(struct trace_send *s, const void *addr, socklen_t len, int err);

/* The PKTINFO of the control data @control (@len bytes, a copy the caller may
 * read whole) of a sendmsg(), into @s. */
void trace_send_cmsgs(struct trace_send *s, const void *control, size_t len);

/* The record of the send @s on @fd (asked through @qfd), when it had a chosen
 * source (module comment).  Returns true when it wrote one. */
bool trace_record_send(const struct trace_caller *c, int fd, int qfd,
		       const struct trace_send *s, int err, int64_t elapsed_ns);

#endif
