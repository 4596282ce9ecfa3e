/*
 * systrace_calls.h: what bindtrace-sys does at each traced call's entry and exit,
 * so that its records equal libbindtrace.so's for the same call (trace_record.h).
 *
 * Entry (the seccomp stop): the arguments come from PTRACE_GET_SYSCALL_INFO; the
 * address a bind()/connect() passes is read from the tracee's memory
 * (systrace_mem.h); connect() asks the socket's address before the call (which
 * also says it is an IP socket: libbindtrace.so asks the same).  A call that cannot
 * make a record is let run without an exit stop: a getsockopt(SO_ERROR) or a
 * close() on a descriptor without a connect under way (most of them), a connect()
 * on a socket that is not IP.
 *
 * Exit (the syscall-exit stop): the return value and errno, then the socket's facts
 * through a duplicate of the descriptor (systrace_fd.h), closed before the tracee
 * runs on; for getsockopt(SO_ERROR) the value the kernel wrote.  A call the kernel
 * will restart (ERESTART*: a signal came) is recorded once, when it really ends;
 * one that turned into EINTR for the program is recorded when that thread next
 * makes a traced call.  (Known wart: the tracer cannot see whether the program's
 * handler has SA_RESTART, so a program that answers EINTR by making the very same
 * call again gets one record, of the second call, where libbindtrace.so writes
 * two.)
 */
#ifndef SYSTRACE_CALLS_H
#define SYSTRACE_CALLS_H

#include <stdbool.h>
#include <stdint.h>

#include "systrace_table.h"

/* The settings of every record: "host", and whether a bind's options are read
 * ($BINDTRACE_OPTIONS=0: not, as in libbindtrace.so). */
void systrace_calls_init(const char *host, bool options);

/* The seccomp stop of thread @t in system call @nr with @args.  Returns true when
 * the call's exit must be seen (resume with PTRACE_SYSCALL), false when it may run
 * unseen (PTRACE_CONT). */
bool systrace_call_enter(struct systrace_thread *t, int nr, const uint64_t args[6]);

/* The exit stop of @t's call: @rval as the kernel returned it (-errno when
 * @is_error).  Writes the record. */
void systrace_call_exit(struct systrace_thread *t, int64_t rval, bool is_error);

/* @t execs, or its interrupted call turned out not to be restarted: an interrupted
 * call is recorded as the program saw it (EINTR). */
void systrace_call_flush(struct systrace_thread *t);

#endif
