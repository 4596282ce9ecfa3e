/* probe_ifaddrs.c: see probe_ifaddrs.h. */
#include "probe_ifaddrs.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/json.h"


#define NL_BUF_SIZE 32768	/* the kernel never puts more into one dump datagram */
#define DUMP_TRIES 3		/* a dump interrupted by a concurrent change is redone */

struct link_info {
	int index;
	char name[IF_NAMESIZE];
	unsigned flags;
	unsigned char operstate;
};

struct dump_state {
	struct link_info *links;
	size_t nlinks, linkcap;
	struct local_addr *addrs;
	size_t naddrs, addrcap;
};

/* Grows *@arr (elements of @size) so that one more fits.  Returns 0 or -1 (ENOMEM). */
static int grow(void **arr, size_t *cap, size_t used, size_t size)
{
	size_t ncap;
	void *p;

	if (used < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 16;
	p = realloc(*arr, ncap * size);
	if (!p)
		return -1;
	*arr = p;
	*cap = ncap;
	return 0;
}

/* Opens a NETLINK_ROUTE socket.  Returns the fd or -1 (errno). */
static int nl_open(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	int saved;

	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

/* Sends a dump request of @type (RTM_GETLINK or RTM_GETADDR) for every family.
 * Returns 0 or -1 (errno). */
static int nl_request(int fd, int type, uint32_t seq)
{
	struct {
		struct nlmsghdr nh;
		union {
			struct ifinfomsg ifi;
			struct ifaddrmsg ifa;
		} body;
	} req;
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	size_t body = type == RTM_GETLINK ? sizeof(req.body.ifi) : sizeof(req.body.ifa);

	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = NLMSG_LENGTH(body);
	req.nh.nlmsg_type = (uint16_t)type;
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.nh.nlmsg_seq = seq;
	/* family AF_UNSPEC (0) in both bodies: every family */
	if (sendto(fd, &req, req.nh.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0)
		return -1;
	return 0;
}

typedef int (*nl_cb)(const struct nlmsghdr *nh, struct dump_state *st);

/*
 * Reads the replies to dump @seq until NLMSG_DONE, handing each message of the
 * dump to @cb.  Returns 0, or -1 with errno: from recvmsg, the kernel's error,
 * EMSGSIZE for a cut datagram, EAGAIN when the dump was interrupted by a change
 * (NLM_F_DUMP_INTR: the caller redoes it), or what @cb set.
 */
static int nl_dump(int fd, uint32_t seq, char *buf, nl_cb cb, struct dump_state *st)
{
	bool intr = false;

	for (;;) {
		struct iovec iov = { .iov_base = buf, .iov_len = NL_BUF_SIZE };
		struct sockaddr_nl from;
		struct msghdr msg = {
			.msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &iov, .msg_iovlen = 1,
		};
		ssize_t got = recvmsg(fd, &msg, 0);
		size_t left;

		if (got < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (msg.msg_flags & MSG_TRUNC) {
			errno = EMSGSIZE;
			return -1;
		}
		if (from.nl_pid != 0)	/* not from the kernel */
			continue;
		left = (size_t)got;
		for (struct nlmsghdr *nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, left);
		     nh = NLMSG_NEXT(nh, left)) {
			if (nh->nlmsg_seq != seq)
				continue;
			if (nh->nlmsg_flags & NLM_F_DUMP_INTR)
				intr = true;
			if (nh->nlmsg_type == NLMSG_DONE) {
				if (intr) {
					errno = EAGAIN;
					return -1;
				}
				return 0;
			}
			if (nh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(nh);

				if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
					errno = EPROTO;
				else
					errno = e->error ? -e->error : EPROTO;
				return -1;
			}
			if (cb(nh, st) < 0)
				return -1;
		}
		if (left != 0) {	/* a message claims more bytes than arrived */
			errno = EPROTO;
			return -1;
		}
	}
}

/* RTM_NEWLINK: remembers the interface's name, flags and operstate. */
static int on_link(const struct nlmsghdr *nh, struct dump_state *st)
{
	const struct ifinfomsg *ifi = NLMSG_DATA(nh);
	struct link_info *l;
	int len;

	if (nh->nlmsg_type != RTM_NEWLINK)
		return 0;
	len = (int)nh->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*ifi));
	if (len < 0) {
		errno = EPROTO;
		return -1;
	}
	if (grow((void **)&st->links, &st->linkcap, st->nlinks, sizeof(*l)) < 0)
		return -1;
	l = &st->links[st->nlinks++];
	memset(l, 0, sizeof(*l));
	l->index = ifi->ifi_index;
	l->flags = ifi->ifi_flags;
	for (const struct rtattr *rta = IFLA_RTA(ifi); RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		if (rta->rta_type == IFLA_IFNAME) {
			size_t n = RTA_PAYLOAD(rta);

			if (n >= sizeof(l->name))
				n = sizeof(l->name) - 1;
			memcpy(l->name, RTA_DATA(rta), n);
			l->name[n] = '\0';
		} else if (rta->rta_type == IFLA_OPERSTATE && RTA_PAYLOAD(rta) >= 1) {
			l->operstate = *(const unsigned char *)RTA_DATA(rta);
		}
	}
	return 0;
}

/* RTM_NEWADDR: appends the address (IFA_LOCAL when present, the local end of a
 * point-to-point link, else IFA_ADDRESS) with its flags. */
static int on_addr(const struct nlmsghdr *nh, struct dump_state *st)
{
	const struct ifaddrmsg *ifa = NLMSG_DATA(nh);
	const void *local = NULL, *address = NULL, *data;
	size_t alen;
	uint32_t flags;
	struct local_addr *a;
	int len;

	if (nh->nlmsg_type != RTM_NEWADDR)
		return 0;
	len = (int)nh->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*ifa));
	if (len < 0) {
		errno = EPROTO;
		return -1;
	}
	if (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6)
		return 0;
	alen = ifa->ifa_family == AF_INET ? 4 : 16;
	flags = ifa->ifa_flags;
	for (const struct rtattr *rta = IFA_RTA(ifa); RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		if (rta->rta_type == IFA_LOCAL && RTA_PAYLOAD(rta) >= alen)
			local = RTA_DATA(rta);
		else if (rta->rta_type == IFA_ADDRESS && RTA_PAYLOAD(rta) >= alen)
			address = RTA_DATA(rta);
		else if (rta->rta_type == IFA_FLAGS && RTA_PAYLOAD(rta) >= 4)
			memcpy(&flags, RTA_DATA(rta), 4);	/* 32 bits; ifa_flags has 8 */
	}
	data = local ? local : address;
	if (!data)
		return 0;
	if (grow((void **)&st->addrs, &st->addrcap, st->naddrs, sizeof(*a)) < 0)
		return -1;
	a = &st->addrs[st->naddrs++];
	memset(a, 0, sizeof(*a));
	a->ifindex = (int)ifa->ifa_index;
	a->family = ifa->ifa_family;
	memcpy(&a->a, data, alen);
	inet_ntop(a->family, &a->a, a->text, sizeof(a->text));
	a->prefixlen = ifa->ifa_prefixlen;
	a->scope = ifa->ifa_scope;
	a->flags = flags;
	return 0;
}

