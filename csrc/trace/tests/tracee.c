/*
 * tracee.c: a small C program for the tracers' tests and benchmark (libbindtrace.so
 * and bindtrace-sys).  It makes real socket calls and prints, one JSON line each,
 * what it saw (return value and errno), so a test can check that the tracer changed
 * nothing and recorded everything.  Built twice: dynamically (build/trace/tracee)
 * and statically with musl (build/trace/tracee-musl), which only bindtrace-sys sees.
 *
 *   tracee bind [--udp] ADDR PORT [ADDR PORT ...]   bind (+listen for TCP) each,
 *                                                   all held until exit
 *   tracee connect [--udp] [--nonblock] [--src ADDR] ADDR PORT
 *                                                   connect (from ADDR:0 when it is
 *                                                   not a wildcard); --nonblock: poll,
 *                                                   then read SO_ERROR like an event loop
 *   tracee serve ADDR PORT                          bind, listen, accept until killed
 *   tracee calls OWN OTHER PORT UNREACHABLE         every traced call, blocking and
 *                                                   not, failing and not (tracee_calls.c)
 *   tracee threads N M ADDR                         N threads x M binds of ADDR:0
 *   tracee forkexec PROG [ARG ...]                  bind, fork; the child binds and
 *                                                   execs PROG
 *   tracee bench-bind N | bench-connect N           ns per bind()/connect() call
 *   tracee bench-read N | bench-open N              ns per read() of 4 KiB of /dev/zero,
 *                                                   per open() of /dev/null (calls
 *                                                   bindtrace-sys stops for, too)
 *
 * Exit status: 0 the calls were made (a failing bind is a result), 1 the program
 * could not do its work, 2 bad usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tracee.h"

int usage(void)
{
	fprintf(stderr,
		"usage: tracee bind [--udp] ADDR PORT [ADDR PORT ...]\n"
		"       tracee connect [--udp] [--nonblock] [--src ADDR] ADDR PORT\n"
		"       tracee serve ADDR PORT\n"
		"       tracee calls OWN OTHER PORT UNREACHABLE\n"
		"       tracee threads N M ADDR\n"
		"       tracee forkexec PROG [ARG ...]\n"
		"       tracee bench-bind N | bench-connect N | bench-read N | bench-open N\n");
	return 2;
}

int parse_num(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int make_addr(const char *addr, unsigned port, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		*len = sizeof(*sin);
		return 0;
	}
	if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*sin6);
		return 0;
	}
	return -1;
}

/* One line: what a call returned and the errno the program saw right after it. */
static void report(const char *call, const char *addr, unsigned port, int ret, int err)
{
	printf("{\"call\":\"%s\",\"addr\":\"%s\",\"port\":%u,\"ret\":%d,\"errno\":%d}\n",
	       call, addr, port, ret, ret < 0 ? err : 0);
	fflush(stdout);
}

/* `tracee bind`: binds (and listens on) each ADDR PORT, all held until exit,
 * printing one line per call.  Returns the exit status. */
static int cmd_bind(int argc, char **argv)
{
	int type = SOCK_STREAM, i = 0;

	if (argc > 0 && strcmp(argv[0], "--udp") == 0) {
		type = SOCK_DGRAM;
		i++;
	}
	if (argc - i < 2 || (argc - i) % 2)
		return usage();
	for (; i < argc; i += 2) {
		struct sockaddr_storage ss;
		socklen_t len;
		long port;
		int fd, ret, err;

		if (parse_num(argv[i + 1], 0, 65535, &port) < 0 ||
		    make_addr(argv[i], (unsigned)port, &ss, &len) < 0)
			return usage();
		fd = socket(ss.ss_family, type, 0);
		if (fd < 0) {
			perror("socket");
			return 1;
		}
		/* errno is set to a marker first: a tracer that clobbers errno on
		 * success would show up as a changed value */
		errno = 4242;
		ret = bind(fd, (struct sockaddr *)&ss, len);
		err = errno;
		report("bind", argv[i], (unsigned)port, ret, ret < 0 ? err : 0);
		if (ret == 0 && err != 4242) {
			fprintf(stderr, "bind: errno changed on success (%d)\n", err);
			return 1;
		}
		if (ret == 0 && type == SOCK_STREAM) {
			ret = listen(fd, 16);
			report("listen", argv[i], (unsigned)port, ret, errno);
		}
		/* the socket stays open: a later target can conflict with it */
	}
	return 0;
}

