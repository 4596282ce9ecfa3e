/*
 * probe_explain.c: see probe_explain.h.  The trial bind, then one explanation per
 * cause: what the kernel checked, what this namespace has, and the fixes.
 */
#include "probe_explain.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "probe_cmd.h"
#include "lib/errnames.h"
#include "probe_sock.h"

#define CAP_NET_BIND_SERVICE_BIT 10	/* <linux/capability.h> */
#define LISTED_FIXES_MAX 3		/* interfaces suggested for a missing scope */
#define LISTED_ADDRS_MAX 16		/* addresses named in an explanation */

static const char *const cause_names[] = {
	[CAUSE_OK] = "ok",
	[CAUSE_INTERFACE_DOWN] = "interface_down",
	[CAUSE_NOT_LOCAL] = "not_local",
	[CAUSE_TENTATIVE] = "tentative",
	[CAUSE_DADFAILED] = "dadfailed",
	[CAUSE_PORT_IN_USE] = "port_in_use",
	[CAUSE_PRIVILEGED_PORT] = "privileged_port",
	[CAUSE_LINKLOCAL_NO_SCOPE] = "linklocal_no_scope",
	[CAUSE_UNKNOWN_SCOPE] = "unknown_scope",
	[CAUSE_OTHER] = "other",
};

const char *diag_cause_name(enum diag_cause cause)
{
	if ((unsigned)cause < sizeof(cause_names) / sizeof(cause_names[0]))
		return cause_names[cause];
	return "other";
}

/* ---- small helpers ------------------------------------------------------------ */

/* Appends printf-style text to the NUL-terminated @buf of size @len, cut to fit. */
static void __attribute__((format(printf, 3, 4)))
appendf(char *buf, size_t len, const char *fmt, ...)
{
	size_t o = strlen(buf);
	va_list ap;

	if (o + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + o, len - o, fmt, ap);
	va_end(ap);
}

#define WHY(d, ...) appendf((d)->explanation, sizeof((d)->explanation), __VA_ARGS__)

/* Adds one fix (a sentence) to @d; fixes beyond DIAG_FIXES are dropped. */
static void __attribute__((format(printf, 2, 3))) fix(struct diagnosis *d, const char *fmt, ...)
{
	va_list ap;

	if (d->nfixes >= DIAG_FIXES)
		return;
	va_start(ap, fmt);
	vsnprintf(d->fixes[d->nfixes++], DIAG_FIX_MAX, fmt, ap);
	va_end(ap);
}