/* Fills each address's interface name and link state from the link dump. */
static void join_links(struct dump_state *st)
{
	for (size_t i = 0; i < st->naddrs; i++) {
		struct local_addr *a = &st->addrs[i];

		for (size_t k = 0; k < st->nlinks; k++) {
			if (st->links[k].index != a->ifindex)
				continue;
			memcpy(a->ifname, st->links[k].name, sizeof(a->ifname));
			a->link_flags = st->links[k].flags;
			a->operstate = st->links[k].operstate;
			break;
		}
	}
}

/* One pass of both dumps into @st.  Returns 0 or -1 (errno, EAGAIN: redo). */
static int dump_once(struct dump_state *st, char *buf)
{
	int fd = nl_open();
	int ret = -1, saved;

	if (fd < 0)
		return -1;
	if (nl_request(fd, RTM_GETLINK, 1) < 0 || nl_dump(fd, 1, buf, on_link, st) < 0)
		goto out;
	if (nl_request(fd, RTM_GETADDR, 2) < 0 || nl_dump(fd, 2, buf, on_addr, st) < 0)
		goto out;
	join_links(st);
	ret = 0;
out:
	saved = errno;
	close(fd);
	errno = saved;
	return ret;
}

int addrs_dump(struct local_addr **out, size_t *n)
{
	struct dump_state st;
	char *buf = malloc(NL_BUF_SIZE);
	int ret = -1, saved;

	*out = NULL;
	*n = 0;
	memset(&st, 0, sizeof(st));
	if (!buf)
		return -1;
	for (int t = 0; t < DUMP_TRIES; t++) {
		st.nlinks = 0;
		st.naddrs = 0;
		ret = dump_once(&st, buf);
		if (ret == 0 || errno != EAGAIN)
			break;
	}
	saved = errno;
	free(buf);
	free(st.links);
	if (ret < 0) {
		free(st.addrs);
		errno = saved;
		return -1;
	}
	*out = st.addrs;
	*n = st.naddrs;
	return 0;
}

