/*
 * bindtrace_udp.c: libbindtrace.so's interposers of the calls besides bind and
 * connect where an address error hides (trace_udpcalls.h): setsockopt() (group
 * joins, multicast interface, freebind, bind-no-port, bind-to-device), sendto() and
 * sendmsg() with a chosen source.  The same rule as bindtrace.c: the program must
 * not be able to tell (return value and errno untouched, nothing allocated, no
 * lock; a call the tracer does not record costs one branch).
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>

#include "bindtrace.h"
#include "trace_udpcalls.h"

#define EXPORT __attribute__((visibility("default")))

typedef int (*setsockopt_fn)(int, int, int, const void *, socklen_t);
typedef ssize_t (*sendto_fn)(int, const void *, size_t, int, const struct sockaddr *,
			     socklen_t);
typedef ssize_t (*sendmsg_fn)(int, const struct msghdr *, int);

static struct {
	setsockopt_fn setsockopt;
	sendto_fn sendto;
	sendmsg_fn sendmsg;
} real;

static pthread_once_t once = PTHREAD_ONCE_INIT;

static void init(void)
{
	real.setsockopt = (setsockopt_fn)dlsym(RTLD_NEXT, "setsockopt");
	real.sendto = (sendto_fn)dlsym(RTLD_NEXT, "sendto");
	real.sendmsg = (sendmsg_fn)dlsym(RTLD_NEXT, "sendmsg");
}

/* The real functions found, errno kept; false when tracing is off. */
static bool ready(void)
{
	int saved = errno;
	bool on;

	pthread_once(&once, init);
	on = bindtrace_enabled();
	errno = saved;
	return on;
}

/* setsockopt(2), unchanged; the options of trace_udpcalls.h are recorded. */
EXPORT int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	int saved = errno, after, ret, err;
	int64_t t0, t1;
	struct trace_sockopt o;
	struct trace_caller c;
	bool on = ready();

	if (!real.setsockopt) {
		errno = ENOSYS;
		return -1;
	}
	if (!on || trace_sockopt_which(level, name) == TRACE_OPT_NONE) {
		errno = saved;
		return real.setsockopt(fd, level, name, val, len);
	}
	t0 = trace_now_ns();
	errno = saved;
	ret = real.setsockopt(fd, level, name, val, len);
	after = errno;
	t1 = trace_now_ns();
	err = ret < 0 ? after : 0;
	trace_sockopt_read(&o, level, name, val, len, err);
	c = bindtrace_caller();
	(void)trace_record_sockopt(&c, fd, fd, &o, err, t1 - t0);
	errno = after;
	return ret;
}

/* sendto(2), unchanged; a send with a destination from a socket bound to a
 * specific address is recorded. */
EXPORT ssize_t sendto(int fd, const void *buf, size_t n, int flags,
		      const struct sockaddr *addr, socklen_t alen)
{
	int saved = errno, after, err;
	int64_t t0, t1;
	ssize_t ret;
	struct trace_send s = { .call = "sendto" };
	struct trace_caller c;
	bool on = ready();

	if (!real.sendto) {
		errno = ENOSYS;
		return -1;
	}
	if (!on || !addr) {	/* send() and a connected socket's sendto() */
		errno = saved;
		return real.sendto(fd, buf, n, flags, addr, alen);
	}
	t0 = trace_now_ns();
	errno = saved;
	ret = real.sendto(fd, buf, n, flags, addr, alen);
	after = errno;
	t1 = trace_now_ns();
	err = ret < 0 ? after : 0;
	trace_send_dest(&s, addr, alen, err);
	c = bindtrace_caller();
	(void)trace_record_send(&c, fd, fd, &s, err, t1 - t0);
	errno = after;
	return ret;
}

/* sendmsg(2), unchanged; one with a PKTINFO source, or with a destination from a
 * socket bound to a specific address, is recorded. */
EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	int saved = errno, after, err;
	int64_t t0, t1;
	ssize_t ret;
	struct trace_send s = { .call = "sendmsg" };
	struct trace_caller c;
	bool on = ready();

	if (!real.sendmsg) {
		errno = ENOSYS;
		return -1;
	}
	if (!on || !msg || (!msg->msg_name && !msg->msg_control)) {
		errno = saved;
		return real.sendmsg(fd, msg, flags);
	}
	t0 = trace_now_ns();
	errno = saved;
	ret = real.sendmsg(fd, msg, flags);
	after = errno;
	t1 = trace_now_ns();
	err = ret < 0 ? after : 0;
	if (err != EFAULT && err != EBADF && err != ENOTSOCK) {
		trace_send_dest(&s, msg->msg_name, msg->msg_namelen, err);
		/* a length the kernel refuses before it copies (ENOBUFS) is not read */
		if (msg->msg_controllen <= TRACE_CONTROL_MAX)
			trace_send_cmsgs(&s, msg->msg_control, msg->msg_controllen);
		c = bindtrace_caller();
		(void)trace_record_send(&c, fd, fd, &s, err, t1 - t0);
	}
	errno = after;
	return ret;
}
