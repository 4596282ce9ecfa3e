/*
 * trace_sys.h: the tracer's own close() and getsockopt(), straight to the kernel.
 *
 * libbindtrace.so interposes close() and getsockopt() (bindtrace.c).  Called by
 * their libc names, the tracer's own calls (closing its trace file, reading a
 * socket's options for a record) would come back into those interposers, in the
 * middle of making a record.  These go to the kernel through syscall(2) instead,
 * in both tracers, so the code below bindtrace.c never calls back up into it.
 * Return value and errno as the libc calls give them.
 */
#ifndef TRACE_SYS_H
#define TRACE_SYS_H

#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

static inline int trace_sys_close(int fd)
{
	return (int)syscall(SYS_close, fd);
}

static inline int trace_sys_getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	return (int)syscall(SYS_getsockopt, fd, level, name, val, len);
}

#endif