/* Waits for a non-blocking connect of @fd to end; returns its SO_ERROR, or -1. */
static int wait_connect(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	int soerr = 0;
	socklen_t len = sizeof(soerr);

	if (poll(&p, 1, 5000) != 1)
		return -1;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
		return -1;
	return soerr;
}

/* `tracee connect`: one connect (--nonblock: then poll and read SO_ERROR), its
 * outcome printed.  Returns the exit status. */
static int cmd_connect(int argc, char **argv)
{
	int type = SOCK_STREAM, i = 0, fd, ret, err;
	bool nonblock = false;
	struct sockaddr_storage ss, src;
	socklen_t len, slen = 0;
	const char *from = NULL;
	long port;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--udp") == 0)
			type = SOCK_DGRAM;
		else if (strcmp(argv[i], "--nonblock") == 0)
			nonblock = true;
		else if (strcmp(argv[i], "--src") == 0 && i + 1 < argc)
			from = argv[++i];
		else
			return usage();
	}
	if (argc - i != 2 || parse_num(argv[i + 1], 0, 65535, &port) < 0 ||
	    make_addr(argv[i], (unsigned)port, &ss, &len) < 0 ||
	    (from && make_addr(from, 0, &src, &slen) < 0))
		return usage();
	fd = socket(ss.ss_family, type | (nonblock ? SOCK_NONBLOCK : 0), 0);
	if (fd < 0) {
		perror("socket");
		return 1;
	}
	/* a wildcard source is the kernel's choice: no bind, as a client has it */
	if (from && strcmp(from, "0.0.0.0") != 0 && strcmp(from, "::") != 0) {
		ret = bind(fd, (struct sockaddr *)&src, slen);
		err = errno;
		report("bind", from, 0, ret, err);
		if (ret < 0) {
			fprintf(stderr, "bind: %s\n", strerror(err));
			close(fd);
			return 0;
		}
	}
	errno = 4242;
	ret = connect(fd, (struct sockaddr *)&ss, len);
	err = errno;
	report("connect", argv[i], (unsigned)port, ret, err);
	if (ret < 0 && err == EINPROGRESS) {
		int soerr = wait_connect(fd);

		if (soerr < 0) {
			fprintf(stderr, "connect: no outcome within 5 s\n");
			close(fd);
			return 1;
		}
		report("so_error", argv[i], (unsigned)port, soerr ? -1 : 0, soerr);
		err = soerr;
		ret = soerr ? -1 : 0;
	}
	if (ret < 0)	/* a failing connect is a result: said, exit 0 */
		fprintf(stderr, "connect: %s\n", strerror(err));
	close(fd);
	return 0;
}

/* `tracee serve ADDR PORT`: a TCP server that accepts (and closes) connections
 * until it is killed; a failed bind or listen is said on stderr, exit 1. */
static int cmd_serve(int argc, char **argv)
{
	struct sockaddr_storage ss;
	socklen_t len;
	long port;
	int fd;

	if (argc != 2 || parse_num(argv[1], 0, 65535, &port) < 0 ||
	    make_addr(argv[0], (unsigned)port, &ss, &len) < 0)
		return usage();
	fd = socket(ss.ss_family, SOCK_STREAM, 0);
	if (fd < 0) {
		perror("socket");
		return 1;
	}
	if (bind(fd, (struct sockaddr *)&ss, len) < 0) {
		perror("bind");
		return 1;
	}
	if (listen(fd, 16) < 0) {
		perror("listen");
		return 1;
	}
	report("listen", argv[0], (unsigned)port, 0, 0);
	for (;;) {
		int c = accept(fd, NULL, NULL);

		if (c >= 0)
			close(c);
	}
}

