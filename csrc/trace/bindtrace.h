/*
 * bindtrace.h: what bindtrace.c (libbindtrace.so's core) lends the library's other
 * interposers (bindtrace_udp.c): whether tracing is on, and who is calling.
 * Hidden symbols, like everything of the library but the interposed calls.
 */
#ifndef BINDTRACE_H
#define BINDTRACE_H

#include <stdbool.h>

#include "trace_record.h"

/* True when $BINDTRACE_FILE was given (runs the library's one-time setup first,
 * keeping errno). */
bool bindtrace_enabled(void);

/* The calling thread as the records name it. */
struct trace_caller bindtrace_caller(void);

#endif
