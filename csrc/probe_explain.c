/*
 * probe_explain.c: see probe_explain.h.  The trial bind, then the explanation of
 * its cause: where the address is (probe_explain_addr.h), who holds the port, what
 * the port needs, or the bare errno.
 */
#include "probe_explain.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/errnames.h"
#include "probe_explain_addr.h"
#include "probe_sock.h"

#define CAP_NET_BIND_SERVICE_BIT 10	/* <linux/capability.h> */

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

/* ---- the explanations of the port and of the rest ------------------------------ */

/* EADDRINUSE for port 0: no ephemeral port is free on @a. */
static void explain_no_ephemeral(const struct parsed_addr *a, struct diagnosis *d)
{
	FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "re");
	long lo = -1, hi = -1;

	if (f) {
		if (fscanf(f, "%ld %ld", &lo, &hi) != 2)
			lo = hi = -1;
		fclose(f);
	}
	WHY(d, "port 0 asks the kernel for any free port, and none is free on %s in "
	       "net.ipv4.ip_local_port_range (%ld-%ld).", a->text, lo, hi);
	FIX(d, "widen the range: sysctl -w net.ipv4.ip_local_port_range=\"1024 65535\"");
	FIX(d, "close sockets that hold ports (see `ss -tanp`), or bind an explicit port");
}

/* Says who holds the port: each of d->holders (of the @proto port), with its
 * process when one was found.  Returns true when one of them is in TIME_WAIT. */
static bool why_holders(const char *proto, struct diagnosis *d)
{
	bool time_wait = false;

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
	return time_wait;
}

/* EADDRINUSE: finds the sockets that hold the port and the processes that own
 * them; for port 0, the exhausted ephemeral range. */
static void explain_in_use(const struct diag_request *rq, const struct parsed_addr *a,
			   struct diagnosis *d)
{
	const char *proto = rq->udp ? "udp" : "tcp";
	bool time_wait;

	d->cause = CAUSE_PORT_IN_USE;
	if (rq->port == 0) {
		explain_no_ephemeral(a, d);
		return;
	}
	d->nholders = holders_find(a, rq->port, rq->udp, d->holders, DIAG_HOLDERS);

	WHY(d, "port %u/%s is already taken on %s or on the wildcard: a plain bind() cannot share "
	       "a port that another socket holds.", rq->port, proto, a->text);
	time_wait = why_holders(proto, d);

	for (size_t i = 0; i < d->nholders; i++) {
		bool seen = false;

		if (!d->holders[i].pid)
			continue;
		for (size_t k = 0; k < i; k++)
			seen = seen || d->holders[k].pid == d->holders[i].pid;
		if (!seen)
			FIX(d, "stop the holder: kill %d (%s)", (int)d->holders[i].pid,
			    d->holders[i].comm[0] ? d->holders[i].comm : "?");
	}
	FIX(d, "bind another port that is free (port 0 lets the kernel choose one)");
	if (rq->udp) {
		FIX(d, "to share a UDP port, every socket on it needs SO_REUSEADDR or SO_REUSEPORT "
		       "(netprobe bind --udp --reuseaddr / --reuseport)");
	} else {
		if (time_wait)
			FIX(d, "TIME_WAIT ends within 60 s; SO_REUSEADDR (netprobe bind --reuseaddr) "
			       "lets a new listener bind over it at once");
		FIX(d, "to share a listening port, every socket on it needs SO_REUSEPORT under the "
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
	FIX(d, "use a port at or above %ld", start);
	FIX(d, "give the program the capability: setcap cap_net_bind_service=+ep "
	       "/path/to/program (or run it with CAP_NET_BIND_SERVICE)");
	FIX(d, "lower the limit in this namespace: sysctl -w "
	       "net.ipv4.ip_unprivileged_port_start=%u", port);
}

/* Any other failure: says the call and the errno, and what it knows about it. */
static void explain_other(const struct parsed_addr *a, struct diagnosis *d)
{
	d->cause = CAUSE_OTHER;
	if (d->err == EAFNOSUPPORT && a->family == AF_INET6) {
		WHY(d, "this kernel or namespace has no IPv6: socket(AF_INET6) fails.");
		FIX(d, "use IPv4, or boot the kernel with IPv6 enabled (ipv6.disable=0)");
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
	d->nonlocal_bind = diag_sysctl(a.family == AF_INET ? "/proc/sys/net/ipv4/ip_nonlocal_bind"
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
		start = diag_sysctl("/proc/sys/net/ipv4/ip_unprivileged_port_start");
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