struct thread_job {
	const char *addr;
	long binds;
	long ok, failed;
	int bad;	/* an errno that differs from what the call returned */
};

/* One thread: @binds binds of addr:0, each socket closed at once. */
static void *bind_loop(void *arg)
{
	struct thread_job *job = arg;
	struct sockaddr_storage ss;
	socklen_t len;

	if (make_addr(job->addr, 0, &ss, &len) < 0)
		return NULL;
	for (long n = 0; n < job->binds; n++) {
		int fd = socket(ss.ss_family, SOCK_STREAM, 0);
		int ret;

		if (fd < 0)
			continue;
		errno = 4242;
		ret = bind(fd, (struct sockaddr *)&ss, len);
		if (ret == 0)
			job->ok++;
		else
			job->failed++;
		if (ret == 0 && errno != 4242)
			job->bad = errno;
		close(fd);
	}
	return NULL;
}

/* `tracee threads N M ADDR`: N threads of M binds each, a summary printed.
 * Returns the exit status. */
static int cmd_threads(int argc, char **argv)
{
	struct thread_job jobs[64];
	pthread_t tids[64];
	long nthreads, binds, ok = 0, failed = 0;
	int bad = 0;

	if (argc != 3 || parse_num(argv[0], 1, 64, &nthreads) < 0 ||
	    parse_num(argv[1], 1, 100000, &binds) < 0)
		return usage();
	for (long t = 0; t < nthreads; t++) {
		jobs[t] = (struct thread_job){ .addr = argv[2], .binds = binds };
		if (pthread_create(&tids[t], NULL, bind_loop, &jobs[t]) != 0) {
			fprintf(stderr, "pthread_create failed\n");
			return 1;
		}
	}
	for (long t = 0; t < nthreads; t++) {
		pthread_join(tids[t], NULL);
		ok += jobs[t].ok;
		failed += jobs[t].failed;
		if (jobs[t].bad)
			bad = jobs[t].bad;
	}
	printf("{\"threads\":%ld,\"ok\":%ld,\"failed\":%ld,\"errno_changed\":%d}\n",
	       nthreads, ok, failed, bad);
	return 0;
}

/* bind 127.0.0.1:0 once and report it (the forkexec steps). */
static int bind_loopback(const char *who)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	int ret;

	if (fd < 0)
		return -1;
	ret = bind(fd, (struct sockaddr *)&sin, sizeof(sin));
	report(who, "127.0.0.1", 0, ret, errno);
	close(fd);
	return ret;
}

/* `tracee forkexec PROG ...`: binds, forks; the child binds and execs PROG.
 * Returns the exit status. */
static int cmd_forkexec(int argc, char **argv)
{
	pid_t pid;
	int status;

	if (argc < 1)
		return usage();
	bind_loopback("bind-parent");
	pid = fork();
	if (pid < 0) {
		perror("fork");
		return 1;
	}
	if (pid == 0) {
		bind_loopback("bind-child");
		execvp(argv[0], argv);
		perror("execvp");
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0) {
		perror("waitpid");
		return 1;
	}
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}

/* Runs the mode named by argv[1]; its return value is the exit status. */
int main(int argc, char **argv)
{
	long n;

	if (argc < 2)
		return usage();
	if (strcmp(argv[1], "bind") == 0)
		return cmd_bind(argc - 2, argv + 2);
	if (strcmp(argv[1], "connect") == 0)
		return cmd_connect(argc - 2, argv + 2);
	if (strcmp(argv[1], "serve") == 0)
		return cmd_serve(argc - 2, argv + 2);
	if (strcmp(argv[1], "calls") == 0)
		return cmd_calls(argc - 2, argv + 2);
	if (strcmp(argv[1], "threads") == 0)
		return cmd_threads(argc - 2, argv + 2);
	if (strcmp(argv[1], "forkexec") == 0)
		return cmd_forkexec(argc - 2, argv + 2);
	if (argc == 3 && strncmp(argv[1], "bench-", 6) == 0 &&
	    parse_num(argv[2], 1, 10000000, &n) == 0)
		return cmd_bench(argv[1] + 6, n);
	return usage();
}
