/*
 * probe_resolve.h: bind and connect cases whose ADDR is a name.
 *
 * Real programs bind and connect to names ("localhost", a hostname), and the same
 * Errno 99 reaches them through the resolver: "localhost" resolving to ::1 first
 * in a namespace with IPv6 off, a hostname on 127.0.1.1, a stale hosts entry.  A
 * name case resolves with getaddrinfo() the way an ordinary program does
 * (AI_PASSIVE for a bind; the family and AI_ADDRCONFIG as asked), then either
 * calls on the first result only (a typical server) or on each result in order
 * until one works (a typical client).  Its record is the record of the address
 * that gave the outcome, plus the name, the resolved list in order and each try
 * (docs/netprobe.md, "Names").  A resolution failure is its own outcome: "error"
 * is the EAI_ name ("EAI_NONAME"), "call" is "getaddrinfo", never an errno it was
 * not ("errno" is 0, or the errno of EAI_SYSTEM).
 *
 * A numeric ADDR never comes here: its case and record are exactly as before.
 */
#ifndef PROBE_RESOLVE_H
#define PROBE_RESOLVE_H

#include <stdbool.h>
#include <stddef.h>

#include "probe_case.h"
#include "probe_name.h"

/* How many resolved addresses a name case keeps (and may try), in order. */
#define NAME_RESULTS_MAX 16

/* What a name case's resolution and tries gave. */
struct name_outcome {
	int gai;			/* 0, or getaddrinfo()'s EAI_ code */
	int gai_errno;			/* errno after EAI_SYSTEM, else 0 */
	int64_t resolve_us;		/* how long getaddrinfo() took */
	size_t n;			/* resolved addresses, getaddrinfo()'s order */
	struct parsed_addr resolved[NAME_RESULTS_MAX];
	size_t tried;			/* addresses tried; the last gave the outcome */
	int err[NAME_RESULTS_MAX];	/* each try's errno, 0 when it worked */
	const char *call[NAME_RESULTS_MAX];	/* each try's failing call, NULL ok */
};

/*
 * Runs bind case @c (a name case): resolves, then binds the first result, or each
 * in order until one works.  @at becomes the case of the address that gave the
 * outcome (@c itself when resolving failed), @r its result.  Returns the bound fd
 * (the caller owns it) or -1.
 */
int name_bind(const struct probe_case *c, struct name_outcome *o, struct probe_case *at,
	      struct probe_result *r);

/*
 * Runs connect case @c (a name case) likewise, each try through the connect
 * engine (probe_connect.h).  Returns 0 (the outcome is in @o, @at, @r), or -1
 * with errno when the engine itself failed (no descriptor, ENOMEM): no outcome.
 */
int name_connect(const struct probe_case *c, struct name_outcome *o, struct probe_case *at,
		 struct probe_result *r);

/*
 * Formats the record of a name case into @buf of @size bytes (RECORD_MAX): the
 * record of @at / @r (probe_record.h) plus "name", "resolve", "hints",
 * "resolved" and "tries".  Returns the length of the line, '\n' included.
 */
size_t name_record_format(char *buf, size_t size, const char *host, const struct probe_case *at,
			  const struct probe_result *r, const struct name_outcome *o);

/* The EAI_ name of getaddrinfo() code @gai ("EAI_NONAME"), "EAI_?" when unknown. */
const char *gai_name(int gai);

#endif