const char *addr_scope_name(unsigned scope, char *buf, size_t len)
{
	switch (scope) {
	case RT_SCOPE_UNIVERSE: return "global";
	case RT_SCOPE_SITE: return "site";
	case RT_SCOPE_LINK: return "link";
	case RT_SCOPE_HOST: return "host";
	case RT_SCOPE_NOWHERE: return "nowhere";
	default:
		snprintf(buf, len, "%u", scope);
		return buf;
	}
}

const char *addr_operstate_name(unsigned char operstate)
{
	/* IF_OPER_* of <linux/if.h>, in their numeric order */
	static const char *const names[] = {
		"unknown", "notpresent", "down", "lowerlayerdown", "testing", "dormant", "up",
	};

	return operstate < sizeof(names) / sizeof(names[0]) ? names[operstate] : "unknown";
}

size_t addr_flag_names(const struct local_addr *a, const char **names, size_t max)
{
	static const struct {
		uint32_t bit;
		const char *name;
	} flags[ADDR_FLAGS_MAX] = {
		{ IFA_F_SECONDARY, "secondary" },	/* "temporary" for IPv6, same bit */
		{ IFA_F_NODAD, "nodad" },
		{ IFA_F_OPTIMISTIC, "optimistic" },
		{ IFA_F_DADFAILED, "dadfailed" },
		{ IFA_F_HOMEADDRESS, "homeaddress" },
		{ IFA_F_DEPRECATED, "deprecated" },
		{ IFA_F_TENTATIVE, "tentative" },
		{ IFA_F_PERMANENT, "permanent" },
		{ 0x100, "mngtmpaddr" },	/* IFA_F_MANAGETEMPADDR */
		{ 0x200, "noprefixroute" },	/* IFA_F_NOPREFIXROUTE */
		{ 0x400, "autojoin" },		/* IFA_F_MCAUTOJOIN */
		{ 0x800, "stable-privacy" },	/* IFA_F_STABLE_PRIVACY */
	};
	size_t n = 0;

	for (size_t i = 0; i < ADDR_FLAGS_MAX && n < max; i++) {
		if (!(a->flags & flags[i].bit))
			continue;
		names[n++] = flags[i].bit == IFA_F_SECONDARY && a->family == AF_INET6
				     ? "temporary"
				     : flags[i].name;
	}
	return n;
}

void addr_flags_text(const struct local_addr *a, char *buf, size_t len)
{
	const char *names[ADDR_FLAGS_MAX];
	size_t n = addr_flag_names(a, names, ADDR_FLAGS_MAX), o = 0;

	if (len == 0)
		return;
	snprintf(buf, len, "%s", n ? "" : "-");
	for (size_t i = 0; i < n; i++) {
		int w = snprintf(buf + o, len - o, "%s%s", i ? "," : "", names[i]);

		if (w < 0 || (size_t)w >= len - o) {
			buf[o] = '\0';	/* drop the name that did not fit */
			break;
		}
		o += (size_t)w;
	}
}

void addr_json_members(struct json_out *j, const struct local_addr *a)
{
	const char *names[ADDR_FLAGS_MAX];
	size_t n = addr_flag_names(a, names, ADDR_FLAGS_MAX);
	char scope[16];

	json_str(j, "family", a->family == AF_INET ? "inet" : "inet6");
	json_str(j, "addr", a->text);
	json_int(j, "prefixlen", a->prefixlen);
	json_str(j, "scope", addr_scope_name(a->scope, scope, sizeof(scope)));
	json_open_array(j, "flags");
	for (size_t i = 0; i < n; i++)
		json_str(j, NULL, names[i]);
	json_close(j);
	json_str(j, "link", (a->link_flags & IFF_UP) ? "up" : "down");
}

bool addr_link_usable(const struct local_addr *a)
{
	return (a->link_flags & IFF_UP) && (a->link_flags & IFF_LOWER_UP);
}
