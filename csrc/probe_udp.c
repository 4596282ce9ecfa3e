/* probe_udp.c: see probe_udp.h. */
#include "probe_udp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "probe_sock.h"

/* What a send carries: no netprobe server reads it, a capture shows who sent it. */
static const char payload[] = "netprobe\n";

/* The IPv4 address of @a (AF_INET). */
static struct in_addr in4_of(const struct parsed_addr *a)
{
	return ((const struct sockaddr_in *)&a->ss)->sin_addr;
}

/* The IPv6 address of @a (AF_INET6). */
static struct in6_addr in6_of(const struct parsed_addr *a)
{
	return ((const struct sockaddr_in6 *)&a->ss)->sin6_addr;
}

/*
 * Resolves what if= names to an index here into r->ifindex (an address: 0, the
 * address goes in the call itself; none: the scope of an IPv6 ADDR, if any).
 * Returns 0, or -1 with @r failed in "if_nametoindex" (ENODEV) for a name no
 * interface here has.
 */
static int iface_resolve(const struct probe_case *c, struct probe_result *r)
{
	const struct probe_iface *i = &c->opts.iface;

	if (i->kind == IFACE_INDEX) {
		r->ifindex = i->index;
	} else if (i->kind == IFACE_NAME) {
		r->ifindex = if_nametoindex(i->name);
		if (r->ifindex == 0)
			return result_fail(r, "if_nametoindex", ENODEV);
	} else if (i->kind == IFACE_NONE) {
		r->ifindex = addr_scope_id(&c->addr);
	}
	return 0;
}

/*
 * Opens the UDP socket of @c (scope of c->addr resolved: @c is the caller's copy)
 * with its options, and binds it first when the case asks: to src= (or the
 * wildcard) and PORT for a join or mcast-if, to src= and sport= for a send.
 * Returns the fd, or -1 with @r failed ("bind", "if_nametoindex" ...).
 */
static int open_bound(struct probe_case *c, struct probe_result *r)
{
	unsigned port = c->op == OP_SEND ? c->opts.sport : c->port;
	struct parsed_addr at;
	char why[160];
	int fd;

	if (addr_resolve_scope(&c->addr) < 0)
		return result_fail(r, "if_nametoindex", errno);
	if (iface_resolve(c, r) < 0)
		return -1;
	fd = sock_open(c, false, r);
	if (fd < 0 || (!c->opts.has_src && port == 0))
		return fd;
	at = c->opts.src;
	if (!c->opts.has_src && addr_parse("any", c->addr.family, &at, why, sizeof(why)) < 0) {
		close(fd);
		return result_fail(r, "bind", EAFNOSUPPORT);
	}
	addr_set_port(&at, port);
	if (addr_resolve_scope(&at) < 0 ||
	    bind(fd, (struct sockaddr *)&at.ss, at.len) < 0) {
		result_fail(r, at.scope[0] && errno == ENODEV ? "if_nametoindex" : "bind", errno);
		close(fd);
		return -1;
	}
	return fd;
}

/* IP_ADD_MEMBERSHIP / IPV6_JOIN_GROUP of c->addr on the interface @r->ifindex (or
 * if='s address) on @fd.  Returns 0, or -1 with @r failed. */
static int join_call(int fd, const struct probe_case *c, struct probe_result *r)
{
	const struct probe_iface *i = &c->opts.iface;
	struct ipv6_mreq m6;
	struct ip_mreqn m4;

	if (c->addr.family == AF_INET6) {
		memset(&m6, 0, sizeof(m6));
		m6.ipv6mr_multiaddr = in6_of(&c->addr);
		m6.ipv6mr_interface = r->ifindex;
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, &m6, sizeof(m6)) < 0)
			return result_fail(r, "setsockopt(IPV6_JOIN_GROUP)", errno);
		return 0;
	}
	memset(&m4, 0, sizeof(m4));
	m4.imr_multiaddr = in4_of(&c->addr);
	m4.imr_ifindex = (int)r->ifindex;
	if (i->kind == IFACE_ADDR)
		m4.imr_address = in4_of(&i->addr);
	if (setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m4, sizeof(m4)) < 0)
		return result_fail(r, "setsockopt(IP_ADD_MEMBERSHIP)", errno);
	return 0;
}

/* IP_MULTICAST_IF / IPV6_MULTICAST_IF on @fd: IPv4 by address (a struct in_addr,
 * the common form; none: INADDR_ANY, the kernel's choice again) or by index (a
 * struct ip_mreqn); IPv6 by index.  Returns 0, or -1 with @r failed. */
static int mcast_if_call(int fd, const struct probe_case *c, struct probe_result *r)
{
	const struct probe_iface *i = &c->opts.iface;
	struct ip_mreqn m4;
	struct in_addr a4;
	int idx = (int)r->ifindex, rc;

	if (c->addr.family == AF_INET6) {
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &idx, sizeof(idx)) < 0)
			return result_fail(r, "setsockopt(IPV6_MULTICAST_IF)", errno);
		return 0;
	}
	if (i->kind == IFACE_NAME || i->kind == IFACE_INDEX) {
		memset(&m4, 0, sizeof(m4));
		m4.imr_ifindex = idx;
		rc = setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &m4, sizeof(m4));
	} else {
		a4.s_addr = i->kind == IFACE_ADDR ? in4_of(&i->addr).s_addr : htonl(INADDR_ANY);
		rc = setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &a4, sizeof(a4));
	}
	if (rc < 0)
		return result_fail(r, "setsockopt(IP_MULTICAST_IF)", errno);
	return 0;
}

