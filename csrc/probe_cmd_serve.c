/*
 * probe_cmd_serve.c: `netprobe serve`, a listener that says who it is.
 *
 * Every TCP client gets "netprobe HOST\n" and the connection is closed; every UDP
 * datagram gets the same line back.  That is how a connect record learns which
 * host answered, so "connected, but to the wrong host" (a bad DNAT rule, a
 * shadowing listener) is visible in a matrix.
 *
 * Readiness: the serve record (ok or not) is printed once listen() has returned,
 * and the same line goes to --ready-file (written whole, by rename) and --ready-fd.
 * The harness waits for that line instead of sleeping.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "probe_cli.h"
#include "probe_cmd.h"
#include "probe_record.h"
#include "probe_sock.h"

/* Writes @line to @path whole: a reader never sees half a record. */
static int write_file_whole(const char *path, const char *line)
{
	char tmp[4096];
	size_t len = strlen(line);
	int fd, ok;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp%d", path, (int)getpid()) >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	ok = write(fd, line, len) == (ssize_t)len;
	if (close(fd) < 0 || !ok || rename(tmp, path) < 0) {
		int saved = errno ? errno : EIO;

		unlink(tmp);
		errno = saved;
		return -1;
	}
	return 0;
}

/* Prints the serve record and hands it to the readiness channels. */
static int announce(const struct cli *cli, const struct probe_case *c,
		    const struct probe_result *r, int fd)
{
	char line[RECORD_MAX];
	struct json_out j;
	int ret = 0;

	record_build(&j, line, sizeof(line), "serve", probe_host(), c, r);
	if (fd >= 0) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		char local[SOCKADDR_TEXT_MAX];

		if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0) {
			sockaddr_format((struct sockaddr *)&ss, local, sizeof(local));
			json_str(&j, "local", local);
		}
	}
	json_int(&j, "pid", getpid());
	json_end(&j);
	if (fputs(line, stdout) == EOF || fflush(stdout) == EOF) {
		probe_warn("writing the serve record: %s", strerror(errno));
		ret = -1;
	}
	if (cli->ready_file && write_file_whole(cli->ready_file, line) < 0) {
		probe_warn("writing %s: %s", cli->ready_file, strerror(errno));
		ret = -1;
	}
	if (cli->ready_fd >= 0) {
		if (write(cli->ready_fd, line, strlen(line)) != (ssize_t)strlen(line)) {
			probe_warn("writing the readiness line to fd %d: %s", cli->ready_fd,
				   strerror(errno));
			ret = -1;
		}
		close(cli->ready_fd);
	}
	return ret;
}

static void answer_tcp(int lfd, const char *greeting, size_t glen)
{
	for (;;) {
		int cfd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (cfd < 0) {
			/* EAGAIN: all taken; ECONNABORTED etc.: that client is gone */
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM) {
				probe_warn("accept: %s", strerror(errno));
				return;
			}
			continue;
		}
		/* the greeting fits in any socket buffer: one send, then close */
		if (send(cfd, greeting, glen, MSG_NOSIGNAL) < 0 && errno != EPIPE &&
		    errno != ECONNRESET)
			probe_warn("send: %s", strerror(errno));
		close(cfd);
	}
}

static void answer_udp(int fd, const char *greeting, size_t glen)
{
	char buf[512];

	for (;;) {
		struct sockaddr_storage peer;
		socklen_t plen = sizeof(peer);
		ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&peer, &plen);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return;	/* EAGAIN, or an ICMP error for an earlier reply */
		}
		sendto(fd, greeting, glen, MSG_NOSIGNAL, (struct sockaddr *)&peer, plen);
	}
}

int cmd_serve(int argc, char **argv)
{
	struct cli cli;
	struct probe_case c;
	struct probe_result r;
	char greeting[96];
	size_t glen;
	sigset_t mask;
	int lfd = -1, sfd = -1, ep = -1, ret = EXIT_PROBE_FAILED;
	int64_t deadline = 0;

	if (cli_parse(argc, argv, FOR_SERVE, &cli) < 0)
		return EXIT_USAGE;
	if (cli.help)
		return EXIT_PROBE_OK;
	if (argc - cli.first_arg != 2) {
		opt_bad(&cli.opt, "takes ADDR PORT");
		return EXIT_USAGE;
	}
	if (cli_target(&cli, OP_BIND, argv[cli.first_arg], argv[cli.first_arg + 1], &c) < 0)
		return EXIT_USAGE;
	c.opts.listen = true;

	/* signals become events before the socket exists: no stop is lost */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);

	lfd = probe_bind(&c, &r);
	if (lfd >= 0 && fcntl(lfd, F_SETFL, O_NONBLOCK) < 0) {
		result_fail(&r, "fcntl(O_NONBLOCK)", errno);
		close(lfd);
		lfd = -1;
	}
	if (announce(&cli, &c, &r, lfd) < 0 || lfd < 0)
		goto out;

	glen = (size_t)snprintf(greeting, sizeof(greeting), "netprobe %s\n", probe_host());
	if (glen >= sizeof(greeting))
		glen = sizeof(greeting) - 1;
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (sfd < 0 || ep < 0) {
		probe_warn("signalfd/epoll: %s", strerror(errno));
		goto out;
	}
	{
		struct epoll_event ev = { .events = EPOLLIN, .data.fd = lfd };
		struct epoll_event sev = { .events = EPOLLIN, .data.fd = sfd };

		if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) < 0 ||
		    epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &sev) < 0) {
			probe_warn("epoll_ctl: %s", strerror(errno));
			goto out;
		}
	}
	if (cli.lifetime_s)
		deadline = now_us() + (int64_t)cli.lifetime_s * 1000000;

	for (;;) {
		struct epoll_event events[8];
		int timeout = -1, nev;

		if (deadline) {
			int64_t left = deadline - now_us();

			if (left <= 0)
				break;
			timeout = (int)((left + 999) / 1000);
		}
		nev = epoll_wait(ep, events, 8, timeout);
		if (nev < 0 && errno != EINTR) {
			probe_warn("epoll_wait: %s", strerror(errno));
			goto out;
		}
		for (int i = 0; i < nev; i++) {
			if (events[i].data.fd == sfd)
				goto stopped;
			if (c.proto == PROTO_TCP)
				answer_tcp(lfd, greeting, glen);
			else
				answer_udp(lfd, greeting, glen);
		}
	}
stopped:
	ret = EXIT_PROBE_OK;
out:
	if (ep >= 0)
		close(ep);
	if (sfd >= 0)
		close(sfd);
	if (lfd >= 0)
		close(lfd);
	return ret;
}