/* The first number in file @path (a sysctl), or -1 when it cannot be read. */
static long read_long(const char *path)
{
	FILE *f = fopen(path, "re");
	long v = -1;

	if (!f)
		return -1;
	if (fscanf(f, "%ld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

/* The IPv6 per-interface sysctl net.ipv6.@group.@ifname.@name, or -1. */
static long read_if6_long(const char *group, const char *ifname, const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/%s/%s/%s", group, ifname, name);
	return read_long(path);
}

/* True when this process has CAP_NET_BIND_SERVICE in its effective set
 * (/proc/self/status CapEff); false also when that cannot be read. */
static bool has_cap_net_bind_service(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	unsigned long long eff = 0;
	bool found = false;

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = sscanf(line, "CapEff: %llx", &eff) == 1;
	fclose(f);
	return found && (eff >> CAP_NET_BIND_SERVICE_BIT & 1);
}

/* The raw address of @p: 4 bytes (struct in_addr) or 16 (struct in6_addr). */
static const void *addr_bytes(const struct parsed_addr *p)
{
	if (p->family == AF_INET)
		return &((const struct sockaddr_in *)&p->ss)->sin_addr;
	return &((const struct sockaddr_in6 *)&p->ss)->sin6_addr;
}

/* The size of an address of @family (AF_INET or AF_INET6) in bytes. */
static size_t family_size(int family)
{
	return family == AF_INET ? 4 : 16;
}

/* The IPv6 scope id of @p (0: none, or IPv4). */
static uint32_t addr_scope_id(const struct parsed_addr *p)
{
	return p->family == AF_INET6 ? ((const struct sockaddr_in6 *)&p->ss)->sin6_scope_id : 0;
}

/* True when namespace address @l is the address @p names (the scope aside). */
static bool same_addr(const struct local_addr *l, const struct parsed_addr *p)
{
	return l->family == p->family && memcmp(&l->a, addr_bytes(p), family_size(p->family)) == 0;
}

/* True for 0.0.0.0 and ::. */
static bool is_wildcard(const struct parsed_addr *p)
{
	static const unsigned char zero[16];

	return memcmp(addr_bytes(p), zero, family_size(p->family)) == 0;
}

/* True when the first @plen bits of @x equal those of @net (@size bytes each). */
static bool in_prefix(const void *net, const void *x, unsigned plen, size_t size)
{
	const unsigned char *n = net, *b = x;
	unsigned full = plen / 8, rest = plen % 8;
	unsigned char mask;

	if (plen > size * 8 || memcmp(n, b, full) != 0)
		return false;
	if (rest == 0)
		return true;
	mask = (unsigned char)(0xff << (8 - rest));
	return (n[full] & mask) == (b[full] & mask);
}

/* The address of this namespace that @p names (for a scoped link-local, the one
 * on the scope's interface), or NULL; *@elsewhere gets the same address on
 * another interface when the scope names the wrong one. */
static const struct local_addr *find_addr(const struct diagnosis *d, const struct parsed_addr *p,
					  const struct local_addr **elsewhere)
{
	uint32_t scope = addr_scope_id(p);

	*elsewhere = NULL;
	for (size_t i = 0; i < d->naddrs; i++) {
		const struct local_addr *l = &d->addrs[i];

		if (!same_addr(l, p))
			continue;
		if (scope == 0 || !addr_is_linklocal(p) || (uint32_t)l->ifindex == scope)
			return l;
		*elsewhere = l;
	}
	return NULL;
}

/* The address of this namespace whose subnet holds @p (the longest such prefix,
 * the address itself excluded), or NULL. */
static const struct local_addr *find_subnet(const struct diagnosis *d, const struct parsed_addr *p)
{
	const struct local_addr *best = NULL;

	for (size_t i = 0; i < d->naddrs; i++) {
		const struct local_addr *l = &d->addrs[i];

		if (l->family != p->family || same_addr(l, p) ||
		    l->prefixlen >= family_size(p->family) * 8 ||
		    !in_prefix(&l->a, addr_bytes(p), l->prefixlen, family_size(p->family)))
			continue;
		if (!best || l->prefixlen > best->prefixlen)
			best = l;
	}
	return best;
}

/* The first interface with an address that is up and not loopback, or NULL. */
static const char *first_real_ifname(const struct diagnosis *d)
{
	for (size_t i = 0; i < d->naddrs; i++) {
		const struct local_addr *l = &d->addrs[i];

		if (l->ifname[0] && l->scope != RT_SCOPE_HOST && addr_link_usable(l))
			return l->ifname;
	}
	return NULL;
}

/* Appends " IPv4 addresses here: 10.0.0.2/24 (h2-eth0), ..." for @family to the why;
 * past LISTED_ADDRS_MAX it counts the rest (the JSON's local_addrs has them all). */
static void why_list_addrs(struct diagnosis *d, int family)
{
	size_t listed = 0, more = 0;

	WHY(d, " %s addresses here:", family == AF_INET ? "IPv4" : "IPv6");
	for (size_t i = 0; i < d->naddrs; i++) {
		const struct local_addr *l = &d->addrs[i];

		if (l->family != family)
			continue;
		if (listed == LISTED_ADDRS_MAX) {
			more++;
			continue;
		}
		WHY(d, "%s %s/%u (%s%s%s)", listed ? "," : "", l->text, l->prefixlen, l->ifname,
		    (l->flags & (IFA_F_TENTATIVE | IFA_F_DADFAILED)) ? ", " : "",
		    (l->flags & IFA_F_DADFAILED)   ? "dadfailed"
		    : (l->flags & IFA_F_TENTATIVE) ? "tentative"
						   : "");
		listed++;
	}
	if (more)
		WHY(d, " and %zu more (`netprobe addrs` lists them all)", more);
	WHY(d, "%s.", listed ? "" : " none");
}

/* ---- the explanations, one per cause ------------------------------------------ */

/* The bind worked: says why, and flags an address whose link cannot carry traffic
 * (cause interface_down). */
static void explain_ok(const struct diag_request *rq, const struct parsed_addr *a,
		       struct diagnosis *d)
{
	const struct local_addr *l, *elsewhere;

	d->cause = CAUSE_OK;
	if (is_wildcard(a)) {
		WHY(d, "%s is the wildcard: the socket takes the port on every address of this "
		       "namespace.", a->text);
		return;
	}
	l = find_addr(d, a, &elsewhere);
	if (l && !addr_link_usable(l)) {
		d->cause = CAUSE_INTERFACE_DOWN;
		WHY(d, "%s is on %s, which is %s. Linux still lets a socket bind an address of an "
		       "interface that is down or has no carrier, so the bind succeeds, but nothing "
		       "can be sent from or received on that address until the link works: "
		       "connects from it fail (ENETUNREACH or a timeout) and no client reaches a "
		       "server on it.",
		    a->text, l->ifname,
		    !(l->link_flags & IFF_UP) ? "down" : "up but has no carrier (lower layer down)");
		if (!(l->link_flags & IFF_UP))
			fix(d, "bring the interface up: ip link set dev %s up", l->ifname);
		else
			fix(d, "give %s a carrier: bring the other end of the link (the veth peer, "
			       "the switch port) up", l->ifname);
		return;
	}
	if (l) {
		WHY(d, "%s is on %s (%s/%u), and the link is up.", a->text, l->ifname, l->text,
		    l->prefixlen);
		return;
	}
	for (size_t i = 0; i < d->naddrs; i++) {
		const struct local_addr *x = &d->addrs[i];

		if (a->family == AF_INET && x->family == AF_INET && x->scope == RT_SCOPE_HOST &&
		    in_prefix(&x->a, addr_bytes(a), x->prefixlen, 4)) {
			WHY(d, "%s is not itself an interface address, but it lies in %s/%u on %s, "
			       "and Linux treats that whole prefix as local.",
			    a->text, x->text, x->prefixlen, x->ifname);
			return;
		}
	}
	if (rq->freebind)
		WHY(d, "%s is not an address of this namespace; IP_FREEBIND on the socket let the "
		       "bind through. Packets to it still arrive here only once the address "
		       "(or a route to it) exists.", a->text);
	else if (d->nonlocal_bind == 1)
		WHY(d, "%s is not an address of this namespace; net.ipv%c.ip_nonlocal_bind=1 let "
		       "the bind through. Packets to it still arrive here only once the address "
		       "(or a route to it) exists.", a->text, a->family == AF_INET ? '4' : '6');
	else
		WHY(d, "%s is no interface address here, but the kernel's local routing table "
		       "counts it as local (a broadcast address or an `ip route add local` route).",
		    a->text);
}

/* EADDRNOTAVAIL for an address no interface here holds; @elsewhere is the same
 * address on another interface than the scope names, or NULL. */
static void explain_not_local(const struct parsed_addr *a, struct diagnosis *d,
			      const struct local_addr *elsewhere)
{
	const struct local_addr *net = find_subnet(d, a);
	const char *v = a->family == AF_INET ? "4" : "6";
	const char *dev = net ? net->ifname : first_real_ifname(d);
	unsigned plen = net ? net->prefixlen : (unsigned)family_size(a->family) * 8;
	char host[ADDR_TEXT_MAX];
	const char *scope = strchr(a->text, '%');

	snprintf(host, sizeof(host), "%s", a->text);
	host[strcspn(host, "%")] = '\0';
	d->cause = CAUSE_NOT_LOCAL;
	if (elsewhere)
		WHY(d, "%s is on %s, not on %s, the interface its scope names, so the kernel "
		       "cannot give it to a socket there.", host, elsewhere->ifname,
		    scope ? scope + 1 : "?");
	else
		WHY(d, "%s is not an address of any interface in this network namespace (host %s), "
		       "so the kernel cannot give it to a socket.", host, probe_host());
	if (!elsewhere && net)
		WHY(d, " It lies in the subnet of %s (%s/%u): most likely another host's address "
		       "on that link, or an address that was removed from here.",
		    net->ifname, net->text, net->prefixlen);
	if (a->family == AF_INET6 && read_long("/proc/sys/net/ipv6/conf/all/disable_ipv6") == 1)
		WHY(d, " IPv6 is disabled in this namespace (net.ipv6.conf.all.disable_ipv6=1).");
	why_list_addrs(d, a->family);
	WHY(d, " net.ipv%s.ip_nonlocal_bind is %ld here; with 1 (or IP_FREEBIND on the socket) "
	       "the bind would succeed, though packets to %s would still not arrive here.",
	    v, d->nonlocal_bind, host);

	if (elsewhere)
		fix(d, "name the interface that holds it: %s%%%s", host, elsewhere->ifname);
	fix(d, "bind the wildcard (%s) to take every address here, or one of the addresses "
	       "listed above", a->family == AF_INET ? "0.0.0.0" : "::");
	if (elsewhere && scope)		/* on the interface the scope names */
		dev = scope + 1;
	fix(d, "give this namespace the address: ip addr add %s/%u dev %s", host, plen,
	    dev ? dev : "IFNAME");
	fix(d, "allow binds to non-local addresses: sysctl -w net.ipv%s.ip_nonlocal_bind=1 "
	       "(now %ld)", v, d->nonlocal_bind);
	fix(d, "or set %s on this one socket (netprobe bind --freebind)",
	    a->family == AF_INET ? "IP_FREEBIND" : "IPV6_FREEBIND");
	if (a->family == AF_INET6 && read_long("/proc/sys/net/ipv6/conf/all/disable_ipv6") == 1)
		fix(d, "enable IPv6: sysctl -w net.ipv6.conf.all.disable_ipv6=0");
}

/* EADDRNOTAVAIL for @l, an IPv6 address still in Duplicate Address Detection. */
static void explain_tentative(struct diagnosis *d, const struct local_addr *l)
{
	long tx = read_if6_long("conf", l->ifname, "dad_transmits");
	long ms = read_if6_long("neigh", l->ifname, "retrans_time_ms");

	d->cause = CAUSE_TENTATIVE;
	WHY(d, "%s on %s is tentative: IPv6 Duplicate Address Detection is still checking that no "
	       "other host on the link uses it, and until DAD ends the kernel refuses to bind it "
	       "(EADDRNOTAVAIL).", l->text, l->ifname);
	if (tx >= 0 && ms >= 0)
		WHY(d, " DAD sends %ld neighbour solicitation(s) %ld ms apart "
		       "(net.ipv6.conf.%s.dad_transmits), so it takes about %.1f s once the link "
		       "is up.", tx, ms, l->ifname, (double)(tx * ms) / 1000.0);
	if (!addr_link_usable(l))
		WHY(d, " %s has no working link (%s), so DAD has not even started: it starts when "
		       "the link comes up.", l->ifname,
		    !(l->link_flags & IFF_UP) ? "administratively down" : "no carrier");

	fix(d, "wait until DAD ends (`netprobe addrs` stops showing tentative) and bind again");
	if (!addr_link_usable(l))
		fix(d, "bring the link up (ip link set dev %s up, and its peer) so that DAD can run",
		    l->ifname);
	fix(d, "add the address without DAD: ip addr del %s/%u dev %s && ip addr add %s/%u dev "
	       "%s nodad", l->text, l->prefixlen, l->ifname, l->text, l->prefixlen, l->ifname);
	fix(d, "turn DAD off on the interface before adding addresses: sysctl -w "
	       "net.ipv6.conf.%s.accept_dad=0", l->ifname);
	fix(d, "or bind anyway with IPV6_FREEBIND (netprobe bind --freebind) or "
	       "net.ipv6.ip_nonlocal_bind=1 (now %ld); the address still cannot send until DAD ends",
	    d->nonlocal_bind);
}

/* EADDRNOTAVAIL for @l, an IPv6 address another host on the link already had. */
static void explain_dadfailed(struct diagnosis *d, const struct local_addr *l)
{
	d->cause = CAUSE_DADFAILED;
	WHY(d, "%s on %s failed Duplicate Address Detection (dadfailed): another host on the link "
	       "already uses this address, so the kernel will never use it here and refuses to "
	       "bind it (EADDRNOTAVAIL).", l->text, l->ifname);
	fix(d, "remove it and give this host an address nobody else on the link has: ip addr del "
	       "%s/%u dev %s", l->text, l->prefixlen, l->ifname);
	fix(d, "find the other holder: run `netprobe addrs` on the hosts of that link, or look at "
	       "`ip -6 neigh show dev %s`", l->ifname);
	fix(d, "if the duplicate is intended, add the address with nodad (ip addr add %s/%u dev %s "
	       "nodad) or set net.ipv6.conf.%s.accept_dad=0 first",
	    l->text, l->prefixlen, l->ifname, l->ifname);
}

/* EADDRINUSE: finds the sockets that hold the port and the processes that own
 * them; for port 0, the exhausted ephemeral range. */
static void explain_in_use(const struct diag_request *rq, const struct parsed_addr *a,
			   struct diagnosis *d)
{
	const char *proto = rq->udp ? "udp" : "tcp";
	bool time_wait = false;

	d->cause = CAUSE_PORT_IN_USE;
	if (rq->port == 0) {
		FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "re");
		long lo = -1, hi = -1;

		if (f) {
			if (fscanf(f, "%ld %ld", &lo, &hi) != 2)
				lo = hi = -1;
			fclose(f);
		}
		WHY(d, "port 0 asks the kernel for any free port, and none is free on %s in "
		       "net.ipv4.ip_local_port_range (%ld-%ld).", a->text, lo, hi);
		fix(d, "widen the range: sysctl -w net.ipv4.ip_local_port_range=\"1024 65535\"");
		fix(d, "close sockets that hold ports (see `ss -tanp`), or bind an explicit port");
		return;
	}
	d->nholders = holders_find(a, rq->port, rq->udp, d->holders, DIAG_HOLDERS);

	WHY(d, "port %u/%s is already taken on %s or on the wildcard: a plain bind() cannot share "
	       "a port that another socket holds.", rq->port, proto, a->text);
	if (d->nholders == 0)
		WHY(d, " No socket on that port shows in /proc/net/%s{,6} any more: it may have "
		       "closed since, or belong to a socket this process cannot see.", proto);
	for (size_t i = 0; i < d->nholders; i++) {
		const struct port_holder *h = &d->holders[i];

		if (strcmp(h->state, "TIME_WAIT") == 0)
			time_wait = true;
		WHY(d, " Held by %s %s %s", h->proto, h->local, h->state);
		if (h->pid)
			WHY(d, " (pid %d, %s).", (int)h->pid, h->comm[0] ? h->comm : "?");
		else if (h->inode == 0)
			WHY(d, " (a closed connection waiting out TIME_WAIT, no process).");
		else
			WHY(d, " (socket inode %lu of uid %u; no process found: run as root to "
			       "see other users' processes).", h->inode, h->uid);
	}

	for (size_t i = 0; i < d->nholders; i++) {
		bool seen = false;

		if (!d->holders[i].pid)
			continue;
		for (size_t k = 0; k < i; k++)
			seen = seen || d->holders[k].pid == d->holders[i].pid;
		if (!seen)
			fix(d, "stop the holder: kill %d (%s)", (int)d->holders[i].pid,
			    d->holders[i].comm[0] ? d->holders[i].comm : "?");
	}
	fix(d, "bind another port that is free (port 0 lets the kernel choose one)");
	if (rq->udp) {
		fix(d, "to share a UDP port, every socket on it needs SO_REUSEADDR or SO_REUSEPORT "
		       "(netprobe bind --udp --reuseaddr / --reuseport)");
	} else {
		if (time_wait)
			fix(d, "TIME_WAIT ends within 60 s; SO_REUSEADDR (netprobe bind --reuseaddr) "
			       "lets a new listener bind over it at once");
		fix(d, "to share a listening port, every socket on it needs SO_REUSEPORT under the "
		       "same user (netprobe bind --reuseport)");
	}
}

/* EACCES for @port below ip_unprivileged_port_start @start, without the capability. */
static void explain_privileged(unsigned port, struct diagnosis *d, long start)
{
	d->cause = CAUSE_PRIVILEGED_PORT;
	WHY(d, "port %u is privileged here: it is below net.ipv4.ip_unprivileged_port_start=%ld, "
	       "and this process (uid %d) has no CAP_NET_BIND_SERVICE in its effective "
	       "capabilities.", port, start, (int)getuid());
	fix(d, "use a port at or above %ld", start);
	fix(d, "give the program the capability: setcap cap_net_bind_service=+ep "
	       "/path/to/program (or run it with CAP_NET_BIND_SERVICE)");
	fix(d, "lower the limit in this namespace: sysctl -w "
	       "net.ipv4.ip_unprivileged_port_start=%u", port);
}

/* EINVAL for a link-local address without a scope: suggests the interfaces. */
static void explain_no_scope(const struct parsed_addr *a, struct diagnosis *d)
{
	size_t listed = 0;
	bool exact = false;

	d->cause = CAUSE_LINKLOCAL_NO_SCOPE;
	WHY(d, "%s is a link-local address (fe80::/10): the same address can exist on every link, "
	       "so bind() must be told which interface it means (a scope id); without one Linux "
	       "answers EINVAL.", a->text);
	for (size_t i = 0; i < d->naddrs; i++)
		exact = exact || same_addr(&d->addrs[i], a);
	for (size_t i = 0; i < d->naddrs && listed < LISTED_FIXES_MAX; i++) {
		const struct local_addr *l = &d->addrs[i];

		if (exact ? !same_addr(l, a) : l->family != AF_INET6 || l->scope != RT_SCOPE_LINK)
			continue;
		if (listed == 0)
			WHY(d, " %s here:", exact ? "It is on" : "Interfaces with link-local addresses");
		WHY(d, "%s %s", listed ? "," : "", l->ifname);
		fix(d, "name the interface: %s%%%s", a->text, l->ifname);
		listed++;
	}
	if (listed)
		WHY(d, ".");
	if (!listed)
		fix(d, "name the interface: %s%%IFNAME", a->text);
	fix(d, "or bind the socket to the interface first: SO_BINDTODEVICE (netprobe bind --dev "
	       "IFNAME)");
}

/* ENODEV: the %scope of @a names no interface here. */
static void explain_unknown_scope(const struct parsed_addr *a, struct diagnosis *d)
{
	char host[ADDR_TEXT_MAX];

	snprintf(host, sizeof(host), "%s", a->text);
	host[strcspn(host, "%")] = '\0';
	d->cause = CAUSE_UNKNOWN_SCOPE;
	WHY(d, "the scope '%s' in %s names no interface of this namespace (ENODEV).", a->scope,
	    a->text);
	WHY(d, " Interfaces with addresses here:");
	for (size_t i = 0; i < d->naddrs; i++) {
		bool seen = false;

		for (size_t k = 0; k < i; k++)
			seen = seen || d->addrs[k].ifindex == d->addrs[i].ifindex;
		if (!seen)
			WHY(d, "%s %s", i ? "," : "", d->addrs[i].ifname);
	}
	WHY(d, ".");
	fix(d, "use an interface of this namespace: %s%%IFNAME (see `netprobe addrs`)", host);
}

/* Any other failure: says the call and the errno, and what it knows about it. */
static void explain_other(const struct parsed_addr *a, struct diagnosis *d)
{
	d->cause = CAUSE_OTHER;
	if (d->err == EAFNOSUPPORT && a->family == AF_INET6) {
		WHY(d, "this kernel or namespace has no IPv6: socket(AF_INET6) fails.");
		fix(d, "use IPv4, or boot the kernel with IPv6 enabled (ipv6.disable=0)");
		return;
	}
	WHY(d, "%s() failed with %s (%s); netprobe knows no more specific cause for it.",
	    d->call ? d->call : "bind", errno_name(d->err) ? errno_name(d->err) : "?",
	    strerror(d->err));
}

/* ---- the diagnosis ------------------------------------------------------------ */

/*
 * Tries the bind @rq describes with netprobe's own bind probe (probe_sock.h: the
 * same socket, options and call names as `netprobe bind --no-listen`) and closes
 * the socket.  Sets d->err (0 when it worked) and d->call (the call that failed,
 * NULL when it worked).
 */
static void trial_bind(const struct diag_request *rq, struct diagnosis *d)
{
	struct probe_case c = {
		.op = OP_BIND,
		.proto = rq->udp ? PROTO_UDP : PROTO_TCP,
		.addr = rq->addr,
		.port = rq->port,
		.opts = probe_opts_default(),
	};
	struct probe_result r;
	int fd;

	c.opts.listen = false;
	c.opts.freebind = rq->freebind;
	addr_set_port(&c.addr, rq->port);
	fd = probe_bind(&c, &r);
	if (fd >= 0)
		close(fd);
	d->err = r.err;
	d->call = r.err ? r.call : NULL;
}

/* Sorts out EADDRNOTAVAIL: a tentative or dadfailed IPv6 address, else not local. */
static void explain_addrnotavail(const struct parsed_addr *a, struct diagnosis *d)
{
	const struct local_addr *elsewhere, *l = find_addr(d, a, &elsewhere);

	if (l && (l->flags & IFA_F_DADFAILED))
		explain_dadfailed(d, l);
	else if (l && (l->flags & IFA_F_TENTATIVE) && !(l->flags & IFA_F_OPTIMISTIC))
		explain_tentative(d, l);
	else
		explain_not_local(a, d, elsewhere);
}

/* The address the kernel checks for a bind to @a: for ::ffff:a.b.c.d on an IPv6
 * socket that is the IPv4 address a.b.c.d (and the IPv4 sysctls); else @a itself. */
static struct parsed_addr checked_addr(const struct parsed_addr *a)
{
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&a->ss;
	struct parsed_addr v4;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&v4.ss;

	if (a->family != AF_INET6 || !IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
		return *a;
	memset(&v4, 0, sizeof(v4));
	s4->sin_family = AF_INET;
	s4->sin_port = s6->sin6_port;
	memcpy(&s4->sin_addr, s6->sin6_addr.s6_addr + 12, 4);
	v4.len = sizeof(*s4);
	v4.family = AF_INET;
	inet_ntop(AF_INET, &s4->sin_addr, v4.text, sizeof(v4.text));
	return v4;
}

int diagnose_bind(const struct diag_request *rq, struct diagnosis *d)
{
	struct parsed_addr bound = rq->addr, a;
	long start;

	memset(d, 0, sizeof(*d));
	if (addrs_dump(&d->addrs, &d->naddrs) < 0)
		return -1;
	trial_bind(rq, d);
	addr_set_port(&bound, rq->port);
	(void)addr_resolve_scope(&bound);	/* a failure is d->call "if_nametoindex" */
	a = checked_addr(&bound);	/* what the explanations talk about */
	d->nonlocal_bind = read_long(a.family == AF_INET ? "/proc/sys/net/ipv4/ip_nonlocal_bind"
							 : "/proc/sys/net/ipv6/ip_nonlocal_bind");

	switch (d->err) {
	case 0:
		explain_ok(rq, &a, d);
		break;
	case EADDRNOTAVAIL:
		explain_addrnotavail(&a, d);
		break;
	case EADDRINUSE:
		explain_in_use(rq, &a, d);
		break;
	case EACCES:
		start = read_long("/proc/sys/net/ipv4/ip_unprivileged_port_start");
		if (rq->port > 0 && start >= 0 && (long)rq->port < start &&
		    !has_cap_net_bind_service()) {
			explain_privileged(rq->port, d, start);
		} else {
			explain_other(&a, d);
		}
		break;
	case EINVAL:
		if (addr_is_linklocal(&a) && addr_scope_id(&a) == 0)
			explain_no_scope(&a, d);
		else
			explain_other(&a, d);
		break;
	case ENODEV:
		if (d->call && strcmp(d->call, "if_nametoindex") == 0)
			explain_unknown_scope(&a, d);
		else
			explain_other(&a, d);
		break;
	default:
		explain_other(&a, d);
	}
	return 0;
}

void diagnosis_free(struct diagnosis *d)
{
	free(d->addrs);
	d->addrs = NULL;
	d->naddrs = 0;
}
