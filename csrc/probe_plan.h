/*
 * probe_plan.h: the plan format read by `netprobe batch`.
 *
 * One case a line, fields separated by spaces or tabs; blank lines and lines whose
 * first non-blank character is '#' are skipped:
 *
 *     ID OP PROTO ADDR PORT [OPTION ...]
 *
 *     ID      1-63 characters of [A-Za-z0-9._:/@+-], echoed in the record
 *     OP      bind | connect
 *     PROTO   tcp | udp
 *     ADDR    numeric IPv4/IPv6 (see probe_addrparse.h), "any" for the wildcard
 *     PORT    0-65535
 *     OPTION  reuseaddr  reuseport  freebind  v6only=0|1  dev=IFNAME  hold
 *             nolisten (bind)   src=ADDR  sport=PORT  timeout=MS  nogreet (connect)
 *             family=4|6 (4: IPv4 socket; 6: IPv6 socket, an IPv4 ADDR is v4-mapped)
 */
#ifndef PROBE_PLAN_H
#define PROBE_PLAN_H

#include <stddef.h>

#include "probe_case.h"

#define PLAN_LINE_MAX 1024

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

#endif
