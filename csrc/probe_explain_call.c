/*
 * probe_explain_call.c: see probe_explain_call.h.  The trial call, then one
 * explanation per call and errno; what the calls share (a bind first, an interface
 * name, a device) is explained once, at the end.
 */
#include "probe_explain_call.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/errnames.h"
#include "probe_explain_addr.h"
#include "probe_plan.h"
#include "probe_udp.h"

/* True when the call that failed is @name. */
static bool failed_in(const struct diagnosis *d, const char *name)
{
	return d->call && strcmp(d->call, name) == 0;
}

/* The IPv4 or IPv6 multicast test of @a. */
static bool is_multicast(const struct parsed_addr *a)
{
	if (a->family == AF_INET)
		return IN_MULTICAST(ntohl(((const struct sockaddr_in *)&a->ss)->sin_addr.s_addr));
	return IN6_IS_ADDR_MULTICAST(&((const struct sockaddr_in6 *)&a->ss)->sin6_addr);
}

void call_describe(const struct diag_request *rq, char *buf, size_t len)
{
	const struct probe_case *c = &rq->call;
	const char *iface = c->opts.iface.text;
	int n;

	if (c->op == OP_SEND)
		n = snprintf(buf, len, "send to %s%s%s:%u", c->addr.family == AF_INET6 ? "[" : "",
			     c->addr.text, c->addr.family == AF_INET6 ? "]" : "", c->port);
	else
		n = snprintf(buf, len, "%s %s", plan_op_name(c->op), c->addr.text);
	if (n < 0 || (size_t)n >= len)
		return;
	if (c->opts.has_src)
		n += snprintf(buf + n, len - (size_t)n, " from %s", c->opts.src.text);
	if ((size_t)n < len && c->opts.has_pktinfo)
		n += snprintf(buf + n, len - (size_t)n, " (pktinfo=%s)", c->opts.pktinfo.text);
	if ((size_t)n < len && iface[0])
		snprintf(buf + n, len - (size_t)n, " (if=%s)", iface);
}

/* The fixes that give this host the address @a, or let the call go without it. */
static void fix_address(const struct parsed_addr *a, const char *what, struct diagnosis *d)
{
	FIX(d, "%s an address this host has (listed above)", what);
	FIX(d, "give this host the address: ip addr add %s/%d dev IFNAME", a->text,
	    a->family == AF_INET ? 32 : 128);
}

/* A join's or mcast-if's if= names no interface here: by address (cause not_local)
 * or by index (unknown_interface).  @errname is the errno the call gave. */
static void explain_no_such_iface(const struct probe_case *c, const char *call,
				  struct diagnosis *d)
{
	const struct probe_iface *i = &c->opts.iface;
	char num[16];
	const char *errname = errno_name_or_number(d->err, num, sizeof(num));

	if (i->kind == IFACE_ADDR) {
		d->cause = CAUSE_NOT_LOCAL;
		WHY(d, "%s on %s means: no interface here has the address %s, and %s finds the "
		       "interface by its address.", errname, call, i->text, call);
		if (c->op == OP_JOIN)
			WHY(d, " (BSD and macOS say EADDRNOTAVAIL for the same mistake.)");
		diag_list_addrs(d, AF_INET);
		fix_address(&i->addr, c->op == OP_JOIN ? "join on" : "send multicast from", d);
		FIX(d, "name the interface instead (if=IFNAME or its index): then the address is "
		       "not looked at");
		return;
	}
	d->cause = CAUSE_UNKNOWN_INTERFACE;
	WHY(d, "%s on %s means: no interface here has the index %s (`ip link` lists them).",
	    errname, call, i->text);
	FIX(d, "name an interface this host has (if=IFNAME)");
}

/* A join that failed (not in a call every operation shares). */
static void explain_join(const struct probe_case *c, struct diagnosis *d)
{
	const char *call = c->addr.family == AF_INET ? "IP_ADD_MEMBERSHIP" : "IPV6_JOIN_GROUP";

	if (d->err == EINVAL && !is_multicast(&c->addr)) {
		d->cause = CAUSE_NOT_MULTICAST;
		WHY(d, "EINVAL on %s means here: %s is not a multicast group (IPv4 224.0.0.0/4, "
		       "IPv6 ff00::/8).", call, c->addr.text);
		FIX(d, "join a multicast group; a unicast address is received by binding it");
	} else if (d->err == EADDRINUSE) {
		d->cause = CAUSE_ALREADY_JOINED;
		WHY(d, "EADDRINUSE on %s means: this socket is already a member of %s on that "
		       "interface.", call, c->addr.text);
		FIX(d, "join once per socket and interface, or leave first (IP_DROP_MEMBERSHIP)");
	} else if (d->err == ENODEV && c->opts.iface.kind == IFACE_NONE) {
		d->cause = CAUSE_NO_ROUTE;
		WHY(d, "ENODEV on %s without an interface means: the kernel picks the interface "
		       "by the route to %s, and no route here covers it (no default route, no "
		       "multicast route).", call, c->addr.text);
		FIX(d, "name the interface (if=IFNAME, or IPv4: if=ADDR of the interface)");
		FIX(d, "or add a route for multicast: ip route add %s dev IFNAME",
		    c->addr.family == AF_INET ? "224.0.0.0/4" : "ff00::/8 table local");
	} else if (d->err == ENODEV) {
		explain_no_such_iface(c, call, d);
	}
}

