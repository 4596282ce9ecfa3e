/*
 * trace_sock.h: facts about a traced program's socket, for both tracers.
 *
 * Every fact is asked through a descriptor @qfd that names the program's socket:
 * the program's own descriptor (libbindtrace.so runs inside the program) or a
 * duplicate of it (bindtrace-sys asks pidfd_getfd() for one).  Each fact is one
 * system call that reads and changes nothing; a fact that cannot be read (@qfd -1,
 * a closed descriptor) is "unknown" (-1, false, 0), never a guess.  errno may be
 * changed: the callers save and restore the program's.
 */
#ifndef TRACE_SOCK_H
#define TRACE_SOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

/* An int socket option of @qfd, or -1 when it cannot be read. */
int trace_sockopt_int(int qfd, int level, int name);

/* True for AF_INET and AF_INET6, the families the tracers record. */
bool trace_is_ip(int family);

/* True for 0.0.0.0 and ::. */
bool trace_is_wildcard(const struct sockaddr *sa);

/* True for ::ffff:a.b.c.d. */
bool trace_is_v4mapped(const struct sockaddr *sa);

/* getsockname() of @qfd into @ss.  True when it is an IPv4/IPv6 address (which
 * also says the socket is an IPv4/IPv6 socket). */
bool trace_local_addr(int qfd, struct sockaddr_storage *ss);

/* The inode of what @qfd names (a socket's identity), 0 when fstat() fails. */
uint64_t trace_sock_ino(int qfd);

/*
 * True when the address the program passed (@addr, @len bytes) may be read after a
 * call that failed with @err (0: it did not): only when the kernel itself read it
 * without trouble.  Not for EBADF/ENOTSOCK (the kernel looks the descriptor up
 * before it copies the address), not for EFAULT, not for a length the kernel
 * refuses before copying.  libbindtrace.so would crash a program that the real
 * call merely answered with an error; bindtrace-sys obeys the same rule so that
 * both record the same.
 */
bool trace_addr_usable(const void *addr, socklen_t len, int err);

/* How a non-blocking connect of a socket stands when the program read SO_ERROR. */
enum trace_pending_state {
	TRACE_STALE,		/* @qfd is another socket now (closed, number reused) */
	TRACE_UNDER_WAY,	/* SO_ERROR 0 but no peer yet: still connecting */
	TRACE_SETTLED,		/* @soerr is how it ended */
};

/*
 * Where the connect of the socket with inode @ino stands.  @soerr >= 0: the program
 * read SO_ERROR == @soerr on it; SO_ERROR 0 while it has no peer yet means "still
 * connecting".  @soerr -1: the program is closing it without having asked; it is
 * under way while the TCP handshake is (TCP_INFO: SYN_SENT), read without touching
 * the error that SO_ERROR would clear.
 */
enum trace_pending_state trace_pending_state(int qfd, uint64_t ino, int soerr);

#endif
