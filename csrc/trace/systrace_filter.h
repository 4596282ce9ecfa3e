/*
 * systrace_filter.h: the seccomp-bpf filter of bindtrace-sys, so that only the
 * socket calls stop the traced program (the way `strace --seccomp-bpf` works).
 *
 * SECCOMP_RET_TRACE (a PTRACE_EVENT_SECCOMP stop at the call's entry) for bind,
 * connect, listen, accept, accept4, close, and getsockopt(SOL_SOCKET, SO_ERROR);
 * setsockopt, sendmsg and a sendto with an address (systrace_udp.h); open, openat,
 * read, recvfrom and recvmsg, the resolver's calls (systrace_dns.h: most of them
 * run on at once, from the entry stop);
 * SECCOMP_RET_ALLOW for everything else, decided in the kernel without a stop.  The
 * native ABI only (x86_64; built elsewhere it needs an AUDIT_ARCH here): a 32-bit
 * program's socketcall() and the x32 ABI are allowed untraced.  The filter is
 * inherited by every child and kept across execve(), which is how forks, clones and
 * execs stay traced.
 */
#ifndef SYSTRACE_FILTER_H
#define SYSTRACE_FILTER_H

/*
 * Installs the filter in the calling process (the child, between fork and exec,
 * once its tracer is attached: a traced call without a tracer fails with ENOSYS).
 * Without CAP_SYS_ADMIN the kernel needs no_new_privs first, and then it is set;
 * with it, it is not (it would change what a setuid program can do).  Asks the
 * kernel not to force the speculative-store-bypass mitigation on the program
 * (SECCOMP_FILTER_FLAG_SPEC_ALLOW), which would make it slower.  Returns 0, or -1
 * with errno set.
 */
int systrace_filter_install(void);

#endif
