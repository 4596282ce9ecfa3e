/*
 * tracee_calls.c: `tracee calls OWN OTHER PORT UNREACHABLE`, every call a tracer
 * traces, each printed with its return value and errno: binds that succeed
 * (SO_REUSEADDR: a run just before may have left TIME_WAITs) and fail (in use,
 * another host's address, a bad pointer, a bad descriptor), listen (and on UDP),
 * blocking connects (refused, to its own listener), accept, a non-blocking accept
 * with nothing waiting, non-blocking connects finished by SO_ERROR and by a second
 * connect, one given up by close() while under way (UNREACHABLE: an address on the
 * link that nobody answers), closes and getsockopts on bad descriptors.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tracee.h"

/* The addresses of `tracee calls`, all IPv4 and of one length. */
struct calls_addrs {
	struct sockaddr_storage own;		/* OWN:PORT, its listener */
	struct sockaddr_storage other;		/* OTHER:PORT, another host's address */
	struct sockaddr_storage unreachable;	/* UNREACHABLE:PORT, nobody answers */
	struct sockaddr_storage refused;	/* OWN:PORT+2, nothing listens */
	socklen_t len;
};

/* One step of `tracee calls`: what @call returned and the errno right after it. */
static void step(const char *what, int ret)
{
	int err = errno;

	printf("{\"step\":\"%s\",\"ret\":%d,\"errno\":%d}\n", what, ret, ret < 0 ? err : 0);
	fflush(stdout);
}

/* accept() on @lfd once a connection waits (5 s at most: never a hang). */
static int accept_waiting(int lfd, bool four)
{
	struct pollfd p = { .fd = lfd, .events = POLLIN };

	if (poll(&p, 1, 5000) != 1) {
		errno = ETIMEDOUT;
		return -1;
	}
	return four ? accept4(lfd, NULL, NULL, SOCK_CLOEXEC) : accept(lfd, NULL, NULL);
}

/* A TCP socket, non-blocking when @nonblock; exits the program when it cannot. */
static int tcp_socket(bool nonblock)
{
	int fd = socket(AF_INET, SOCK_STREAM | (nonblock ? SOCK_NONBLOCK : 0), 0);

	if (fd < 0) {
		perror("socket");
		exit(1);
	}
	return fd;
}

/* The binds and listens: returns the listener on OWN:PORT. */
static int calls_bind(const struct calls_addrs *ad)
{
	int lfd, fd, one = 1;

	lfd = tcp_socket(false);
	/* a run just before this one left TIME_WAITs on the port */
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	step("bind-own", bind(lfd, (struct sockaddr *)&ad->own, ad->len));
	step("listen", listen(lfd, 16));
	fd = tcp_socket(false);
	step("bind-in-use", bind(fd, (struct sockaddr *)&ad->own, ad->len));
	step("bind-other-host", bind(fd, (struct sockaddr *)&ad->other, ad->len));
	step("bind-bad-pointer", bind(fd, (struct sockaddr *)8, ad->len));
	step("bind-bad-fd", bind(777, (struct sockaddr *)&ad->own, ad->len));
	step("close", close(fd));
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	step("listen-udp", listen(fd, 1));
	step("close-udp", close(fd));
	return lfd;
}

/* Blocking connects: refused, then to the listener @lfd, accepted. */
static void calls_connect(const struct calls_addrs *ad, int lfd)
{
	int fd, fd2;

	fd = tcp_socket(false);
	step("connect-refused", connect(fd, (struct sockaddr *)&ad->refused, ad->len));
	step("close", close(fd));
	fd = tcp_socket(false);
	step("connect-own-listener", connect(fd, (struct sockaddr *)&ad->own, ad->len));
	fd2 = accept_waiting(lfd, false);
	step("accept", fd2);
	step("close-accepted", close(fd2));
	step("close", close(fd));
}

/* Non-blocking connects, as an event loop makes them: refused and read by
 * SO_ERROR; to the listener @lfd and finished by a second connect (accept4). */
static void calls_connect_nonblock(const struct calls_addrs *ad, int lfd)
{
	int fd, fd2, ret, soerr;
	socklen_t slen = sizeof(soerr);
	struct pollfd p;

	fd = tcp_socket(true);
	step("nonblock-connect-refused", connect(fd, (struct sockaddr *)&ad->refused, ad->len));
	p = (struct pollfd){ .fd = fd, .events = POLLOUT };
	step("poll", poll(&p, 1, 5000));
	ret = getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &slen);
	step("so-error", ret < 0 ? ret : soerr ? (errno = soerr, -1) : 0);
	step("close", close(fd));

	fd = tcp_socket(true);
	step("nonblock-connect-listener", connect(fd, (struct sockaddr *)&ad->own, ad->len));
	p = (struct pollfd){ .fd = fd, .events = POLLOUT };
	step("poll", poll(&p, 1, 5000));
	step("second-connect", connect(fd, (struct sockaddr *)&ad->own, ad->len));
	step("third-connect", connect(fd, (struct sockaddr *)&ad->own, ad->len));
	fd2 = accept_waiting(lfd, true);
	step("accept4", fd2);
	step("close-accepted", close(fd2));
	step("close", close(fd));
}

int cmd_calls(int argc, char **argv)
{
	struct calls_addrs ad;
	long port;
	int lfd, fd, soerr;
	socklen_t slen = sizeof(soerr);

	if (argc != 4 || parse_num(argv[2], 1, 65533, &port) < 0 ||
	    make_addr(argv[0], (unsigned)port, &ad.own, &ad.len) < 0 ||
	    ad.own.ss_family != AF_INET ||
	    make_addr(argv[1], (unsigned)port, &ad.other, &ad.len) < 0 ||
	    ad.other.ss_family != AF_INET ||
	    make_addr(argv[3], (unsigned)port, &ad.unreachable, &ad.len) < 0 ||
	    ad.unreachable.ss_family != AF_INET ||
	    make_addr(argv[0], (unsigned)port + 2, &ad.refused, &ad.len) < 0)
		return usage();

	lfd = calls_bind(&ad);
	calls_connect(&ad, lfd);
	calls_connect_nonblock(&ad, lfd);

	fcntl(lfd, F_SETFL, O_NONBLOCK);
	step("accept-nothing-waiting", accept(lfd, NULL, NULL));

	fd = tcp_socket(true);
	step("nonblock-connect-unreachable",
	     connect(fd, (struct sockaddr *)&ad.unreachable, ad.len));
	step("connect-again-under-way", connect(fd, (struct sockaddr *)&ad.unreachable, ad.len));
	step("close-under-way", close(fd));

	step("close-bad-fd", close(778));
	step("so-error-bad-fd", getsockopt(779, SOL_SOCKET, SO_ERROR, &soerr, &slen));
	step("close-listener", close(lfd));
	return 0;
}
