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

int systrace_fd_dup(int pidfd, pid_t tid, int fd)
{
	int dup, tfd, saved;

	if (!usable || pidfd < 0) {
		errno = usable ? EBADF : ENOSYS;
		return -1;
	}
	dup = getfd(pidfd, fd);
	if (dup >= 0 || errno != EBADF)
		return dup;
	/* the main thread may be gone, and its descriptor table with it */
	tfd = (int)syscall(SYS_pidfd_open, tid, PIDFD_THREAD);
	if (tfd < 0) {
		errno = EBADF;
		return -1;
	}
	dup = getfd(tfd, fd);
	saved = errno;
	close(tfd);
	errno = saved;
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
