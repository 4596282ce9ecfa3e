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

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "lib/addr.h"
#include "probe_holders.h"
#include "probe_ifaddrs.h"

enum diag_cause {
	CAUSE_OK,
	CAUSE_INTERFACE_DOWN,
	CAUSE_NOT_LOCAL,
	CAUSE_TENTATIVE,
	CAUSE_DADFAILED,
	CAUSE_PORT_IN_USE,
	CAUSE_PRIVILEGED_PORT,
	CAUSE_LINKLOCAL_NO_SCOPE,
	CAUSE_UNKNOWN_SCOPE,
	CAUSE_OTHER,
};

#define DIAG_TEXT_MAX 4096
#define DIAG_FIX_MAX 512
#define DIAG_FIXES 8
#define DIAG_HOLDERS 8

struct diag_request {
	struct parsed_addr addr;	/* as addr_parse() gave it; the scope is resolved here */
	unsigned port;			/* 0: any port (the kernel picks one) */
	bool udp;
	bool freebind;			/* IP_FREEBIND / IPV6_FREEBIND on the trial socket */
};

struct diagnosis {
	int err;			/* errno of the trial bind, 0 when it worked */
	const char *call;		/* the call that failed ("bind"), NULL when ok */
	enum diag_cause cause;
	char explanation[DIAG_TEXT_MAX];
	char fixes[DIAG_FIXES][DIAG_FIX_MAX];
	size_t nfixes;
	struct port_holder holders[DIAG_HOLDERS];
	size_t nholders;
	struct local_addr *addrs;	/* this namespace's addresses, owned */
	size_t naddrs;
	long nonlocal_bind;		/* ip_nonlocal_bind of the family, -1 unknown */
};

/*
 * Tries the bind @rq describes in this namespace and explains the outcome into
 * @d (which the caller releases with diagnosis_free(), also after a failure).
 * A failing bind is a result (returns 0, d->err set).  Returns -1 with errno when
 * the diagnosis itself could not be made (the rtnetlink dump failed).
 */
int diagnose_bind(const struct diag_request *rq, struct diagnosis *d);

/* Frees what diagnose_bind() allocated in @d.  Safe on a zeroed @d. */
void diagnosis_free(struct diagnosis *d);

/* The stable keyword of @cause ("not_local"). */
const char *diag_cause_name(enum diag_cause cause);

#endif
