/*
 * systrace_udp.h: bindtrace-sys's side of trace_udpcalls.h: setsockopt() of the
 * options recorded, sendto() with a destination (the seccomp filter stops only
 * those) and sendmsg().  The arguments the kernel read are read again from the
 * tracee's memory at the call's exit, where they are as the program left them.
 */
#ifndef SYSTRACE_UDP_H
#define SYSTRACE_UDP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "systrace_table.h"
#include "trace_record.h"

/* True when the call @nr with @args of the entry stop is one of these and its
 * exit must be seen. */
bool systrace_udp_wanted(int nr, const uint64_t args[6]);

/* The destination @t's sendto() (@msg NULL) or sendmsg() (@msg: its msghdr, read
 * already) gave, read from the program's memory into @dest: true when there is one
 * and it could be read; *@len is the length the program gave either way. */
bool systrace_send_dest(const struct systrace_thread *t, const struct msghdr *msg,
			struct sockaddr_storage *dest, socklen_t *len);

/* The record of @t's call (systrace_udp_wanted()), ended with @err after
 * @elapsed_ns, on the socket @fd asked through @qfd, by caller @c. */
void systrace_udp_record(struct systrace_thread *t, const struct trace_caller *c, int fd,
			 int qfd, int err, int64_t elapsed_ns);

#endif
