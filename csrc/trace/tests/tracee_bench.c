/*
 * tracee_bench.c: the tracee's bench modes (bench/bench_tracer.py): N calls of one
 * kind, only the call itself timed, nanoseconds per call printed as one JSON line.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tracee.h"

/* Nanoseconds on the monotonic clock. */
static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* N binds of 127.0.0.1:0, only the bind() itself timed. */
static int bench_bind(long n)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int64_t total = 0;

	for (long i = 0; i < n; i++) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		int64_t t0;

		if (fd < 0) {
			perror("socket");
			return 1;
		}
		t0 = now_ns();
		if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
			perror("bind");
			return 1;
		}
		total += now_ns() - t0;
		close(fd);
	}
	printf("{\"op\":\"bind\",\"calls\":%ld,\"ns_per_call\":%.1f}\n", n, (double)total / n);
	return 0;
}

/* N loopback connects to a listener of our own, only the connect() timed. */
static int bench_connect(long n)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);
	int64_t total = 0;
	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	int rc = 1;

	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    listen(lfd, 128) < 0 || getsockname(lfd, (struct sockaddr *)&sin, &len) < 0) {
		perror("listener");
		goto out;
	}
	for (long i = 0; i < n; i++) {
		int fd = socket(AF_INET, SOCK_STREAM, 0), afd;
		int64_t t0;

		if (fd < 0) {
			perror("socket");
			goto out;
		}
		t0 = now_ns();
		if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
			perror("connect");
			close(fd);
			goto out;
		}
		total += now_ns() - t0;
		afd = accept(lfd, NULL, NULL);
		if (afd >= 0)
			close(afd);
		close(fd);
	}
	printf("{\"op\":\"connect\",\"calls\":%ld,\"ns_per_call\":%.1f}\n", n, (double)total / n);
	rc = 0;
out:
	if (lfd >= 0)
		close(lfd);
	return rc;
}

/* N read()s of 4 KiB from /dev/zero, only the read() timed: not a socket call, but
 * bindtrace-sys stops every read() to see whether it is a DNS answer. */
static int bench_read(long n)
{
	static char buf[4096];
	int64_t total = 0;
	int fd = open("/dev/zero", O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		perror("/dev/zero");
		return 1;
	}
	for (long i = 0; i < n; i++) {
		int64_t t0 = now_ns();

		if (read(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf)) {
			perror("read");
			close(fd);
			return 1;
		}
		total += now_ns() - t0;
	}
	close(fd);
	printf("{\"op\":\"read\",\"calls\":%ld,\"ns_per_call\":%.1f}\n", n, (double)total / n);
	return 0;
}

/* N open()s of /dev/null, only the open timed: bindtrace-sys stops every open to read
 * its path (a resolver file's open is recorded). */
static int bench_open(long n)
{
	int64_t total = 0;

	for (long i = 0; i < n; i++) {
		int64_t t0 = now_ns();
		int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

		if (fd < 0) {
			perror("/dev/null");
			return 1;
		}
		total += now_ns() - t0;
		close(fd);
	}
	printf("{\"op\":\"open\",\"calls\":%ld,\"ns_per_call\":%.1f}\n", n, (double)total / n);
	return 0;
}

int cmd_bench(const char *what, long n)
{
	if (strcmp(what, "bind") == 0)
		return bench_bind(n);
	if (strcmp(what, "connect") == 0)
		return bench_connect(n);
	if (strcmp(what, "read") == 0)
		return bench_read(n);
	if (strcmp(what, "open") == 0)
		return bench_open(n);
	return usage();
}