/* A mcast-if that failed: IPv4 EADDRNOTAVAIL (address or index), IPv6 ENODEV. */
static void explain_mcast_if(const struct probe_case *c, struct diagnosis *d)
{
	const char *call = c->addr.family == AF_INET ? "IP_MULTICAST_IF" : "IPV6_MULTICAST_IF";

	if (d->err == EADDRNOTAVAIL || d->err == ENODEV)
		explain_no_such_iface(c, call, d);
	if (d->cause == CAUSE_UNKNOWN_INTERFACE && c->addr.family == AF_INET)
		WHY(d, " (IPv4 says EADDRNOTAVAIL for a missing index, IPv6 ENODEV.)");
}

/* The source a send names: pktinfo=, else the bound src=, else NULL. */
static const struct parsed_addr *send_source(const struct probe_case *c)
{
	return c->opts.has_pktinfo ? &c->opts.pktinfo : c->opts.has_src ? &c->opts.src : NULL;
}

/* A send that failed: a source that is not (or no longer) here, or no route. */
static void explain_send(const struct probe_case *c, struct diagnosis *d)
{
	const struct parsed_addr *src = send_source(c);
	bool gone = src && !diag_find_addr(d, src);

	if ((d->err == ENETUNREACH || d->err == EINVAL) && gone) {
		d->cause = CAUSE_NOT_LOCAL;
		WHY(d, "%s on %s means: the source %s is not an address of this host (any more). ",
		    d->err == ENETUNREACH ? "ENETUNREACH" : "EINVAL", d->call, src->text);
		if (d->err == ENETUNREACH && c->opts.has_pktinfo)
			WHY(d, "The kernel finds no route from it.");
		else if (d->err == ENETUNREACH)
			WHY(d, "The kernel finds no route from it: a socket keeps the address it "
			       "was bound to after the address is removed, and every IPv4 send from "
			       "it then fails so (IPv6 sends it anyway).");
		else
			WHY(d, "IPV6_PKTINFO checks its source (IPv4's IP_PKTINFO says ENETUNREACH).");
		diag_list_addrs(d, src->family);
		fix_address(src, "send from", d);
		FIX(d, "or leave the source to the kernel: send from the wildcard");
	} else if (d->err == ENETUNREACH) {
		d->cause = CAUSE_NO_ROUTE;
		WHY(d, "ENETUNREACH on %s means: no route here reaches %s (`ip route get %s`).",
		    d->call, c->addr.text, c->addr.text);
		FIX(d, "add a route or a default route: ip route add default via GATEWAY");
	} else if (d->err == ENODEV) {
		explain_no_such_iface(c, d->call, d);
	}
}

/* The outcome of the calls every operation shares: the socket's device, a named
 * interface, the bind first.  Returns true when it explained d->err. */
static bool explain_shared(const struct probe_case *c, struct diagnosis *d)
{
	if (failed_in(d, "if_nametoindex")) {
		d->cause = CAUSE_UNKNOWN_INTERFACE;
		WHY(d, "no interface here is named %s (`ip link` lists them).",
		    c->opts.iface.kind == IFACE_NAME ? c->opts.iface.name : c->addr.scope);
		FIX(d, "name an interface this host has");
	} else if (failed_in(d, "setsockopt(SO_BINDTODEVICE)") && d->err == ENODEV) {
		d->cause = CAUSE_UNKNOWN_INTERFACE;
		WHY(d, "SO_BINDTODEVICE: no interface here is named %s.", c->opts.dev);
		FIX(d, "bind the socket to a device this host has (dev=IFNAME), or to none");
	} else if (failed_in(d, "bind") && d->err == EADDRNOTAVAIL && c->opts.has_src) {
		WHY(d, "The bind before the %s failed: ", plan_op_name(c->op));
		explain_addrnotavail(&c->opts.src, d);
	} else {
		return false;
	}
	return true;
}

/* The call worked: what it did, and a send from a source that is not here. */
static void explain_call_ok(const struct probe_case *c, struct diagnosis *d)
{
	const struct parsed_addr *src = c->op == OP_SEND ? send_source(c) : NULL;

	d->cause = CAUSE_OK;
	if (src && !diag_find_addr(d, src)) {
		WHY(d, "the datagram went out from %s, which is not an address of this host: %s",
		    src->text, src->family == AF_INET6
		    ? "IPv6 sends from a socket bound to a removed address without an error "
		      "(IPv4 says ENETUNREACH). Replies to it will not arrive here."
		    : "IP_FREEBIND or IP_TRANSPARENT let it through.");
		return;
	}
	WHY(d, "the %s worked here.", plan_op_name(c->op));
}

int diagnose_call(const struct diag_request *rq, struct diagnosis *d)
{
	const struct probe_case *c = &rq->call;
	struct probe_result r;
	int fd;

	memset(d, 0, sizeof(*d));
	if (addrs_dump(&d->addrs, &d->naddrs) < 0)
		return -1;
	fd = probe_run_at_once(c, &r);
	if (fd >= 0)
		close(fd);
	d->err = r.err;
	d->call = r.err ? r.call : NULL;
	d->nonlocal_bind = diag_sysctl(c->addr.family == AF_INET
				       ? "/proc/sys/net/ipv4/ip_nonlocal_bind"
				       : "/proc/sys/net/ipv6/ip_nonlocal_bind");
	if (d->err == 0)
		explain_call_ok(c, d);
	else if (explain_shared(c, d))
		;	/* explained */
	else if (c->op == OP_JOIN)
		explain_join(c, d);
	else if (c->op == OP_MCAST_IF)
		explain_mcast_if(c, d);
	else
		explain_send(c, d);
	if (!d->explanation[0]) {
		d->cause = CAUSE_OTHER;
		WHY(d, "%s failed with %s (%s); netprobe knows no more specific cause for it.",
		    d->call, errno_name(d->err) ? errno_name(d->err) : "?", strerror(d->err));
	}
	return 0;
}
