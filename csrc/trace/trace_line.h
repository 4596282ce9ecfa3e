/*
 * trace_line.h: builds one tracer record, a JSON object on one line, in a fixed
 * buffer on the caller's stack.
 *
 * The tracer runs inside someone else's program, in whatever thread called bind(),
 * possibly right after fork(): so no malloc, no stdio streams, no locks.  A record is
 * at most TRACE_LINE_MAX bytes (below PIPE_BUF), so one write() with O_APPEND puts it
 * in the file whole.  A member that does not fit is left out and the record ends with
 * "cut":true; the line is always valid JSON.
 */
#ifndef TRACE_LINE_H
#define TRACE_LINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define TRACE_LINE_MAX 1024
/* An address: "ffff:...:255.255.255.255%4294967295" (45 + 11 bytes) and its NUL. */
#define TRACE_IP_MAX 60
/* An endpoint: "[" address "]:65535" and its NUL.  Buffers of either kind. */
#define TRACE_ADDR_MAX (TRACE_IP_MAX + 10)

struct trace_line {
	char buf[TRACE_LINE_MAX];
	size_t len;
	bool first;	/* no member written yet */
	bool cut;	/* a member did not fit and was left out */
};

void line_begin(struct trace_line *l);
void line_str(struct trace_line *l, const char *key, const char *val);	/* NULL -> null */
void line_int(struct trace_line *l, const char *key, int64_t val);
void line_bool(struct trace_line *l, const char *key, bool val);
void line_null(struct trace_line *l, const char *key);
/* A member whose value is already JSON text (an array built by the caller). */
void line_raw(struct trace_line *l, const char *key, const char *json);
/* Closes the object (adding "cut":true when needed) and appends '\n'.
 * Returns the length of the finished line. */
size_t line_end(struct trace_line *l);

/* JSON string literals come from json_quote() in probe_json.h, netprobe's own. */

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
