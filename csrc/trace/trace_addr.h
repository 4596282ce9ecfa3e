/*
 * trace_addr.h: socket addresses as the tracer's records write them, without
 * touching the traced program's state (no name lookups, no sockets, no malloc).
 *
 * The records themselves are built with the JSON writer netprobe shares
 * (lib/json.h) in a buffer of TRACE_LINE_MAX bytes on the caller's stack: below
 * PIPE_BUF, so one write() with O_APPEND puts a record in the file whole
 * (trace_out.h).
 */
#ifndef TRACE_ADDR_H
#define TRACE_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* A record line, and one string value in it (in JSON bytes). */
#define TRACE_LINE_MAX 1024
#define TRACE_STR_MAX 512
/* An address: "ffff:...:255.255.255.255%4294967295" (45 + 11 bytes) and its NUL. */
#define TRACE_IP_MAX 60
/* An endpoint: "[" address "]:65535" and its NUL.  Buffers of either kind. */
#define TRACE_ADDR_MAX (TRACE_IP_MAX + 10)

/* The address of @sa as text: "10.0.0.1", "::1", "fe80::1%2" (the scope as a
 * number: turning it into a name would open a socket inside the traced program).
 * Writes "" for a family other than AF_INET/AF_INET6.  Writes at most
 * TRACE_IP_MAX bytes into @out. */
void trace_addr_text(const struct sockaddr *sa, char *out);

/* The port of an AF_INET/AF_INET6 @sa, 0 for anything else. */
unsigned trace_addr_port(const struct sockaddr *sa);

/* "10.0.0.2:40312" or "[::1]:40312", the form netprobe's "local" uses; "" for
 * another family.  @out has TRACE_ADDR_MAX bytes. */
void trace_endpoint_text(const struct sockaddr *sa, char *out);

#endif
