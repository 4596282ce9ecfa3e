/*
 * probe_name.h: an ADDR given as a name, as the command line and a plan line read
 * it (probe_resolve.h resolves and runs it).
 */
#ifndef PROBE_NAME_H
#define PROBE_NAME_H

#include <stdbool.h>
#include <stddef.h>

#include "probe_case.h"

/*
 * True when @s can be a host name: 1 to 253 bytes of letters, digits, '-', '.'
 * and '_', at least one of them a letter or '_' (so a malformed numeric address
 * such as "10.0.0.300" stays a usage error, not a name to look up).
 */
bool name_valid(const char *s);

/*
 * Makes @c a name case for @text with the defaults of its operation (a bind: the
 * first result, AI_PASSIVE; a connect: each result), the hint family @family, and
 * c->addr the wildcard of that family (AF_INET when AF_UNSPEC) until a result
 * replaces it.  Returns 0, or -1 with a message in @err (not a name; only bind
 * and connect take names).
 */
int name_set(struct probe_case *c, const char *text, int family, char *err, size_t errlen);

/*
 * A name case @c given a source (src=, --src) and no family of its own resolves in
 * the source's family: a client bound to an IPv6 source asks for IPv6 results only,
 * and the case's family is the source's.  Nothing for a numeric case.
 */
void name_take_src_family(struct probe_case *c);

#endif
