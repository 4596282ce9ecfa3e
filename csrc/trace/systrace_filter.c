/* systrace_filter.c: see systrace_filter.h. */
#include "systrace_filter.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
#define NATIVE_ARCH AUDIT_ARCH_X86_64
#define X32_SYSCALL_BIT 0x40000000u
#else
#error "bindtrace-sys: only x86_64 is done (add its AUDIT_ARCH and test it)"
#endif

#ifndef SECCOMP_FILTER_FLAG_SPEC_ALLOW
#define SECCOMP_FILTER_FLAG_SPEC_ALLOW (1UL << 2)
#endif

/* The low 32 bits of argument @i (the int arguments the kernel reads). */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define ARG_LO(i) (offsetof(struct seccomp_data, args) + 8 * (i))
#define ARG_HI(i) (offsetof(struct seccomp_data, args) + 8 * (i) + 4)
#else
#define ARG_LO(i) (offsetof(struct seccomp_data, args) + 8 * (i) + 4)
#define ARG_HI(i) (offsetof(struct seccomp_data, args) + 8 * (i))
#endif

/* The program, instruction by instruction; a jump names its target by index. */
enum {
	I_ARCH, I_IS_NATIVE, I_NR, I_X32, I_BIND, I_CONNECT, I_LISTEN, I_ACCEPT,
	I_ACCEPT4, I_CLOSE, I_SETSOCKOPT, I_SENDMSG, I_OPEN, I_OPENAT, I_READ, I_RECVFROM,
	I_RECVMSG, I_GETSOCKOPT, I_LEVEL, I_IS_SOL_SOCKET,
	I_NAME, I_IS_SO_ERROR, I_SENDTO, I_DEST_LO, I_IS_DEST_LO, I_DEST_HI, I_IS_DEST_HI,
	I_ALLOW, I_TRACE, I_COUNT
};

/* The jump offset from instruction @from to instruction @to. */
#define TO(from, to) ((unsigned char)((to) - (from) - 1))
#define LOAD(off) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (off))
/* At @at: the accumulator == @k goes to @yes, else to @no. */
#define IF_EQ(at, k, yes, no) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (k), TO(at, yes), TO(at, no))
#define TRACE_IF_NR(at, nr) IF_EQ(at, nr, I_TRACE, (at) + 1)

int systrace_filter_install(void)
{
	static const struct sock_filter code[I_COUNT] = {
		[I_ARCH] = LOAD(offsetof(struct seccomp_data, arch)),
		[I_IS_NATIVE] = IF_EQ(I_IS_NATIVE, NATIVE_ARCH, I_NR, I_ALLOW),
		[I_NR] = LOAD(offsetof(struct seccomp_data, nr)),
		[I_X32] = BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, X32_SYSCALL_BIT,
				   TO(I_X32, I_ALLOW), TO(I_X32, I_BIND)),
		[I_BIND] = TRACE_IF_NR(I_BIND, SYS_bind),
		[I_CONNECT] = TRACE_IF_NR(I_CONNECT, SYS_connect),
		[I_LISTEN] = TRACE_IF_NR(I_LISTEN, SYS_listen),
		[I_ACCEPT] = TRACE_IF_NR(I_ACCEPT, SYS_accept),
		[I_ACCEPT4] = TRACE_IF_NR(I_ACCEPT4, SYS_accept4),
		[I_CLOSE] = TRACE_IF_NR(I_CLOSE, SYS_close),
		/* systrace_udp.h: every setsockopt and sendmsg, a sendto with an address */
		[I_SETSOCKOPT] = TRACE_IF_NR(I_SETSOCKOPT, SYS_setsockopt),
		[I_SENDMSG] = TRACE_IF_NR(I_SENDMSG, SYS_sendmsg),
		/* systrace_dns.h: the resolver's files and DNS answers */
		[I_OPEN] = TRACE_IF_NR(I_OPEN, SYS_open),
		[I_OPENAT] = TRACE_IF_NR(I_OPENAT, SYS_openat),
		[I_READ] = TRACE_IF_NR(I_READ, SYS_read),
		[I_RECVFROM] = TRACE_IF_NR(I_RECVFROM, SYS_recvfrom),
		[I_RECVMSG] = TRACE_IF_NR(I_RECVMSG, SYS_recvmsg),
		[I_GETSOCKOPT] = IF_EQ(I_GETSOCKOPT, SYS_getsockopt, I_LEVEL, I_SENDTO),
		[I_LEVEL] = LOAD(ARG_LO(1)),
		[I_IS_SOL_SOCKET] = IF_EQ(I_IS_SOL_SOCKET, SOL_SOCKET, I_NAME, I_ALLOW),
		[I_NAME] = LOAD(ARG_LO(2)),
		[I_IS_SO_ERROR] = IF_EQ(I_IS_SO_ERROR, SO_ERROR, I_TRACE, I_ALLOW),
		[I_SENDTO] = IF_EQ(I_SENDTO, SYS_sendto, I_DEST_LO, I_ALLOW),
		[I_DEST_LO] = LOAD(ARG_LO(4)),
		[I_IS_DEST_LO] = IF_EQ(I_IS_DEST_LO, 0, I_DEST_HI, I_TRACE),
		[I_DEST_HI] = LOAD(ARG_HI(4)),
		[I_IS_DEST_HI] = IF_EQ(I_IS_DEST_HI, 0, I_ALLOW, I_TRACE),
		[I_ALLOW] = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		[I_TRACE] = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE),
	};
	struct sock_fprog prog = { .len = I_COUNT, .filter = (struct sock_filter *)code };
	int tries;

	for (tries = 0; tries < 2; tries++) {
		if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_SPEC_ALLOW,
			    &prog) == 0)
			return 0;
		/* a kernel without the flag (before 4.17) */
		if (errno == EINVAL &&
		    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) == 0)
			return 0;
		if (errno != EACCES || tries > 0)
			return -1;
		/* not privileged: the kernel wants no_new_privs first */
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
			return -1;
	}
	return -1;
}
