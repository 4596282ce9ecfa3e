/* systrace_mem.c: see systrace_mem.h. */
#include "systrace_mem.h"

#include <errno.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>

/* The slow way: one PTRACE_PEEKDATA per word, for a kernel without
 * process_vm_readv() (or a policy that refuses it). */
static int peek_read(pid_t tid, uint64_t addr, unsigned char *buf, size_t len)
{
	const size_t word = sizeof(long);
	uint64_t at = addr - addr % word;

	while (len > 0) {
		long val;
		size_t skip = (size_t)(addr - at), n = word - skip;

		errno = 0;
		val = ptrace(PTRACE_PEEKDATA, tid, (void *)(uintptr_t)at, NULL);
		if (val == -1 && errno)
			return -1;
		if (n > len)
			n = len;
		memcpy(buf, (unsigned char *)&val + skip, n);
		buf += n;
		len -= n;
		addr += n;
		at += word;
	}
	return 0;
}

int systrace_mem_read(pid_t tid, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = { .iov_base = buf, .iov_len = len };
	struct iovec remote = { .iov_base = (void *)(uintptr_t)addr, .iov_len = len };
	ssize_t n;

	if (len == 0)
		return 0;
	n = process_vm_readv(tid, &local, 1, &remote, 1, 0);
	if (n == (ssize_t)len)
		return 0;
	if (n >= 0 || errno == EFAULT) {
		errno = EFAULT;
		return -1;
	}
	if (peek_read(tid, addr, buf, len) < 0) {
		if (errno == EIO)
			errno = EFAULT;
		return -1;
	}
	return 0;
}
