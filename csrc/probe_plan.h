/*
 * probe_plan.h: the plan format read by `netprobe batch`.
 *
 * One case a line, fields separated by spaces or tabs; blank lines and lines whose
 * first non-blank character is '#' are skipped:
 *
 *     ID OP PROTO ADDR PORT [OPTION ...]
 *
 *     ID      1-63 characters of [A-Za-z0-9._:/@+-], echoed in the record
 *     OP      bind | connect | join | mcast-if | send (the last three: udp)
 *     PROTO   tcp | udp
 *     ADDR    numeric IPv4/IPv6 (see lib/addr.h), "any" for the wildcard; a join's
 *             and a mcast-if's is the group, a send's the destination
 *     PORT    0-65535 (a join's, a mcast-if's: the port bound first, 0 none)
 *     OPTION  reuseaddr  reuseport  freebind  bindnoport  v6only=0|1  dev=IFNAME
 *             hold   nolisten (bind)   src=ADDR (not bind)  sport=PORT
 *             timeout=MS  nogreet (connect)   if=ADDR|IFNAME|INDEX (join, mcast-if,
 *             send)   pktinfo=ADDR (send)
 *             family=4|6 (4: IPv4 socket; 6: IPv6 socket, an IPv4 ADDR is v4-mapped)
 *             retry=S  every=MS  delay=MS (bind, connect; probe_retry.h)
 */
#ifndef PROBE_PLAN_H
#define PROBE_PLAN_H

#include <stddef.h>
#include <stdio.h>

#include "probe_case.h"

/* The longest plan line, in bytes without its newline (a CR before it counts). */
#define PLAN_LINE_MAX 1024
/* How many problems plan_read() reports before it stops looking. */
#define PLAN_ERRORS_MAX 20

/*
 * Parses one plan line (without its newline).  Returns 1 and fills @out for a
 * case, 0 for a blank or comment line, -1 for a malformed line with a message in
 * @err that names the line number @lineno and the field.
 */
int plan_parse_line(const char *line, size_t lineno, struct probe_case *out,
		    char *err, size_t errlen);

/*
 * Applies one OPTION word ("reuseaddr", "timeout=200", ...) to @c.  Shared with
 * the command line so both spell options the same way.  Returns 0, or -1 with a
 * message in @err naming the option.
 */
int plan_apply_option(struct probe_case *c, const char *word, char *err, size_t errlen);

/* The shortest every=MS: a retrying case never spins. */
#define EVERY_MIN_MS 10

/*
 * Parses seconds @text ("3", "1.5", "0.25": at most 3 decimals) into *@ms, from 1
 * ms to @max_ms.  Returns 0, or -1 when @text is no such number.
 */
int plan_parse_seconds(const char *text, unsigned max_ms, unsigned *ms);

/*
 * Parses the value of if= (or --if): an IPv4 address, an interface index (a
 * number) or an interface name, into @out (its text kept for the record).
 * Returns 0, or -1 when @text is none of them.
 */
int plan_parse_iface(const char *text, struct probe_iface *out);

/*
 * Checks that a case's options fit its operation (a bind has no source, only a
 * bind has nolisten (@saw_nolisten: the word was given), a join, mcast-if or send
 * is UDP, if= as plan_parse_iface() read it fits the family ...).  Shared with the
 * command line.  Returns 0, or -1 with a message in @err naming the field or option.
 */
int plan_check(const struct probe_case *c, bool saw_nolisten, char *err, size_t errlen);

/* The plan word of @op: "bind", "connect", "join", "mcast-if", "send". */
const char *plan_op_name(enum probe_op op);

/* A parsed plan: @n cases, in plan order, owned by whoever called plan_read(). */
struct plan {
	struct probe_case *cases;
	size_t n;
};

/* Called with each problem of a plan, a message that starts "plan line N: " (or,
 * for a read error, says the error); @arg is plan_read()'s. */
typedef void (*plan_report_fn)(void *arg, const char *msg);

/*
 * Reads and parses the whole plan from @f, before anything runs.  Each line is
 * read into a buffer of PLAN_LINE_MAX bytes: a longer line is refused by its
 * number and the rest of it read and thrown away, never stored, so the memory a
 * plan takes grows with its cases, not with its longest line.  A line with a NUL
 * byte is refused; then every case is checked for an id used by an earlier case
 * ("plan line 5: id 'c' is already used on line 4").  Returns 0 with the cases in
 * @out (the caller frees out->cases); or -1 with errno EINVAL after giving each
 * problem to @report (at most PLAN_ERRORS_MAX, then one saying it stopped), or
 * -1 with errno ENOMEM or the read error (reported too).  @out is then empty.
 */
int plan_read(FILE *f, struct plan *out, plan_report_fn report, void *arg);

#endif
