/* trace_udpsend.c: the send records of trace_udpcalls.h. */
#include "trace_udpcalls.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "lib/json.h"
#include "trace_addr.h"
#include "trace_sock.h"

void trace_send_dest(struct trace_send *s, const void *addr, socklen_t len, int err)
{
	sa_family_t family;

	s->have_dest = false;
	memset(&s->dest, 0, sizeof(s->dest));
	if (!addr || !trace_addr_usable(addr, len, err) || len < sizeof(sa_family_t))
		return;
	memcpy(&family, addr, sizeof(family));
	if (family == AF_INET && len >= sizeof(struct sockaddr_in))
		memcpy(&s->dest.in, addr, sizeof(s->dest.in));
	else if (family == AF_INET6 && len >= sizeof(struct sockaddr_in6))
		memcpy(&s->dest.in6, addr, sizeof(s->dest.in6));
	else
		return;
	s->have_dest = true;
}

/* One cmsg: an IP_PKTINFO or IPV6_PKTINFO's source and index into @s. */
static void pktinfo_of(struct trace_send *s, const struct cmsghdr *cm)
{
	size_t data = cm->cmsg_len - CMSG_LEN(0);

	if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO &&
	    data >= sizeof(struct in_pktinfo)) {
		struct in_pktinfo pi;

		memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
		memset(&s->src, 0, sizeof(s->src));
		s->src.in.sin_family = AF_INET;
		s->src.in.sin_addr = pi.ipi_spec_dst;
		s->ifindex = pi.ipi_ifindex;
		s->call = "sendmsg(IP_PKTINFO)";
		s->pktinfo = true;
	} else if (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_PKTINFO &&
		   data >= sizeof(struct in6_pktinfo)) {
		struct in6_pktinfo pi;

		memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
		memset(&s->src, 0, sizeof(s->src));
		s->src.in6.sin6_family = AF_INET6;
		s->src.in6.sin6_addr = pi.ipi6_addr;
		s->ifindex = (int)pi.ipi6_ifindex;
		s->call = "sendmsg(IPV6_PKTINFO)";
		s->pktinfo = true;
	}
}

void trace_send_cmsgs(struct trace_send *s, const void *control, size_t len)
{
	struct msghdr msg = { .msg_control = (void *)control, .msg_controllen = len };
	struct cmsghdr *cm;

	if (!control || len < sizeof(struct cmsghdr))
		return;
	for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
		if (cm->cmsg_len < CMSG_LEN(0) ||
		    (const char *)cm + cm->cmsg_len > (const char *)control + len)
			break;
		pktinfo_of(s, cm);
	}
}

/* What the send record adds: src, sport, pktinfo, if, ifindex, local. */
struct send_more {
	const struct trace_send *s;
	const struct sockaddr *bound;	/* before the call: NULL, or a specific address */
	int qfd;
};

static void more_send(struct json_out *j, const void *arg)
{
	const struct send_more *m = arg;
	char text[TRACE_ADDR_MAX];
	struct sockaddr_storage local;

	if (m->bound) {
		trace_addr_text(m->bound, text);
		json_str(j, "src", text);
		json_int(j, "sport", trace_addr_port(m->bound));
	} else {
		json_null(j, "src");
		json_int(j, "sport", 0);
	}
	if (m->s->pktinfo && !trace_is_wildcard(&m->s->src.sa)) {
		trace_addr_text(&m->s->src.sa, text);
		json_str(j, "pktinfo", text);
	} else {
		json_null(j, "pktinfo");
	}
	if (m->s->pktinfo && m->s->ifindex) {
		snprintf(text, sizeof(text), "%d", m->s->ifindex);
		json_str(j, "if", text);
		json_int(j, "ifindex", m->s->ifindex);
	} else {
		json_null(j, "if");
		json_null(j, "ifindex");
	}
	if (trace_local_addr(m->qfd, &local) && trace_addr_port((struct sockaddr *)&local)) {
		trace_endpoint_text((struct sockaddr *)&local, text);
		json_str(j, "local", text);
	} else {
		json_null(j, "local");
	}
}

/* True when the socket of @qfd has a peer (a connected UDP socket: connect() chose
 * its source, and a bind cell or a connect cell already says so). */
static bool connected(int qfd)
{
	struct sockaddr_storage peer;
	socklen_t len = sizeof(peer);

	return getpeername(qfd, (struct sockaddr *)&peer, &len) == 0;
}

bool trace_record_send(const struct trace_caller *c, int fd, int qfd,
		       const struct trace_send *s, int err, int64_t elapsed_ns)
{
	struct sockaddr_storage local;
	bool have_local = trace_local_addr(qfd, &local);
	const struct sockaddr *lsa = (const struct sockaddr *)&local;
	struct send_more m = { s, NULL, qfd };
	int proto;

	if (!have_local)
		return false;		/* not an IP socket */
	if (!trace_is_wildcard(lsa))
		m.bound = lsa;
	/* most sends stop here, after one getsockname() */
	if (!s->pktinfo && (!m.bound || connected(qfd)))
		return false;		/* the kernel chose the source (or connect() did) */
	proto = trace_sockopt_int(qfd, SOL_SOCKET, SO_PROTOCOL);
	if (proto != IPPROTO_UDP && proto != IPPROTO_UDPLITE)
		return false;		/* not a UDP socket: not this record's */
	trace_record_other(c, "send", fd, qfd, s->have_dest ? s->dest.sa.sa_family :
			   local.ss_family, s->have_dest ? &s->dest.sa : NULL, err,
			   s->call ? s->call : "sendto", elapsed_ns, more_send, &m);
	return true;
}
