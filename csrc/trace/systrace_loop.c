/* systrace_loop.c: see systrace_loop.h. */
#include "systrace_loop.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <sys/ptrace.h>
#include <sys/wait.h>

#include "systrace_calls.h"
#include "systrace_table.h"

/* Resumes @tid with @request (PTRACE_CONT, PTRACE_SYSCALL, PTRACE_LISTEN),
 * delivering @sig.  A tracee killed meanwhile (ESRCH) is reported by waitpid(). */
static void resume(pid_t tid, enum __ptrace_request request, int sig)
{
	(void)ptrace(request, tid, NULL, (void *)(uintptr_t)sig);
}

/* The table's entry for @tid, which stopped before its parent's fork/clone event
 * was seen (the two race): its process is read from /proc.  NULL when that fails. */
static struct systrace_thread *adopt(pid_t tid)
{
	pid_t tgid = systrace_tgid_of(tid);
	struct systrace_thread *t;

	if (tgid < 0)
		return NULL;
	t = systrace_thread_add(tid, tgid, "");
	if (t && t->proc->threads == 1)
		systrace_proc_read_prog(t->proc);
	return t;
}

/* PTRACE_EVENT_FORK/VFORK/CLONE of @parent: the new tracee joins the table.  A new
 * process inherits its parent's name and connects under way (its memory is a copy:
 * libbindtrace.so's table inside it would be too). */
static void on_clone(struct systrace_thread *parent)
{
	unsigned long msg = 0;
	pid_t tid, tgid;
	struct systrace_thread *t;

	if (ptrace(PTRACE_GETEVENTMSG, parent->tid, NULL, &msg) < 0)
		return;
	tid = (pid_t)msg;
	t = systrace_thread_find(tid);
	if (t && t->proc != parent->proc && t->proc->threads == 1)
		(void)systrace_pending_copy(t->proc, parent->proc);	/* adopted first */
	if (t)
		return;
	tgid = systrace_tgid_of(tid);
	if (tgid < 0)
		tgid = tid;
	t = systrace_thread_add(tid, tgid, parent->proc->prog);
	if (t && t->proc != parent->proc)
		(void)systrace_pending_copy(t->proc, parent->proc);
}

/* PTRACE_EVENT_EXEC of @t (now the leader, its tid the process's): the thread that
 * exec'd may have had another tid, the other threads are gone. */
static void on_exec(struct systrace_thread *t)
{
	unsigned long former = 0;

	if (ptrace(PTRACE_GETEVENTMSG, t->tid, NULL, &former) == 0 &&
	    (pid_t)former != t->tid) {
		struct systrace_thread *old = systrace_thread_find((pid_t)former);

		if (old)
			systrace_call_flush(old);
		systrace_thread_drop((pid_t)former);
	}
	systrace_call_flush(t);
	systrace_pending_clear(t->proc);
	systrace_proc_read_prog(t->proc);
}

/* A seccomp stop of @t: the entry of a traced call. */
static void on_seccomp(struct systrace_thread *t)
{
	struct __ptrace_syscall_info si;
	bool seen = false;

	if (ptrace(PTRACE_GET_SYSCALL_INFO, t->tid, (void *)sizeof(si), &si) > 0 &&
	    si.op == PTRACE_SYSCALL_INFO_SECCOMP)
		seen = systrace_call_enter(t, (int)si.seccomp.nr, si.seccomp.args);
	resume(t->tid, seen ? PTRACE_SYSCALL : PTRACE_CONT, 0);
}

/* A syscall stop of @t: the exit of the call systrace_call_enter() wanted to see
 * (an entry stop, which a kernel before 4.8 shows first, is passed on to the exit). */
static void on_syscall_stop(struct systrace_thread *t)
{
	struct __ptrace_syscall_info si;

	if (ptrace(PTRACE_GET_SYSCALL_INFO, t->tid, (void *)sizeof(si), &si) > 0) {
		if (si.op == PTRACE_SYSCALL_INFO_ENTRY) {
			resume(t->tid, PTRACE_SYSCALL, 0);
			return;
		}
		if (si.op == PTRACE_SYSCALL_INFO_EXIT)
			systrace_call_exit(t, si.exit.rval, si.exit.is_error);
	}
	resume(t->tid, PTRACE_CONT, 0);
}

/* True for the signals that start a group-stop. */
static bool is_stop_signal(int sig)
{
	return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

/* One ptrace stop of @tid, @status from waitpid(); @t is its entry, NULL when it
 * has none (no memory): then its calls go unrecorded but its signals still pass. */
static void on_stop(pid_t tid, struct systrace_thread *t, int status)
{
	int sig = WSTOPSIG(status), event = (unsigned)status >> 16;

	switch (event) {
	case PTRACE_EVENT_SECCOMP:
		if (t)
			on_seccomp(t);
		else
			resume(tid, PTRACE_CONT, 0);
		return;
	case PTRACE_EVENT_FORK:
	case PTRACE_EVENT_VFORK:
	case PTRACE_EVENT_CLONE:
		if (t)
			on_clone(t);
		resume(tid, PTRACE_CONT, 0);
		return;
	case PTRACE_EVENT_EXEC:
		if (t)
			on_exec(t);
		resume(tid, PTRACE_CONT, 0);
		return;
	case PTRACE_EVENT_STOP:
		/* a group-stop stays one; the first stop of a new tracee (SIGTRAP) and
		 * the end of a group-stop go on */
		resume(tid, is_stop_signal(sig) ? PTRACE_LISTEN : PTRACE_CONT, 0);
		return;
	case 0:
		if (sig == (SIGTRAP | 0x80)) {
			if (t)
				on_syscall_stop(t);
			else
				resume(tid, PTRACE_CONT, 0);
			return;
		}
		resume(tid, PTRACE_CONT, sig);	/* the program's signal, as it came */
		return;
	default:
		resume(tid, PTRACE_CONT, 0);
		return;
	}
}

int systrace_loop(pid_t main, const char *prog, struct systrace_end *end)
{
	bool main_gone = false;
	struct systrace_thread *t;

	end->status = 0;
	end->execd = false;
	if (!systrace_thread_add(main, main, prog))
		return -1;
	for (;;) {
		int status;
		pid_t tid = waitpid(-1, &status, __WALL);

		if (tid < 0) {
			if (errno == EINTR)
				continue;	/* a signal to the tracer: it goes on */
			if (errno == ECHILD)
				break;		/* no tracee left */
			return -1;
		}
		if (WIFEXITED(status) || WIFSIGNALED(status)) {
			systrace_thread_drop(tid);
			if (tid == main) {
				end->status = status;
				main_gone = true;
			}
			if (main_gone && systrace_thread_count() == 0)
				break;
			continue;
		}
		if (!WIFSTOPPED(status))
			continue;
		t = systrace_thread_find(tid);
		if (!t)
			t = adopt(tid);
		if (tid == main && ((unsigned)status >> 16) == PTRACE_EVENT_EXEC)
			end->execd = true;
		on_stop(tid, t, status);
	}
	systrace_table_free();
	return 0;
}
