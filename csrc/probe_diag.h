/*
 * probe_diag.h: the diagnosis of one bind, the record that diagnose_bind()
 * (probe_explain.h) fills and `netprobe diagnose` prints: the trial bind's errno,
 * the cause (its keywords are listed in probe_explain.h), the explanation, the
 * fixes, the port's holders and this namespace's addresses.
 *
 * The explanations (probe_explain.c, probe_explain_addr.c) write into it through
 * WHY() (a sentence more of the explanation) and FIX() (one fix more).
 */
#ifndef PROBE_DIAG_H
#define PROBE_DIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "lib/addr.h"
#include "probe_case.h"
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
	CAUSE_UNKNOWN_INTERFACE,	/* join, mcast-if, send: no interface has that index/name */
	CAUSE_NO_ROUTE,			/* no route chooses an interface (or reaches the peer) */
	CAUSE_ALREADY_JOINED,		/* join: this socket is already a member there */
	CAUSE_NOT_MULTICAST,		/* join: the group is no multicast address */
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
	struct probe_case call;		/* a join, mcast-if or send to try instead of the
					 * bind (call.op); OP_BIND: the bind above */
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

/* Frees what diagnose_bind() allocated in @d.  Safe on a zeroed @d. */
void diagnosis_free(struct diagnosis *d);

/* The stable keyword of @cause ("not_local"). */
const char *diag_cause_name(enum diag_cause cause);

/* Appends printf-style text to d->explanation, cut to fit. */
void diag_why(struct diagnosis *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Adds one fix (a sentence) to @d; fixes beyond DIAG_FIXES are dropped. */
void diag_fix(struct diagnosis *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The explanations' shorthand: WHY(d, "...", ...) is diag_why(), FIX(d, ...) diag_fix(). */
#define WHY(d, ...) diag_why((d), __VA_ARGS__)
#define FIX(d, ...) diag_fix((d), __VA_ARGS__)

/* The first number in file @path (a sysctl), or -1 when it cannot be read. */
long diag_sysctl(const char *path);

#endif
