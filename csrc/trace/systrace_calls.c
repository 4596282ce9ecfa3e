/* systrace_calls.c: see systrace_calls.h. */
#include "systrace_calls.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "systrace_dns.h"
#include "systrace_fd.h"
#include "systrace_mem.h"
#include "systrace_udp.h"
#include "trace_record.h"
#include "trace_sock.h"

/* The kernel's internal restart codes: a signal interrupted the call, which the
 * program never sees as such (include/linux/errno.h). */
#define ERESTARTSYS 512
#define ERESTARTNOINTR 513
#define ERESTARTNOHAND 514
#define ERESTART_RESTARTBLOCK 516

static struct {
	char host[65];
	bool options;
} conf;

void systrace_calls_init(const char *host, bool options)
{
	snprintf(conf.host, sizeof(conf.host), "%s", host);
	conf.options = options;
}

/* The thread @t as the records name it. */
static struct trace_caller caller(const struct systrace_thread *t)
{
	return (struct trace_caller){ .host = conf.host, .prog = t->proc->prog,
				      .tracer = "syscall", .pid = t->proc->tgid, .tid = t->tid,
				      .no_facts = !systrace_fd_usable() };
}

/* A duplicate of descriptor @fd of @t's process, -1 when there is none. */
static int dup_of(const struct systrace_thread *t, int fd)
{
	return systrace_fd_dup(t->proc->pidfd, t->proc->tgid, t->tid, fd);
}

/* Closes the duplicate @qfd (nothing for -1). */
static void dup_close(int qfd)
{
	if (qfd >= 0)
		close(qfd);
}

/* True when a descriptor of the tracee cannot be asked although the kernel could:
 * the descriptor is not open (the call itself fails with EBADF). */
static bool dup_missing(int qfd)
{
	return qfd < 0 && systrace_fd_usable();
}

/* The socket address argument (pointer @addr, length @len) of @t's call, read from
 * its memory into the call state. */
static void read_addr(struct systrace_thread *t, uint64_t addr, uint64_t len)
{
	struct systrace_call *call = &t->call;

	memset(&call->addr, 0, sizeof(call->addr));
	call->have_addr = addr && len >= sizeof(sa_family_t) && len <= sizeof(call->addr) &&
			  systrace_mem_read(t->tid, addr, &call->addr, (size_t)len) == 0;
}

/* The address of the call, when the kernel read it too (trace_addr_usable()). */
static const struct sockaddr *call_addr(const struct systrace_call *call, int err)
{
	if (!call->have_addr ||
	    !trace_addr_usable((const void *)(uintptr_t)call->args[1], (socklen_t)call->args[2],
			       err))
		return NULL;
	return (const struct sockaddr *)&call->addr;
}

/* connect() entry: the socket's address before the call.  False when the socket
 * is not an IP socket (or not open): nothing to record, as in libbindtrace.so. */
static bool enter_connect(struct systrace_thread *t, int fd)
{
	struct systrace_call *call = &t->call;
	int qfd = dup_of(t, fd);

	call->have_before = false;
	if (qfd >= 0) {
		call->have_before = trace_local_addr(qfd, &call->before);
		dup_close(qfd);
		if (!call->have_before)
			return false;
	} else if (dup_missing(qfd)) {
		return false;
	}
	read_addr(t, call->args[1], call->args[2]);
	return true;
}

/* close() entry: only a socket whose connect is still under way is recorded.
 * Takes that connect out of the table either way. */
static bool enter_close(struct systrace_thread *t, int fd)
{
	struct systrace_call *call = &t->call;
	struct systrace_pending *p = systrace_pending_find(t->proc, fd);
	enum trace_pending_state st;
	int qfd;

	systrace_dns_forget(t->proc, fd);
	if (!p)
		return false;
	qfd = dup_of(t, fd);
	/* without facts nothing says it ended: the record says so */
	st = systrace_fd_usable() ? trace_pending_state(qfd, p->c.ino, -1) : TRACE_UNDER_WAY;
	call->closing = p->c;
	call->have_local = trace_local_addr(qfd, &call->local);
	dup_close(qfd);
	systrace_pending_drop(t->proc, fd);
	return st == TRACE_UNDER_WAY;
}

