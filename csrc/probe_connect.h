/*
 * probe_connect.h: connect cases, many at once.
 *
 * Every case runs on a non-blocking socket watched by one epoll set, at most
 * @max_inflight at a time, each against its own deadline: a matrix full of dropped
 * SYNs costs one timeout, not one per cell.  After a TCP connect succeeds the case
 * waits for the server's greeting ("netprobe <host>\n", see probe_cmd_serve.c) to learn
 * who answered; a UDP case sends one datagram and waits for the same greeting.
 */
#ifndef PROBE_CONNECT_H
#define PROBE_CONNECT_H

#include <stddef.h>

#include "probe_case.h"

/* The line a netprobe server sends to each client, and its prefix. */
#define GREETING_PREFIX "netprobe "

/* Called once per finished case, in completion order.  A non-zero return stops
 * the run (the output channel is gone). */
typedef int (*connect_emit_fn)(const struct probe_case *c, const struct probe_result *r,
			       void *arg);

/*
 * Runs connect cases @cases[0..@n) concurrently, at most @max_inflight at a time,
 * and reports each through @emit.  Sockets of cases with the `hold` option stay
 * open until every case has finished, so they keep their ephemeral ports (port
 * exhaustion is then deterministic).
 *
 * Descriptors are a resource, not an outcome: when socket() finds none free
 * (EMFILE, ENFILE) the case waits until an in-flight case gives one back, so no
 * record ever says EMFILE.  A case's timeout counts from its connect() to its
 * outcome; every event that is ready is taken before any deadline is judged.
 *
 * Returns 0; or -1 with errno EMFILE/ENFILE when no descriptor is free and
 * nothing is in flight to free one (held sockets take every descriptor the limit
 * allows), the errno @emit failed with when it asked to stop, or the engine's own
 * (epoll, ENOMEM).
 */
int connect_run(const struct probe_case *cases, size_t n, unsigned max_inflight,
		connect_emit_fn emit, void *arg);

/* Copies the host name out of greeting text @buf (up to a newline) into @out,
 * keeping only printable characters; "" when @buf is not a netprobe greeting. */
void greeting_parse(const char *buf, size_t len, char *out, size_t outlen);

/* What the bytes @buf[0..@len) read after the handshake, ended by error @err (0:
 * EOF or a complete line), say happened: a greeting, other data, EOF, a reset, a
 * timeout or another error. */
enum probe_after after_classify(const char *buf, size_t len, int err);

#endif
