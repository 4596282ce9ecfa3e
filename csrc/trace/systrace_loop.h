/*
 * systrace_loop.h: bindtrace-sys's ptrace loop, from the program's exec to the end
 * of its last traced process.
 *
 * Every tracee is attached with PTRACE_SEIZE semantics (the first by
 * systrace_spawn.h, every child, thread and vfork child automatically through
 * PTRACE_O_TRACEFORK|TRACEVFORK|TRACECLONE) and stops only where the loop must act:
 *   PTRACE_EVENT_SECCOMP   a traced call's entry (systrace_filter.h) ->
 *                          systrace_call_enter(); resumed with PTRACE_SYSCALL when
 *                          its exit matters, else PTRACE_CONT;
 *   syscall-exit stop      (SIGTRAP|0x80, PTRACE_O_TRACESYSGOOD) -> systrace_call_exit();
 *   fork/vfork/clone       the new tracee joins the table (a thread its process,
 *                          a process with a copy of its parent's connects under way);
 *   exec                   "prog" is read again, connects under way forgotten (a
 *                          non-leader thread's exec takes over the leader's tid);
 *   a signal               re-injected as it came, untouched (the program's own);
 *   group-stop             PTRACE_LISTEN: the tracee stays stopped, as it would
 *                          untraced, until SIGCONT.
 * PTRACE_O_EXITKILL is not set: should the tracer die, the kernel detaches the
 * tracees and they go on untraced.  The loop never blocks but in waitpid(), and
 * never signals a tracee.
 */
#ifndef SYSTRACE_LOOP_H
#define SYSTRACE_LOOP_H

#include <stdbool.h>
#include <sys/types.h>

/* What the tracer asks of every tracee. */
#define SYSTRACE_PTRACE_OPTIONS                                                   \
	(PTRACE_O_TRACESECCOMP | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK |       \
	 PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC | PTRACE_O_TRACESYSGOOD)

/* How the program the tracer started ended. */
struct systrace_end {
	int status;	/* its wait status */
	bool execd;	/* it reached its exec (else it failed before: systrace_spawn.h) */
};

/*
 * Traces @main (seized, on its way to exec, named @prog until then) and everything
 * it starts, until every tracee has ended.  Fills @end.  Returns 0, or -1 with
 * errno set when waitpid() itself fails (the tracees are then detached by the
 * tracer's exit).
 */
int systrace_loop(pid_t main, const char *prog, struct systrace_end *end);

#endif
