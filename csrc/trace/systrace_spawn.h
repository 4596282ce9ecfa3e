/*
 * systrace_spawn.h: starting the program under bindtrace-sys.
 *
 *   fork -> the parent PTRACE_SEIZEs the child (SYSTRACE_PTRACE_OPTIONS) while the
 *   child waits on a pipe -> the child installs the seccomp filter and execs.
 *
 * Seizing before the filter is in place matters: a traced call without a tracer
 * fails with ENOSYS.  The child stays in the tracer's process group, so a signal
 * to the group (how the harness stops a program) reaches the program too.  If the
 * kernel refuses ptrace (EPERM: a seccomp policy, yama ptrace_scope, the tracer
 * itself being traced), the child is told to leave before it execs anything, and
 * the caller can run the program untraced itself.
 */
#ifndef SYSTRACE_SPAWN_H
#define SYSTRACE_SPAWN_H

#include <sys/types.h>

/* What the child failed at, after the tracer was attached. */
enum systrace_child_error {
	SYSTRACE_CHILD_OK,
	SYSTRACE_CHILD_FILTER,	/* the seccomp filter could not be installed */
	SYSTRACE_CHILD_EXEC,	/* execvp() failed: the program cannot run */
};

struct systrace_child {
	pid_t pid;
	int report_fd;		/* read end: the child's error, if it had one */
};

/* Starts @argv (execvp: a PATH lookup) as a seized tracee on its way to exec.
 * Fills @child.  Returns 0, or -1 with errno set (and nothing started: the child
 * has been reaped) when fork or PTRACE_SEIZE fails; @call names which. */
int systrace_spawn(char *const argv[], struct systrace_child *child, const char **call);

/* After the child ended without reaching its exec: what it failed at and its errno
 * (into @err).  SYSTRACE_CHILD_OK when it did not say (it was killed first).
 * Closes the report descriptor. */
enum systrace_child_error systrace_spawn_error(struct systrace_child *child, int *err);

/* Closes the report descriptor of a child that did exec. */
void systrace_spawn_done(struct systrace_child *child);

#endif
