/*
 * systrace_fd.h: a duplicate of a tracee's descriptor, to ask its socket the facts a
 * record needs (trace_sock.h) from outside the program.
 *
 * pidfd_getfd() (Linux >= 5.6) gives the tracer its own descriptor of the tracee's
 * open socket; as the tracer it has the PTRACE_MODE_ATTACH right the call needs.
 * Asking through it changes nothing for the program, but it keeps the socket open:
 * the caller closes the duplicate before it lets the tracee run again, so that a
 * socket the program closes (a listener it means to free) goes when it says.
 * Where pidfd_getfd() is missing there are no facts (systrace_fd_usable()), and the
 * records say so ("facts":"arguments").
 */
#ifndef SYSTRACE_FD_H
#define SYSTRACE_FD_H

#include <stdbool.h>
#include <sys/types.h>

/* A pidfd of process @tgid, or -1 with errno set (none without pidfd_open()). */
int systrace_pidfd_open(pid_t tgid);

/*
 * A duplicate of descriptor @fd of the tracee: thread @tid of process @tgid, whose
 * pidfd is @pidfd (-1: none is kept, e.g. the tracer ran out of descriptors; one is
 * opened for this call).  When the process's main thread has ended (its descriptor
 * table left with it) the thread's own pidfd (PIDFD_THREAD, Linux >= 6.9) is tried.
 * Returns the new descriptor (O_CLOEXEC), or -1 with errno set: EBADF when the
 * tracee has no such descriptor; ENOSYS when the kernel cannot, which also turns
 * systrace_fd_usable() false for good.
 */
int systrace_fd_dup(int pidfd, pid_t tgid, pid_t tid, int fd);

/* False once the kernel said it cannot (or systrace_fd_disable() was called). */
bool systrace_fd_usable(void);

/* Behave as on a kernel without pidfd_getfd() (`bindtrace-sys --no-getfd`, for the
 * tests of the records without facts). */
void systrace_fd_disable(void);

#endif
