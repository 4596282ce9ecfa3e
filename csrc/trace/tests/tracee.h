/*
 * tracee.h: what the modes of the tracers' test program share (tracee.c has the
 * program, its usage and its modes; tracee_calls.c the `calls` mode, tracee_bench.c
 * the bench modes).
 */
#ifndef TRACEE_H
#define TRACEE_H

#include <sys/socket.h>

/* Prints the usage on stderr; returns 2, the exit status of bad usage. */
int usage(void);

/* Parses a decimal in [@min, @max].  Returns 0, or -1 (the caller says usage). */
int parse_num(const char *s, long min, long max, long *out);

/* Fills @ss/@len from numeric @addr and @port.  Returns 0, or -1 (not numeric). */
int make_addr(const char *addr, unsigned port, struct sockaddr_storage *ss, socklen_t *len);

/* `tracee calls OWN OTHER PORT UNREACHABLE` (tracee_calls.c): every call a tracer
 * traces, one line each.  @argv from OWN on; returns the exit status. */
int cmd_calls(int argc, char **argv);

/* `tracee bench-WHAT N` (tracee_bench.c): @what "bind", "connect", "read" or "open";
 * returns the exit status (usage's for another @what). */
int cmd_bench(const char *what, long n);

#endif