/* True when @nr/@args are the call @t was in when the kernel interrupted it: the
 * restart. */
static bool is_restart(const struct systrace_thread *t, int nr, const uint64_t args[6])
{
	return t->in_call && t->call.interrupted && t->call.nr == nr &&
	       memcmp(t->call.args, args, sizeof(t->call.args)) == 0;
}

bool systrace_call_enter(struct systrace_thread *t, int nr, const uint64_t args[6])
{
	struct systrace_call *call = &t->call;
	int fd = (int)args[0];
	bool seen;

	if (is_restart(t, nr, args)) {
		call->interrupted = false;	/* the same call goes on */
		return true;
	}
	systrace_call_flush(t);
	memset(call, 0, sizeof(*call));
	call->nr = nr;
	memcpy(call->args, args, sizeof(call->args));
	switch (nr) {
	case SYS_bind:
		read_addr(t, args[1], args[2]);
		seen = true;
		break;
	case SYS_connect:
		seen = enter_connect(t, fd);
		break;
	case SYS_getsockopt:	/* the filter stops only SOL_SOCKET/SO_ERROR */
		seen = systrace_pending_find(t->proc, fd) != NULL;
		break;
	case SYS_close:
		seen = enter_close(t, fd);
		break;
	case SYS_listen:
	case SYS_accept:
	case SYS_accept4:
		seen = true;
		break;
	case SYS_open:
	case SYS_openat:
	case SYS_read:
	case SYS_recvfrom:
	case SYS_recvmsg:
		seen = systrace_dns_wanted(t, nr, args);
		break;
	default:	/* setsockopt, sendto, sendmsg: systrace_udp.h */
		seen = systrace_udp_wanted(nr, args);
		break;
	}
	call->start_ns = trace_now_ns();
	t->in_call = seen;
	return seen;
}

/* The records of a bind(). */
static void exit_bind(struct systrace_thread *t, int fd, int err, int64_t elapsed)
{
	struct trace_caller c = caller(t);
	int qfd = dup_of(t, fd);

	if (!dup_missing(qfd) &&
	    trace_record_bind(&c, fd, qfd, call_addr(&t->call, err), conf.options, err, elapsed))
		systrace_pending_drop(t->proc, fd);
	dup_close(qfd);
}

/* The records of a connect(), and what becomes of a connect under way. */
static void exit_connect(struct systrace_thread *t, int fd, int err, int64_t end_ns)
{
	struct systrace_call *call = &t->call;
	struct trace_caller c = caller(t);
	struct trace_connecting arm;
	int qfd = dup_of(t, fd);

	if (dup_missing(qfd))
		return;
	if (!err || err == EINPROGRESS)
		systrace_dns_note(t, fd, call_addr(call, err));
	switch (trace_record_connect(&c, fd, qfd, call_addr(call, err),
				     call->have_before ? &call->before : NULL, err,
				     call->start_ns, end_ns, &arm)) {
	case TRACE_ARM:
		(void)systrace_pending_set(t->proc, fd, &arm);	/* ENOMEM: no done record */
		break;
	case TRACE_FORGET:
		systrace_pending_drop(t->proc, fd);
		break;
	case TRACE_KEEP:
		break;
	}
	dup_close(qfd);
}

/* The records of a listen(). */
static void exit_listen(struct systrace_thread *t, int fd, int err, int64_t elapsed)
{
	struct trace_caller c = caller(t);
	int qfd = dup_of(t, fd);

	if (!dup_missing(qfd) &&
	    trace_record_listen(&c, fd, qfd, (int)t->call.args[1], err, elapsed))
		systrace_pending_drop(t->proc, fd);
	dup_close(qfd);
}

/* The records of an accept() or accept4() that returned @ret. */
static void exit_accept(struct systrace_thread *t, int fd, int ret, int err, int64_t elapsed)
{
	struct trace_caller c = caller(t);
	int qfd = dup_of(t, fd), newqfd = ret >= 0 ? dup_of(t, ret) : -1;
	const char *call = t->call.nr == SYS_accept4 ? "accept4" : "accept";

	if (!dup_missing(qfd) &&
	    trace_record_accept(&c, fd, qfd, call, ret, newqfd, err, elapsed))
		systrace_pending_drop(t->proc, ret);
	dup_close(qfd);
	dup_close(newqfd);
}

