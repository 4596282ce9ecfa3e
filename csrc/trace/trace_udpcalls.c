/* trace_udpcalls.c: see trace_udpcalls.h. */
#include "trace_udpcalls.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "lib/json.h"
#include "trace_addr.h"
#include "trace_sock.h"

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

enum trace_opt_kind trace_sockopt_which(int level, int name)
{
	if (level == SOL_SOCKET)
		return name == SO_BINDTODEVICE ? TRACE_OPT_DEV : TRACE_OPT_NONE;
	if (level == IPPROTO_IP) {
		switch (name) {
		case IP_ADD_MEMBERSHIP: case MCAST_JOIN_GROUP: return TRACE_OPT_JOIN;
		case IP_MULTICAST_IF: return TRACE_OPT_MCAST_IF;
		case IP_FREEBIND: return TRACE_OPT_FREEBIND;
		case IP_BIND_ADDRESS_NO_PORT: return TRACE_OPT_BINDNOPORT;
		default: return TRACE_OPT_NONE;
		}
	}
	if (level == IPPROTO_IPV6) {
		switch (name) {
		case IPV6_JOIN_GROUP: case MCAST_JOIN_GROUP: return TRACE_OPT_JOIN;
		case IPV6_MULTICAST_IF: return TRACE_OPT_MCAST_IF;
		case IPV6_FREEBIND: return TRACE_OPT_FREEBIND;
		default: return TRACE_OPT_NONE;
		}
	}
	return TRACE_OPT_NONE;
}

/* The call word of setsockopt(@level, @name), as netprobe names it. */
static const char *sockopt_call(int level, int name)
{
	if (level == SOL_SOCKET)
		return "setsockopt(SO_BINDTODEVICE)";
	if (name == MCAST_JOIN_GROUP)
		return "setsockopt(MCAST_JOIN_GROUP)";
	if (level == IPPROTO_IPV6)
		return name == IPV6_JOIN_GROUP ? "setsockopt(IPV6_JOIN_GROUP)" :
		       name == IPV6_MULTICAST_IF ? "setsockopt(IPV6_MULTICAST_IF)" :
						   "setsockopt(IPV6_FREEBIND)";
	return name == IP_ADD_MEMBERSHIP ? "setsockopt(IP_ADD_MEMBERSHIP)" :
	       name == IP_MULTICAST_IF ? "setsockopt(IP_MULTICAST_IF)" :
	       name == IP_FREEBIND ? "setsockopt(IP_FREEBIND)" :
				     "setsockopt(IP_BIND_ADDRESS_NO_PORT)";
}

/* @a as the IPv4 address @in. */
static void set_v4(union trace_ipaddr *a, struct in_addr in)
{
	memset(a, 0, sizeof(*a));
	a->in.sin_family = AF_INET;
	a->in.sin_addr = in;
}

/* @a as a copy of @sa, an IPv4/IPv6 socket address (AF_UNSPEC otherwise). */
static void set_sa(union trace_ipaddr *a, const struct sockaddr_storage *ss)
{
	memset(a, 0, sizeof(*a));
	if (ss->ss_family == AF_INET)
		memcpy(&a->in, ss, sizeof(a->in));
	else if (ss->ss_family == AF_INET6)
		memcpy(&a->in6, ss, sizeof(a->in6));
}

/* A join's value: ip_mreq / ip_mreqn (by length), ipv6_mreq, group_req. */
static void read_join(struct trace_sockopt *o, int level, int name, const void *val,
		      socklen_t len)
{
	if (name == MCAST_JOIN_GROUP && len >= sizeof(struct group_req)) {
		const struct group_req *g = val;

		set_sa(&o->group, &g->gr_group);
		o->ifindex = (int)g->gr_interface;
		o->family = g->gr_group.ss_family;
	} else if (level == IPPROTO_IPV6 && len >= sizeof(struct ipv6_mreq)) {
		const struct ipv6_mreq *m = val;

		memset(&o->group, 0, sizeof(o->group));
		o->group.in6.sin6_family = AF_INET6;
		o->group.in6.sin6_addr = m->ipv6mr_multiaddr;
		o->ifindex = (int)m->ipv6mr_interface;
	} else if (level == IPPROTO_IP && len >= sizeof(struct ip_mreq)) {
		const struct ip_mreqn *m = val;	/* ip_mreq is its first two members */

		set_v4(&o->group, m->imr_multiaddr);
		if (len >= sizeof(struct ip_mreqn))
			o->ifindex = m->imr_ifindex;
		if (!o->ifindex && m->imr_address.s_addr != htonl(INADDR_ANY))
			set_v4(&o->ifaddr, m->imr_address);
	} else {
		return;
	}
	o->have = true;
}

