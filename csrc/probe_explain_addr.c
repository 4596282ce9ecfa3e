/*
 * probe_explain_addr.c: see probe_explain_addr.h.  Where an address is in this
 * namespace (d->addrs, from rtnetlink), then one explanation per cause.
 */
#include "probe_explain_addr.h"

#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <string.h>

#include "probe_cmd.h"

#define LISTED_FIXES_MAX 3		/* interfaces suggested for a missing scope */
#define LISTED_ADDRS_MAX 16		/* addresses named in an explanation */

/* ---- where an address is ------------------------------------------------------ */

/* The IPv6 per-interface sysctl net.ipv6.@group.@ifname.@name, or -1. */
static long read_if6_long(const char *group, const char *ifname, const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/%s/%s/%s", group, ifname, name);
	return diag_sysctl(path);
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

const struct local_addr *diag_find_addr(const struct diagnosis *d, const struct parsed_addr *p)
{
	const struct local_addr *elsewhere;

	return find_addr(d, p, &elsewhere);
}

void diag_list_addrs(struct diagnosis *d, int family)
{
	why_list_addrs(d, family);
}

/* ---- the explanations, one per cause ------------------------------------------ */

/* The bind worked: says why, and flags an address whose link cannot carry traffic
 * (cause interface_down). */
void explain_ok(const struct diag_request *rq, const struct parsed_addr *a,
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
			FIX(d, "bring the interface up: ip link set dev %s up", l->ifname);
		else
			FIX(d, "give %s a carrier: bring the other end of the link (the veth peer, "
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
	if (a->family == AF_INET6 && diag_sysctl("/proc/sys/net/ipv6/conf/all/disable_ipv6") == 1)
		WHY(d, " IPv6 is disabled in this namespace (net.ipv6.conf.all.disable_ipv6=1).");
	why_list_addrs(d, a->family);
	WHY(d, " net.ipv%s.ip_nonlocal_bind is %ld here; with 1 (or IP_FREEBIND on the socket) "
	       "the bind would succeed, though packets to %s would still not arrive here.",
	    v, d->nonlocal_bind, host);

	if (elsewhere)
		FIX(d, "name the interface that holds it: %s%%%s", host, elsewhere->ifname);
	FIX(d, "bind the wildcard (%s) to take every address here, or one of the addresses "
	       "listed above", a->family == AF_INET ? "0.0.0.0" : "::");
	if (elsewhere && scope)		/* on the interface the scope names */
		dev = scope + 1;
	FIX(d, "give this namespace the address: ip addr add %s/%u dev %s", host, plen,
	    dev ? dev : "IFNAME");
	FIX(d, "allow binds to non-local addresses: sysctl -w net.ipv%s.ip_nonlocal_bind=1 "
	       "(now %ld)", v, d->nonlocal_bind);
	FIX(d, "or set %s on this one socket (netprobe bind --freebind)",
	    a->family == AF_INET ? "IP_FREEBIND" : "IPV6_FREEBIND");
	if (a->family == AF_INET6 && diag_sysctl("/proc/sys/net/ipv6/conf/all/disable_ipv6") == 1)
		FIX(d, "enable IPv6: sysctl -w net.ipv6.conf.all.disable_ipv6=0");
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

	FIX(d, "wait until DAD ends (`netprobe addrs` stops showing tentative) and bind again");
	if (!addr_link_usable(l))
		FIX(d, "bring the link up (ip link set dev %s up, and its peer) so that DAD can run",
		    l->ifname);
	FIX(d, "add the address without DAD: ip addr del %s/%u dev %s && ip addr add %s/%u dev "
	       "%s nodad", l->text, l->prefixlen, l->ifname, l->text, l->prefixlen, l->ifname);
	FIX(d, "turn DAD off on the interface before adding addresses: sysctl -w "
	       "net.ipv6.conf.%s.accept_dad=0", l->ifname);
	FIX(d, "or bind anyway with IPV6_FREEBIND (netprobe bind --freebind) or "
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
	FIX(d, "remove it and give this host an address nobody else on the link has: ip addr del "
	       "%s/%u dev %s", l->text, l->prefixlen, l->ifname);
	FIX(d, "find the other holder: run `netprobe addrs` on the hosts of that link, or look at "
	       "`ip -6 neigh show dev %s`", l->ifname);
	FIX(d, "if the duplicate is intended, add the address with nodad (ip addr add %s/%u dev %s "
	       "nodad) or set net.ipv6.conf.%s.accept_dad=0 first",
	    l->text, l->prefixlen, l->ifname, l->ifname);
}

/* Sorts out EADDRNOTAVAIL: a tentative or dadfailed IPv6 address, else not local. */
void explain_addrnotavail(const struct parsed_addr *a, struct diagnosis *d)
{
	const struct local_addr *elsewhere, *l = find_addr(d, a, &elsewhere);

	if (l && (l->flags & IFA_F_DADFAILED))
		explain_dadfailed(d, l);
	else if (l && (l->flags & IFA_F_TENTATIVE) && !(l->flags & IFA_F_OPTIMISTIC))
		explain_tentative(d, l);
	else
		explain_not_local(a, d, elsewhere);
}

/* EINVAL for a link-local address without a scope: suggests the interfaces. */
void explain_no_scope(const struct parsed_addr *a, struct diagnosis *d)
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
		FIX(d, "name the interface: %s%%%s", a->text, l->ifname);
		listed++;
	}
	if (listed)
		WHY(d, ".");
	if (!listed)
		FIX(d, "name the interface: %s%%IFNAME", a->text);
	FIX(d, "or bind the socket to the interface first: SO_BINDTODEVICE (netprobe bind --dev "
	       "IFNAME)");
}

/* ENODEV: the %scope of @a names no interface here. */
void explain_unknown_scope(const struct parsed_addr *a, struct diagnosis *d)
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
	FIX(d, "use an interface of this namespace: %s%%IFNAME (see `netprobe addrs`)", host);
}