/* getsockopt(SO_ERROR) returned 0: the value the kernel wrote is how the connect
 * under way on @fd ended (or that it still is). */
static void exit_so_error(struct systrace_thread *t, int fd)
{
	struct systrace_call *call = &t->call;
	struct systrace_pending *p = systrace_pending_find(t->proc, fd);
	struct trace_caller c = caller(t);
	enum trace_pending_state st;
	uint32_t len;
	int soerr, qfd;

	/* as libbindtrace.so: a value there, at least an int long */
	if (!p || !call->args[3] || !call->args[4] ||
	    systrace_mem_read(t->tid, call->args[4], &len, sizeof(len)) < 0 ||
	    len < sizeof(int) ||
	    systrace_mem_read(t->tid, call->args[3], &soerr, sizeof(soerr)) < 0)
		return;
	qfd = dup_of(t, fd);
	st = systrace_fd_usable() ? trace_pending_state(qfd, p->c.ino, soerr) : TRACE_SETTLED;
	if (st == TRACE_SETTLED)
		trace_record_done(&c, fd, qfd, &p->c, soerr);
	if (st != TRACE_UNDER_WAY)
		systrace_pending_drop(t->proc, fd);
	dup_close(qfd);
}

/* The record of a close() that gave up a connect under way. */
static void exit_close(struct systrace_thread *t, int fd, int err)
{
	struct systrace_call *call = &t->call;
	struct trace_caller c = caller(t);

	trace_record_close(&c, fd, &call->closing, call->have_local ? &call->local : NULL, err);
}

/* The record of a setsockopt(), sendto() or sendmsg() (systrace_udp.h). */
static void exit_udp(struct systrace_thread *t, int fd, int err, int64_t elapsed)
{
	struct trace_caller c = caller(t);
	int qfd = dup_of(t, fd);

	if (!dup_missing(qfd))
		systrace_udp_record(t, &c, fd, qfd, err, elapsed);
	dup_close(qfd);
	if (!err && (t->call.nr == SYS_sendto || t->call.nr == SYS_sendmsg))
		systrace_dns_note_send(t);
}

/* Writes the record of @t's call, ended with @ret / @err at @end_ns. */
static void record_call(struct systrace_thread *t, int64_t ret, int err, int64_t end_ns)
{
	struct systrace_call *call = &t->call;
	int fd = (int)call->args[0];
	int64_t elapsed = end_ns - call->start_ns;

	switch (call->nr) {
	case SYS_bind:
		exit_bind(t, fd, err, elapsed);
		break;
	case SYS_connect:
		exit_connect(t, fd, err, end_ns);
		break;
	case SYS_listen:
		exit_listen(t, fd, err, elapsed);
		break;
	case SYS_accept:
	case SYS_accept4:
		exit_accept(t, fd, (int)ret, err, elapsed);
		break;
	case SYS_getsockopt:
		if (ret == 0)
			exit_so_error(t, fd);
		break;
	case SYS_close:
		exit_close(t, fd, err);
		break;
	case SYS_open:
	case SYS_openat:
	case SYS_read:
	case SYS_recvfrom:
	case SYS_recvmsg: {
		struct trace_caller c = caller(t);

		systrace_dns_record(t, &c, ret, err, elapsed);
		break;
	}
	default:
		exit_udp(t, fd, err, elapsed);
		break;
	}
}

void systrace_call_exit(struct systrace_thread *t, int64_t rval, bool is_error)
{
	int err = is_error ? (int)-rval : 0;

	if (!t->in_call)
		return;
	if (err == ERESTARTSYS || err == ERESTARTNOINTR || err == ERESTARTNOHAND ||
	    err == ERESTART_RESTARTBLOCK) {
		t->call.interrupted = true;
		t->call.end_ns = trace_now_ns();
		return;
	}
	t->in_call = false;
	record_call(t, is_error ? -1 : rval, err, trace_now_ns());
}

void systrace_call_flush(struct systrace_thread *t)
{
	if (t->in_call && t->call.interrupted) {
		t->in_call = false;
		record_call(t, -1, EINTR, t->call.end_ns);
	}
	t->in_call = false;
}