/* A multicast interface's value: in_addr, ip_mreq(n) (IPv4) or an index (IPv6). */
static void read_mcast_if(struct trace_sockopt *o, int level, const void *val, socklen_t len)
{
	if (level == IPPROTO_IPV6 && len >= sizeof(int)) {
		memcpy(&o->ifindex, val, sizeof(int));
	} else if (level == IPPROTO_IP && len >= sizeof(struct ip_mreqn)) {
		const struct ip_mreqn *m = val;

		o->ifindex = m->imr_ifindex;
		if (!o->ifindex)
			set_v4(&o->ifaddr, m->imr_address);
	} else if (level == IPPROTO_IP && len >= sizeof(struct ip_mreq)) {
		const struct ip_mreq *m = val;	/* as the kernel reads it: the second field */

		set_v4(&o->ifaddr, m->imr_interface);
	} else if (level == IPPROTO_IP && len >= sizeof(struct in_addr)) {
		struct in_addr in;

		memcpy(&in, val, sizeof(in));
		set_v4(&o->ifaddr, in);
	} else {
		return;
	}
	o->have = true;
}

void trace_sockopt_read(struct trace_sockopt *o, int level, int name, const void *val,
			socklen_t len, int err)
{
	memset(o, 0, sizeof(*o));
	o->kind = trace_sockopt_which(level, name);
	if (o->kind == TRACE_OPT_NONE)
		return;
	o->call = sockopt_call(level, name);
	o->family = level == IPPROTO_IPV6 ? AF_INET6 : level == IPPROTO_IP ? AF_INET : AF_UNSPEC;
	/* the kernel looks the socket up before it copies the value */
	if (!val || err == EFAULT || err == EBADF || err == ENOTSOCK || len > TRACE_OPTVAL_MAX)
		return;
	switch (o->kind) {
	case TRACE_OPT_JOIN:
		read_join(o, level, name, val, len);
		break;
	case TRACE_OPT_MCAST_IF:
		read_mcast_if(o, level, val, len);
		break;
	case TRACE_OPT_DEV:	/* the kernel reads at most IFNAMSIZ - 1 bytes */
		memcpy(o->dev, val, len < IF_NAMESIZE - 1 ? len : IF_NAMESIZE - 1);
		o->have = true;
		break;
	default:	/* freebind, bindnoport: an int (or one byte) */
		if (len >= sizeof(int))
			memcpy(&o->value, val, sizeof(int));
		else if (len >= 1)
			o->value = *(const unsigned char *)val;
		o->have = len >= 1;
		break;
	}
}

/* "if", "ifindex" and "src" of a join or mcast-if @o on the socket bound to @local
 * (NULL: not asked). */
struct iface_more {
	const struct trace_sockopt *o;
	const struct sockaddr_storage *local;
};

static void more_iface(struct json_out *j, const void *arg)
{
	const struct iface_more *m = arg;
	char text[TRACE_ADDR_MAX];
	const struct sockaddr *sa = (const struct sockaddr *)m->local;

	if (m->o->have && m->o->ifaddr.sa.sa_family == AF_INET) {
		trace_addr_text(&m->o->ifaddr.sa, text);
		json_str(j, "if", text);
		json_null(j, "ifindex");
	} else if (m->o->have && m->o->ifindex) {
		snprintf(text, sizeof(text), "%d", m->o->ifindex);
		json_str(j, "if", text);
		json_int(j, "ifindex", m->o->ifindex);
	} else {
		json_null(j, "if");
		json_null(j, "ifindex");
	}
	if (sa && !trace_is_wildcard(sa)) {
		trace_addr_text(sa, text);
		json_str(j, "src", text);
	} else {
		json_null(j, "src");
	}
}

/* "option": the plan word of a freebind, bindnoport or dev= @o. */
static void more_option(struct json_out *j, const void *arg)
{
	const struct trace_sockopt *o = arg;
	char word[IF_NAMESIZE + 8];

	if (!o->have)
		json_null(j, "option");
	else if (o->kind == TRACE_OPT_DEV)
		snprintf(word, sizeof(word), "dev=%s", o->dev);
	else
		snprintf(word, sizeof(word), "%s%s",
			 o->kind == TRACE_OPT_FREEBIND ? "freebind" : "bindnoport",
			 o->value ? "" : "=0");
	if (o->have)
		json_str(j, "option", word);
}

bool trace_record_sockopt(const struct trace_caller *c, int fd, int qfd,
			  const struct trace_sockopt *o, int err, int64_t elapsed_ns)
{
	struct sockaddr_storage local;
	bool have_local = trace_local_addr(qfd, &local);
	struct iface_more m = { o, have_local ? &local : NULL };
	union trace_ipaddr group;
	int family = have_local ? local.ss_family : o->family;

	if (o->kind == TRACE_OPT_NONE || (!have_local && qfd >= 0))
		return false;		/* not an IP socket (or closed) */
	if (o->kind == TRACE_OPT_JOIN) {
		group = o->group;
		if (o->have && have_local)	/* the port the receiver bound */
			group.in.sin_port = ((struct sockaddr_in *)&local)->sin_port;
		trace_record_other(c, "join", fd, qfd, o->have ? group.sa.sa_family : family,
				   o->have ? &group.sa : NULL, err, o->call, elapsed_ns,
				   more_iface, &m);
	} else if (o->kind == TRACE_OPT_MCAST_IF) {
		trace_record_other(c, "mcast-if", fd, qfd, o->family, NULL, err, o->call,
				   elapsed_ns, more_iface, &m);
	} else {
		trace_record_other(c, "setsockopt", fd, qfd, family,
				   have_local ? (struct sockaddr *)&local : NULL, err, o->call,
				   elapsed_ns, more_option, o);
	}
	return true;
}
