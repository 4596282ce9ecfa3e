/*
 * probe_explain_call.h: what a join, a multicast interface or a send that failed
 * here means, in plain words, and what fixes it.  The same mistake (an address
 * this host does not have) answers differently on each call, which is what
 * confuses people:
 *
 *   join      ENODEV          no interface has that address (if=ADDR), that index,
 *                             or (no if=) no route chooses one; BSD/macOS say
 *                             EADDRNOTAVAIL
 *   mcast-if  EADDRNOTAVAIL   no interface has that address (IPv4), or that index;
 *             ENODEV          no interface has that index (IPv6)
 *   send      ENETUNREACH     the source (bound, or IP_PKTINFO) is not an address
 *                             here (any more), or no route reaches the destination
 *             EINVAL          IPV6_PKTINFO's source is not an address here
 *
 * The call is really tried (probe_udp.h), then explained with the causes of
 * probe_explain.h and unknown_interface, no_route, already_joined, not_multicast.
 */
#ifndef PROBE_EXPLAIN_CALL_H
#define PROBE_EXPLAIN_CALL_H

#include "probe_diag.h"

/*
 * Tries rq->call (a join, mcast-if or send) in this namespace and explains the
 * outcome into @d (released with diagnosis_free(), also after a failure).  A
 * failing call is a result (returns 0, d->err set); -1 with errno when the
 * diagnosis could not be made (the rtnetlink dump failed).
 */
int diagnose_call(const struct diag_request *rq, struct diagnosis *d);

/* Describes rq->call for a headline: "join 239.1.1.1 (if=10.0.0.9)",
 * "send to 10.0.0.3:53 (pktinfo=10.0.0.7)". */
void call_describe(const struct diag_request *rq, char *buf, size_t len);

#endif
