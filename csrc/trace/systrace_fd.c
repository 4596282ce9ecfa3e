/* systrace_fd.c: see systrace_fd.h. */
#include "systrace_fd.h"

#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef PIDFD_THREAD
#define PIDFD_THREAD 0x80	/* O_EXCL: a pidfd of one thread (Linux 6.9) */
#endif

static bool usable = true;

int systrace_pidfd_open(pid_t tgid)
{
	if (!usable) {
		errno = ENOSYS;
		return -1;
	}
	return (int)syscall(SYS_pidfd_open, tgid, 0);
}

/* pidfd_getfd() of @fd through @pidfd, marking the kernel unable on ENOSYS. */
static int getfd(int pidfd, int fd)
{
	int dup = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);

	if (dup < 0 && errno == ENOSYS)
		usable = false;
	return dup;
}

/* A duplicate of @fd through a pidfd of @pid opened for it (@flags: 0 or
 * PIDFD_THREAD) and closed again.  -1 with errno set. */
static int getfd_once(pid_t pid, unsigned flags, int fd)
{
	int pidfd = (int)syscall(SYS_pidfd_open, pid, flags), dup, saved;

	if (pidfd < 0)
		return -1;
	dup = getfd(pidfd, fd);
	saved = errno;
	close(pidfd);
	errno = saved;
	return dup;
}

int systrace_fd_dup(int pidfd, pid_t tgid, pid_t tid, int fd)
{
	int dup;

	if (!usable) {
		errno = ENOSYS;
		return -1;
	}
	dup = pidfd >= 0 ? getfd(pidfd, fd) : getfd_once(tgid, 0, fd);
	if (dup >= 0 || errno != EBADF || tid == tgid)
		return dup;
	/* the main thread may be gone, and its descriptor table with it */
	dup = getfd_once(tid, PIDFD_THREAD, fd);
	if (dup < 0 && errno != ENOSYS)
		errno = EBADF;
	return dup;
}

bool systrace_fd_usable(void)
{
	return usable;
}

void systrace_fd_disable(void)
{
	usable = false;
}
