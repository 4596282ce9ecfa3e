/* systrace_udp.c: see systrace_udp.h. */
#include "systrace_udp.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "systrace_mem.h"
#include "trace_udpcalls.h"

bool systrace_udp_wanted(int nr, const uint64_t args[6])
{
	switch (nr) {
	case SYS_setsockopt:
		return trace_sockopt_which((int)args[1], (int)args[2]) != TRACE_OPT_NONE;
	case SYS_sendto:
		return args[4] != 0;
	case SYS_sendmsg:
		return args[1] != 0;
	default:
		return false;
	}
}

/* setsockopt(fd, level, name, val, len): the value, read as the kernel read it. */
static void record_sockopt(struct systrace_thread *t, const struct trace_caller *c, int fd,
			   int qfd, int err, int64_t elapsed)
{
	const uint64_t *a = t->call.args;
	unsigned char val[TRACE_OPTVAL_MAX];
	socklen_t len = (socklen_t)a[4];
	struct trace_sockopt o;
	bool have = a[3] && len <= sizeof(val) &&
		    systrace_mem_read(t->tid, a[3], val, len) == 0;

	trace_sockopt_read(&o, (int)a[1], (int)a[2], have ? val : NULL, len, err);
	(void)trace_record_sockopt(c, fd, qfd, &o, err, elapsed);
}

bool systrace_send_dest(const struct systrace_thread *t, const struct msghdr *msg,
			struct sockaddr_storage *dest, socklen_t *len)
{
	uint64_t name = msg ? (uint64_t)(uintptr_t)msg->msg_name : t->call.args[4];

	*len = msg ? msg->msg_namelen : (socklen_t)t->call.args[5];
	return name && *len >= sizeof(sa_family_t) && *len <= sizeof(*dest) &&
	       systrace_mem_read(t->tid, name, dest, *len) == 0;
}

/* sendto(fd, buf, n, flags, addr, alen): the destination. */
static void record_sendto(struct systrace_thread *t, const struct trace_caller *c, int fd,
			  int qfd, int err, int64_t elapsed)
{
	struct sockaddr_storage dest;
	socklen_t len;
	struct trace_send s = { .call = "sendto" };
	bool have = systrace_send_dest(t, NULL, &dest, &len);

	trace_send_dest(&s, have ? (const void *)&dest : NULL, len, err);
	(void)trace_record_send(c, fd, qfd, &s, err, elapsed);
}

/* sendmsg(fd, msg, flags): its msghdr, destination and control data. */
static void record_sendmsg(struct systrace_thread *t, const struct trace_caller *c, int fd,
			   int qfd, int err, int64_t elapsed)
{
	struct msghdr msg;
	struct sockaddr_storage dest;
	unsigned char control[TRACE_CONTROL_MAX];
	struct trace_send s = { .call = "sendmsg" };
	socklen_t len;
	bool have_dest, have_control;

	if (systrace_mem_read(t->tid, t->call.args[1], &msg, sizeof(msg)) < 0 ||
	    (!msg.msg_name && !msg.msg_control))
		return;
	have_dest = systrace_send_dest(t, &msg, &dest, &len);
	have_control = msg.msg_control && msg.msg_controllen <= sizeof(control) &&
		       systrace_mem_read(t->tid, (uint64_t)(uintptr_t)msg.msg_control,
					 control, msg.msg_controllen) == 0;
	trace_send_dest(&s, have_dest ? (const void *)&dest : NULL, len, err);
	if (have_control)
		trace_send_cmsgs(&s, control, msg.msg_controllen);
	(void)trace_record_send(c, fd, qfd, &s, err, elapsed);
}

void systrace_udp_record(struct systrace_thread *t, const struct trace_caller *c, int fd,
			 int qfd, int err, int64_t elapsed_ns)
{
	if (err == EFAULT || err == EBADF || err == ENOTSOCK)
		return;		/* the kernel read nothing (as libbindtrace.so) */
	switch (t->call.nr) {
	case SYS_setsockopt:
		record_sockopt(t, c, fd, qfd, err, elapsed_ns);
		break;
	case SYS_sendto:
		record_sendto(t, c, fd, qfd, err, elapsed_ns);
		break;
	case SYS_sendmsg:
		record_sendmsg(t, c, fd, qfd, err, elapsed_ns);
		break;
	default:
		break;
	}
}
