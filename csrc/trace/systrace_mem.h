/* systrace_mem.h: reading a stopped tracee's memory (the addresses it passes). */
#ifndef SYSTRACE_MEM_H
#define SYSTRACE_MEM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * Copies @len bytes at address @addr of thread @tid (a tracee in a ptrace stop)
 * into @buf: process_vm_readv(), or word by word with PTRACE_PEEKDATA where that
 * is not allowed or not built.  Returns 0, or -1 with errno set (EFAULT: the
 * memory is not all readable).  Never writes to the tracee.
 */
int systrace_mem_read(pid_t tid, uint64_t addr, void *buf, size_t len);

#endif
