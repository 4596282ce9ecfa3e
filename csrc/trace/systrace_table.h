/*
 * systrace_table.h: bindtrace-sys's tracees, the threads it traces and the
 * processes (thread groups) they belong to.
 *
 * A thread is found by its tid; it points at its process, which holds what its
 * threads share: the program's name ("prog", updated at exec), a pidfd (to
 * duplicate its descriptors, systrace_fd.h) and its non-blocking connects under way
 * by descriptor number (the same table libbindtrace.so keeps inside the program:
 * copied into a forked child, emptied by exec).  A thread between a traced call's
 * entry and exit holds the call's state.
 *
 * Lookups are linear: a tracee set is tens of threads, and a stop costs system
 * calls that dwarf the walk.  Allocation failures are reported (-1/NULL, ENOMEM):
 * the loop then lets that tracee run unrecorded rather than stop it.
 */
#ifndef SYSTRACE_TABLE_H
#define SYSTRACE_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "trace_record.h"

#define SYSTRACE_PROG_MAX 256
/* The DNS sockets of a process kept at once (systrace_dns.h); the oldest goes. */
#define SYSTRACE_DNS_FDS 8

/* One connect under way. */
struct systrace_pending {
	int fd;
	struct trace_connecting c;
};

struct systrace_proc {
	pid_t tgid;
	int pidfd;			/* -1: none (no pidfd_open) */
	int threads;			/* threads of it in the table */
	char prog[SYSTRACE_PROG_MAX];
	struct systrace_pending *pending;
	size_t npending, cap;
	int dns_fds[SYSTRACE_DNS_FDS];	/* sockets to port 53 (systrace_dns.h) */
	size_t ndns;
};

/* A traced call between its seccomp stop and its exit stop. */
struct systrace_call {
	int nr;
	uint64_t args[6];
	int64_t start_ns;
	int64_t end_ns;			/* of an interrupted call (ERESTART*) */
	bool interrupted;		/* the kernel will restart it, or the program
					 * sees EINTR: known at its next call */
	bool have_addr;			/* bind, connect: the address, read at entry */
	struct sockaddr_storage addr;
	bool have_before;		/* connect: getsockname() before the call */
	struct sockaddr_storage before;
	bool have_local;		/* close: the socket's address before it */
	struct sockaddr_storage local;
	struct trace_connecting closing;	/* close: the connect it gives up */
	int file;			/* open/openat: which resolver file (systrace_dns.c) */
};

struct systrace_thread {
	pid_t tid;
	struct systrace_proc *proc;
	bool in_call;
	struct systrace_call call;
};

/* The thread @tid, or NULL when it is not in the table. */
struct systrace_thread *systrace_thread_find(pid_t tid);

/* Adds thread @tid of process @tgid: joins the process when it is in the table,
 * else creates it with @prog (its pidfd opened, no connect under way).  Returns the
 * thread, or NULL with errno set (ENOMEM). */
struct systrace_thread *systrace_thread_add(pid_t tid, pid_t tgid, const char *prog);

/* Removes thread @tid (nothing when absent); its process goes with its last thread
 * (pidfd closed). */
void systrace_thread_drop(pid_t tid);

/* How many threads the table holds. */
size_t systrace_thread_count(void);

/* The connect under way on @fd of @p, or NULL. */
struct systrace_pending *systrace_pending_find(struct systrace_proc *p, int fd);

/* Remembers connect @c under way on @fd of @p (replacing one there).  Returns 0, or
 * -1 with errno set (ENOMEM). */
int systrace_pending_set(struct systrace_proc *p, int fd, const struct trace_connecting *c);

/* Forgets what was under way on @fd of @p. */
void systrace_pending_drop(struct systrace_proc *p, int fd);

/* Forgets everything under way in @p, and its DNS sockets (it exec'd another
 * program). */
void systrace_pending_clear(struct systrace_proc *p);

/* Gives @child a copy of what is under way in @parent (fork).  Returns 0, or -1
 * with errno set. */
int systrace_pending_copy(struct systrace_proc *child, const struct systrace_proc *parent);

/* Sets @p->prog to the basename of argv[0] of its /proc/TGID/cmdline, as
 * program_invocation_short_name is inside the program; keeps it when unreadable. */
void systrace_proc_read_prog(struct systrace_proc *p);

/* The thread group (Tgid: of /proc/TID/status) of @tid, or -1 with errno set. */
pid_t systrace_tgid_of(pid_t tid);

/* Frees everything (at the end of the tracer). */
void systrace_table_free(void);

#endif
