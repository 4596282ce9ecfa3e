/*
 * probe_sock.h: sockets made the way a case asks, and the bind probe.
 */
#ifndef PROBE_SOCK_H
#define PROBE_SOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "probe_case.h"

/* Microseconds on the monotonic clock. */
static inline int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/*
 * Opens a socket of @c's family and protocol (non-blocking when @nonblock) and
 * sets the options @c asks for.  Returns the fd, or -1 with @r->err and @r->call
 * naming the call that failed ("setsockopt(SO_BINDTODEVICE)").
 */
int sock_open(const struct probe_case *c, bool nonblock, struct probe_result *r);

/*
 * Runs bind case @c: socket, options, bind to c->addr, and listen() for TCP unless
 * the case says nolisten.  Fills @r (errno, the failing call, elapsed time).
 * Returns the bound fd, which the caller owns, or -1 when a call failed.
 */
int probe_bind(const struct probe_case *c, struct probe_result *r);

/* True when @r failed because socket() found no free descriptor (EMFILE, ENFILE):
 * a want of the probe's, which batch waits out or reports, never a case's outcome. */
bool result_no_descriptor(const struct probe_result *r);

/* Sets @r to failure @err in @call and returns -1: the one way runners fail a case. */
int result_fail(struct probe_result *r, const char *call, int err);

#endif
