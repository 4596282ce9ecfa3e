/* What the C test programs share: numeric address parsing, the one way they say a
 * failed call, and a client socket bound to its source.  Plain POSIX: the same
 * sources build against glibc (dynamic) and musl (static).  Include it first: it
 * asks for the POSIX and GNU declarations before any system header is read. */
#ifndef PROGRAMS_COMMON_H
#define PROGRAMS_COMMON_H

#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* ADDR PORT (numeric, IPv4 or IPv6, "%zone" allowed) into *ss; -1 said on stderr. */
static inline int resolve(const char *addr, const char *port, struct sockaddr_storage *ss,
		   socklen_t *len)
{
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
				  .ai_socktype = SOCK_STREAM }, *res;
	int err = getaddrinfo(addr, port, &hints, &res);

	if (err) {
		fprintf(stderr, "%s port %s: %s\n", addr, port, gai_strerror(err));
		return -1;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

/* "connect(10.0.0.1 port 7001): Connection refused" on stderr; returns 1 (exit). */
static inline int fail(const char *call, const char *addr, const char *port)
{
	fprintf(stderr, "%s(%s port %s): %s\n", call, addr, port, strerror(errno));
	return 1;
}

/* A TCP socket for ADDR PORT, bound to SRC unless SRC is a wildcard (the kernel
 * chooses then); *dst gets the destination.  -1 with the reason on stderr. */
static inline int client_socket(char **argv, struct sockaddr_storage *dst, socklen_t *dlen)
{
	struct sockaddr_storage src;
	socklen_t slen;
	int fd, wild = !strcmp(argv[3], "0.0.0.0") || !strcmp(argv[3], "::");

	if (resolve(argv[1], argv[2], dst, dlen) < 0 ||
	    (!wild && resolve(argv[3], "0", &src, &slen) < 0))
		return -1;
	fd = socket(dst->ss_family, SOCK_STREAM, 0);
	if (fd < 0) {
		fail("socket", argv[1], argv[2]);
		return -1;
	}
	if (!wild && bind(fd, (struct sockaddr *)&src, slen) < 0) {
		fail("bind", argv[3], "0");
		close(fd);
		return -1;
	}
	return fd;
}

#endif
