/*
 * systrace_dns.h: what bindtrace-sys sees of a program's name resolution, where
 * libbindtrace.so's getaddrinfo() record cannot be (a static Go or musl program
 * resolves without libc's getaddrinfo, or without libc at all).
 *
 * - The resolver's files it opens (open/openat of /etc/hosts, /etc/resolv.conf,
 *   /etc/gai.conf, /etc/nsswitch.conf): one "resolver-file" record each.
 * - Its DNS answers: a socket the program connected to port 53, or sent to port 53
 *   from, is a DNS socket of its process until closed; what it then reads from one
 *   (read, recvfrom, recvmsg) is parsed as a DNS answer (lib/dnsmsg.h: hostile
 *   input, bounds-checked; over TCP the two length bytes are skipped) and gives one
 *   "resolve" record: the question's name and type, the answer's code, the
 *   addresses.  A program asks A and AAAA apart: two records.
 * The cost: every open, openat, read, recvfrom and recvmsg of the program stops it
 * once at entry (the filter cannot tell the files or the sockets); only the ones
 * above are followed to their exit.
 */
#ifndef SYSTRACE_DNS_H
#define SYSTRACE_DNS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "systrace_table.h"
#include "trace_record.h"

/* True when the call @nr with @args of @t's entry stop is one of the above, and its
 * exit must be seen (the file's index is kept in @t's call). */
bool systrace_dns_wanted(struct systrace_thread *t, int nr, const uint64_t args[6]);

/* The record of @t's call (systrace_dns_wanted()), which returned @ret or failed
 * with @err after @elapsed_ns, by caller @c. */
void systrace_dns_record(struct systrace_thread *t, const struct trace_caller *c, int64_t ret,
			 int err, int64_t elapsed_ns);

/* @fd of @t's process was connected or sent to @dest (may be NULL): a destination
 * of port 53 makes it a DNS socket. */
void systrace_dns_note(struct systrace_thread *t, int fd, const struct sockaddr *dest);

/* The destination of @t's sendto() or sendmsg() (a DNS query?), read again at exit. */
void systrace_dns_note_send(struct systrace_thread *t);

/* @fd of @p is closed: no longer a DNS socket. */
void systrace_dns_forget(struct systrace_proc *p, int fd);

#endif