int probe_join(const struct probe_case *c, struct probe_result *r)
{
	struct probe_case local = *c;	/* scopes are resolved here, in this namespace */
	int64_t t0 = now_us();
	int fd;

	memset(r, 0, sizeof(*r));
	fd = open_bound(&local, r);
	if (fd >= 0 && (c->op == OP_JOIN ? join_call(fd, &local, r)
					  : mcast_if_call(fd, &local, r)) < 0) {
		close(fd);
		fd = -1;
	}
	r->elapsed_us = now_us() - t0;
	return fd;
}

/* sendmsg() of the payload to c->addr with an IP_PKTINFO / IPV6_PKTINFO of
 * pktinfo= (the source; none: 0, the kernel's choice) and the index @ifindex.
 * Returns sendmsg()'s value; *@call names it. */
static ssize_t send_pktinfo(int fd, const struct probe_case *c, unsigned ifindex,
			    const char **call)
{
	union {
		char buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = (void *)payload, .iov_len = sizeof(payload) - 1 };
	struct msghdr m = { .msg_name = (void *)&c->addr.ss, .msg_namelen = c->addr.len,
			    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf };
	struct cmsghdr *cm = (struct cmsghdr *)u.buf;
	struct in6_pktinfo p6 = { .ipi6_ifindex = ifindex };
	struct in_pktinfo p4 = { .ipi_ifindex = (int)ifindex };

	memset(&u, 0, sizeof(u));
	if (c->addr.family == AF_INET6) {
		if (c->opts.has_pktinfo)
			p6.ipi6_addr = in6_of(&c->opts.pktinfo);
		*cm = (struct cmsghdr){ .cmsg_len = CMSG_LEN(sizeof(p6)),
					.cmsg_level = IPPROTO_IPV6, .cmsg_type = IPV6_PKTINFO };
		memcpy(CMSG_DATA(cm), &p6, sizeof(p6));
		m.msg_controllen = CMSG_SPACE(sizeof(p6));
		*call = "sendmsg(IPV6_PKTINFO)";
	} else {
		if (c->opts.has_pktinfo)
			p4.ipi_spec_dst = in4_of(&c->opts.pktinfo);
		*cm = (struct cmsghdr){ .cmsg_len = CMSG_LEN(sizeof(p4)),
					.cmsg_level = IPPROTO_IP, .cmsg_type = IP_PKTINFO };
		memcpy(CMSG_DATA(cm), &p4, sizeof(p4));
		m.msg_controllen = CMSG_SPACE(sizeof(p4));
		*call = "sendmsg(IP_PKTINFO)";
	}
	return sendmsg(fd, &m, 0);
}

/* Sends the payload once on @fd as case @c asks (scopes resolved), then reads
 * the socket's address into r->local.  Returns 0, or -1 with @r failed. */
static int send_once(int fd, const struct probe_case *c, struct probe_result *r)
{
	const char *call = "sendto";
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	ssize_t n;

	if (c->opts.has_pktinfo || c->opts.iface.kind != IFACE_NONE)
		n = send_pktinfo(fd, c, r->ifindex, &call);
	else
		n = sendto(fd, payload, sizeof(payload) - 1, 0, (const struct sockaddr *)&c->addr.ss,
			   c->addr.len);
	if (n < 0)
		result_fail(r, call, errno);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0 &&
	    (ss.ss_family == AF_INET || ss.ss_family == AF_INET6))
		sockaddr_format((struct sockaddr *)&ss, r->local, sizeof(r->local));
	return n < 0 ? -1 : 0;
}

int probe_send(const struct probe_case *c, struct probe_result *r)
{
	struct probe_case local = *c;
	int64_t t0 = now_us();
	int fd;

	memset(r, 0, sizeof(*r));
	fd = open_bound(&local, r);
	if (fd >= 0)
		(void)send_once(fd, &local, r);	/* a failed send keeps its socket: send again */
	r->elapsed_us = now_us() - t0;
	return fd;
}

void probe_send_again(int fd, const struct probe_case *c, struct probe_result *r)
{
	struct probe_case local = *c;
	int64_t t0 = now_us();

	memset(r, 0, sizeof(*r));
	if (addr_resolve_scope(&local.addr) == 0 && iface_resolve(&local, r) == 0)
		(void)send_once(fd, &local, r);
	else if (!r->err)
		result_fail(r, "if_nametoindex", errno);
	r->elapsed_us = now_us() - t0;
}

int probe_run_at_once(const struct probe_case *c, struct probe_result *r)
{
	switch (c->op) {
	case OP_JOIN:
	case OP_MCAST_IF:
		return probe_join(c, r);
	case OP_SEND:
		return probe_send(c, r);
	default:
		return probe_bind(c, r);
	}
}
