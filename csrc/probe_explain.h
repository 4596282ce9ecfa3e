/*
 * probe_explain.h: why a bind() here fails, in plain words, and what fixes it.
 *
 * The bind is really tried (that is the truth); rtnetlink (probe_ifaddrs.h), the
 * port holders (probe_holders.h) and /proc (sysctls, CapEff) then say why.  Each
 * outcome gets a stable cause keyword that scripts and lab sheets can rely on:
 *
 *   ok                  the bind works
 *   interface_down      the bind works, but the address's interface is down or
 *                       has no carrier, so traffic from it cannot flow
 *   not_local           EADDRNOTAVAIL: no interface of this namespace holds the address
 *   tentative           EADDRNOTAVAIL: IPv6 address still in Duplicate Address Detection
 *   dadfailed           EADDRNOTAVAIL: IPv6 address failed DAD (a duplicate on the link)
 *   port_in_use         EADDRINUSE: another socket holds the port (which, and whose)
 *   privileged_port     EACCES: port below ip_unprivileged_port_start, no
 *                       CAP_NET_BIND_SERVICE
 *   linklocal_no_scope  EINVAL: fe80::/10 without a %scope
 *   unknown_scope       ENODEV: the %scope names no interface here
 *   other               any other failure (the errno says what)
 */
#ifndef PROBE_EXPLAIN_H
#define PROBE_EXPLAIN_H

#include "probe_diag.h"

/*
 * Tries the bind @rq describes in this namespace and explains the outcome into
 * @d (which the caller releases with diagnosis_free(), also after a failure).
 * A failing bind is a result (returns 0, d->err set).  Returns -1 with errno when
 * the diagnosis itself could not be made (the rtnetlink dump failed).
 */
int diagnose_bind(const struct diag_request *rq, struct diagnosis *d);

#endif
