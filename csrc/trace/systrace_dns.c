/* systrace_dns.c: see systrace_dns.h. */
#include "systrace_dns.h"

#include <netinet/in.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "lib/dnsmsg.h"
#include "systrace_fd.h"
#include "systrace_mem.h"
#include "systrace_udp.h"
#include "trace_addr.h"
#include "trace_sock.h"

/* The resolver's files, longest first (a shorter read is tried when a long one
 * would cross into unreadable memory). */
static const char *const FILES[] = { "/etc/nsswitch.conf", "/etc/resolv.conf",
				     "/etc/gai.conf", "/etc/hosts" };
#define NFILES (sizeof(FILES) / sizeof(FILES[0]))
/* The most of one answer read (a UDP answer with EDNS is at most a few KiB). */
#define ANSWER_MAX 4096

/* The index + 1 in FILES of the path at @addr of @tid, 0 for another path: one
 * read of the program's memory for any open, more only near the end of it. */
static int file_of(pid_t tid, uint64_t addr)
{
	char path[24];
	size_t i, got = 0;

	for (i = 0; i < NFILES; i++) {
		size_t len = strlen(FILES[i]) + 1;

		/* one read of the longest name serves every shorter one */
		if (got < len) {
			if (systrace_mem_read(tid, addr, path, len) < 0)
				continue;	/* too near the end of its memory: a shorter one */
			got = len;
		}
		if (memcmp(path, FILES[i], len) == 0)
			return (int)i + 1;
	}
	return 0;
}

static bool is_dns_fd(const struct systrace_proc *p, int fd)
{
	size_t i;

	for (i = 0; i < p->ndns; i++)
		if (p->dns_fds[i] == fd)
			return true;
	return false;
}

bool systrace_dns_wanted(struct systrace_thread *t, int nr, const uint64_t args[6])
{
	switch (nr) {
	case SYS_open:
		t->call.file = args[0] ? file_of(t->tid, args[0]) : 0;
		return t->call.file != 0;
	case SYS_openat:
		t->call.file = args[1] ? file_of(t->tid, args[1]) : 0;
		return t->call.file != 0;
	case SYS_read:
	case SYS_recvfrom:
	case SYS_recvmsg:
		return is_dns_fd(t->proc, (int)args[0]);
	default:
		return false;
	}
}

void systrace_dns_note(struct systrace_thread *t, int fd, const struct sockaddr *dest)
{
	struct systrace_proc *p = t->proc;

	if (!dest || !trace_is_ip(dest->sa_family) || trace_addr_port(dest) != 53 ||
	    is_dns_fd(p, fd))
		return;
	if (p->ndns == SYSTRACE_DNS_FDS)	/* the oldest goes */
		memmove(p->dns_fds, p->dns_fds + 1, sizeof(int) * --p->ndns);
	p->dns_fds[p->ndns++] = fd;
}

void systrace_dns_note_send(struct systrace_thread *t)
{
	struct sockaddr_storage dest;
	struct msghdr msg;
	socklen_t len;

	if (t->call.nr == SYS_sendmsg &&
	    systrace_mem_read(t->tid, t->call.args[1], &msg, sizeof(msg)) < 0)
		return;
	memset(&dest, 0, sizeof(dest));
	if (systrace_send_dest(t, t->call.nr == SYS_sendmsg ? &msg : NULL, &dest, &len))
		systrace_dns_note(t, (int)t->call.args[0], (const struct sockaddr *)&dest);
}

void systrace_dns_forget(struct systrace_proc *p, int fd)
{
	size_t i;

	for (i = 0; i < p->ndns; i++) {
		if (p->dns_fds[i] == fd) {
			memmove(p->dns_fds + i, p->dns_fds + i + 1,
				sizeof(int) * (p->ndns - i - 1));
			p->ndns--;
			return;
		}
	}
}

/* Where @t's read/recvfrom/recvmsg put its @ret bytes: address and length. */
static bool buffer_of(struct systrace_thread *t, int64_t ret, uint64_t *addr, size_t *len)
{
	const uint64_t *a = t->call.args;
	struct msghdr msg;
	struct iovec iov;

	if (t->call.nr != SYS_recvmsg) {
		*addr = a[1];
		*len = (size_t)ret;
		return true;
	}
	if (systrace_mem_read(t->tid, a[1], &msg, sizeof(msg)) < 0 || !msg.msg_iov ||
	    msg.msg_iovlen < 1 ||
	    systrace_mem_read(t->tid, (uint64_t)(uintptr_t)msg.msg_iov, &iov, sizeof(iov)) < 0)
		return false;
	*addr = (uint64_t)(uintptr_t)iov.iov_base;
	*len = (size_t)ret < iov.iov_len ? (size_t)ret : iov.iov_len;	/* the first iovec */
	return true;
}

/* The answer @t read: parsed and recorded (nothing for what is not one). */
static void record_answer(struct systrace_thread *t, const struct trace_caller *c, int64_t ret)
{
	static unsigned char buf[ANSWER_MAX];
	struct sockaddr_storage server;
	struct dns_answer a;
	uint64_t addr;
	size_t len, skip = 0;
	int fd = (int)t->call.args[0], proto = -1, qfd;
	bool have_server = false;

	if (ret < 12 || !buffer_of(t, ret, &addr, &len))
		return;
	if (len > sizeof(buf))
		len = sizeof(buf);
	if (systrace_mem_read(t->tid, addr, buf, len) < 0)
		return;
	qfd = systrace_fd_dup(t->proc->pidfd, t->proc->tgid, t->tid, fd);
	if (qfd >= 0) {
		socklen_t slen = sizeof(server);

		proto = trace_sockopt_int(qfd, SOL_SOCKET, SO_PROTOCOL);
		have_server = getpeername(qfd, (struct sockaddr *)&server, &slen) == 0;
		close(qfd);
	}
	/* over TCP, a read that starts with the two length bytes */
	if (proto == IPPROTO_TCP && len >= 14 && ((size_t)buf[0] << 8 | buf[1]) == len - 2)
		skip = 2;
	if (dns_answer_parse(buf + skip, len - skip, &a) < 0)
		return;
	if (!have_server && t->call.nr == SYS_recvfrom && t->call.args[4] && t->call.args[5]) {
		uint32_t slen;

		memset(&server, 0, sizeof(server));
		have_server = systrace_mem_read(t->tid, t->call.args[5], &slen, sizeof(slen)) == 0 &&
			      slen >= sizeof(sa_family_t) && slen <= sizeof(server) &&
			      systrace_mem_read(t->tid, t->call.args[4], &server, slen) == 0;
	}
	trace_record_dns(c, fd, proto, have_server ? (struct sockaddr *)&server : NULL, &a);
}

void systrace_dns_record(struct systrace_thread *t, const struct trace_caller *c, int64_t ret,
			 int err, int64_t elapsed_ns)
{
	switch (t->call.nr) {
	case SYS_open:
	case SYS_openat:
		if (t->call.file > 0 && (size_t)t->call.file <= NFILES)
			trace_record_resolver_file(c, t->call.nr == SYS_open ? "open" : "openat",
						   FILES[t->call.file - 1], (int)ret, err,
						   elapsed_ns);
		break;
	default:
		if (!err)
			record_answer(t, c, ret);
		break;
	}
}
