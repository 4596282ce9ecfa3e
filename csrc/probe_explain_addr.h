/*
 * probe_explain_addr.h: the explanations of a diagnosis (probe_diag.h) that turn on
 * where the address is in this namespace: on which interface and in which state
 * (tentative, dadfailed, on a link that is down), in which subnet, or nowhere; and
 * the scope of a link-local address.  Each sets d->cause and writes the why and
 * the fixes from d->addrs; @a is the address the kernel checked (for ::ffff:a.b.c.d
 * on an IPv6 socket, a.b.c.d).
 */
#ifndef PROBE_EXPLAIN_ADDR_H
#define PROBE_EXPLAIN_ADDR_H

#include "lib/addr.h"
#include "probe_diag.h"

/* The address of this namespace that @p names (the scope aside), or NULL. */
const struct local_addr *diag_find_addr(const struct diagnosis *d, const struct parsed_addr *p);

/* Appends " IPv4 addresses here: 10.0.0.2/24 (h2-eth0), ...." for @family to the why. */
void diag_list_addrs(struct diagnosis *d, int family);

/* The bind worked: says why, and flags an address whose link cannot carry traffic
 * (cause interface_down). */
void explain_ok(const struct diag_request *rq, const struct parsed_addr *a,
		struct diagnosis *d);

/* Sorts out EADDRNOTAVAIL: a tentative or dadfailed IPv6 address, else not local. */
void explain_addrnotavail(const struct parsed_addr *a, struct diagnosis *d);

/* EINVAL for a link-local address without a scope: suggests the interfaces. */
void explain_no_scope(const struct parsed_addr *a, struct diagnosis *d);

/* ENODEV: the %scope of @a names no interface here. */
void explain_unknown_scope(const struct parsed_addr *a, struct diagnosis *d);

#endif
