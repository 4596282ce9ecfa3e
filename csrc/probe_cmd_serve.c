/*
 * probe_cmd_serve.c: `netprobe serve`, a listener that says who it is.
 *
 * Every TCP client gets "netprobe HOST\n" and the connection is closed; every UDP
 * datagram gets the same line back.  With --proxy-to it is a userland proxy
 * instead (probe_proxy.h): what the client gets is what the backend says.  That is how a connect record learns which
 * host answered, so "connected, but to the wrong host" (a bad DNAT rule, a
 * shadowing listener) is visible in a matrix.
 *
 * Readiness: the serve record (ok or not) is printed once listen() has returned,
 * and the same line goes to --ready-file (written whole, by rename) and --ready-fd.
 * The harness waits for that line instead of sleeping.  A readiness channel that
 * cannot take the line makes the record a failure (see announce()): serve does
 * not listen, says "ok":false with the errno and "call" of the failed write
 * ("write(--ready-fd)", "open(--ready-file)", ...) and exits 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "probe_cli.h"
#include "probe_cmd.h"
#include "probe_proxy.h"
#include "probe_record.h"
#include "probe_retry.h"
#include "probe_sock.h"

/*
 * Writes @line to @path whole, by a temporary file and rename(): a reader never
 * sees half a record.  Returns 0, or -1 with errno and *@call naming the step
 * that failed ("open(--ready-file)", "write(--ready-file)", "rename(--ready-file)").
 */
static int write_file_whole(const char *path, const char *line, const char **call)
{
	char tmp[4096];
	size_t len = strlen(line);
	int fd, saved;

	*call = "open(--ready-file)";
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp%d", path, (int)getpid()) >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	*call = "write(--ready-file)";
	if (write(fd, line, len) != (ssize_t)len) {
		saved = errno ? errno : EIO;	/* a short write: the disk is full */
		close(fd);
		goto err;
	}
	if (close(fd) < 0) {
		saved = errno;
		goto err;
	}
	*call = "rename(--ready-file)";
	if (rename(tmp, path) < 0) {
		saved = errno;
		goto err;
	}
	return 0;
err:
	unlink(tmp);
	errno = saved;
	return -1;
}

/* Writes @line to descriptor @fd in one write().  Returns 0, or -1 with errno. */
static int write_line(int fd, const char *line)
{
	size_t len = strlen(line);
	ssize_t n = write(fd, line, len);

	if (n == (ssize_t)len)
		return 0;
	if (n >= 0)
		errno = EIO;	/* a short write: the reader got half a line */
	return -1;
}

/* Formats the serve record of @c / @r into @line (RECORD_MAX bytes): the bind's
 * members, the listener @fd's own address as "local" (when @fd >= 0), the pid,
 * and the tries of --retry-for. */
static void serve_record(char *line, const struct probe_case *c, const struct probe_result *r,
			 int fd)
{
	struct json_out j;

	record_build(&j, line, RECORD_MAX, "serve", probe_host(), c, r);
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
	record_tries(&j, r);
	json_end(&j);
}

/*
 * Hands the serve record to the readiness channels, --ready-file first, then
 * --ready-fd (closed afterwards), and prints it on stdout.  A channel that cannot
 * take it means nobody can learn that serve is ready, so serve must not claim
 * it: the listener *@lfd is closed (set to -1) and the record becomes a failure,
 * "ok":false with the errno of the failed write and "call" naming it
 * ("open(--ready-file)", "write(--ready-fd)", ...), sent on stdout and on every
 * channel that can still take it (a --ready-file already written is rewritten).
 * A bind that failed already keeps its own record.  Returns 0, or -1 after saying
 * on stderr what failed (serve then exits 1).
 */
static int announce(const struct cli *cli, const struct probe_case *c, struct probe_result *r,
		    int *lfd)
{
	char line[RECORD_MAX];
	const char *call = NULL, *ignored;
	bool file_written = false, fd_failed = false;
	int err = 0, ret = 0;

	serve_record(line, c, r, *lfd);
	if (cli->ready_file) {
		if (write_file_whole(cli->ready_file, line, &call) < 0)
			err = errno;
		else
			file_written = true;
	}
	if (!err && cli->ready_fd >= 0 && write_line(cli->ready_fd, line) < 0) {
		err = errno;
		call = "write(--ready-fd)";
		fd_failed = true;
	}
	if (err) {
		if (fd_failed)
			probe_warn("readiness: %s to fd %d: %s; not serving", call, cli->ready_fd,
				   strerror(err));
		else
			probe_warn("readiness: %s of %s: %s; not serving", call, cli->ready_file,
				   strerror(err));
		ret = -1;
		if (r->err == 0) {	/* the readiness failed, not the bind */
			close(*lfd);
			*lfd = -1;
			result_fail(r, call, err);
			serve_record(line, c, r, -1);
			if (file_written)
				(void)write_file_whole(cli->ready_file, line, &ignored);
			if (cli->ready_fd >= 0 && !fd_failed)
				(void)write_line(cli->ready_fd, line);
		}
	}
	if (cli->ready_fd >= 0)
		close(cli->ready_fd);
	if (fputs(line, stdout) == EOF || fflush(stdout) == EOF) {
		probe_warn("writing the serve record: %s", strerror(errno));
		ret = -1;
	}
	return ret;
}

/* How long the listener rests when accept() finds no descriptor (or memory). */
#define ACCEPT_BACKOFF_US (100 * 1000)

/* A listening serve: its descriptors, what it says, and the state of its listener. */
struct server {
	int lfd, sfd, ep;	/* listener, signalfd, epoll set */
	enum probe_proto proto;
	char greeting[96];	/* "netprobe HOST\n" */
	size_t glen;
	int64_t paused_until;	/* the listener rests until then (now_us()); 0: it listens */
	bool warned;		/* this shortage was said; said again after an accept worked */
	struct proxy *proxy;	/* --proxy-to: clients go on to the backend; NULL: greet */
};

/*
 * Accepts every waiting TCP client, sends each the greeting and closes it.
 * Returns 0 when none is left waiting, or -1 with errno EMFILE, ENFILE, ENOBUFS or
 * ENOMEM when accept() lacks a descriptor or memory: the clients stay queued in
 * the kernel, and the caller rests the listener (accept would fail again at once).
 */
static int answer_tcp(struct server *srv)
{
	for (;;) {
		int cfd = accept4(srv->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (cfd < 0) {
			/* EAGAIN: all taken; ECONNABORTED etc.: that client is gone */
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM)
				return -1;
			continue;
		}
		srv->warned = false;
		if (srv->proxy) {
			proxy_take(srv->proxy, cfd);
			continue;
		}
		/* the greeting fits in any socket buffer: one send, then close */
		if (send(cfd, srv->greeting, srv->glen, MSG_NOSIGNAL) < 0 && errno != EPIPE &&
		    errno != ECONNRESET)
			probe_warn("send: %s", strerror(errno));
		close(cfd);
	}
}

/* Answers every waiting UDP datagram with the greeting. */
static void answer_udp(const struct server *srv)
{
	char buf[512];

	for (;;) {
		struct sockaddr_storage peer;
		socklen_t plen = sizeof(peer);
		ssize_t n = recvfrom(srv->lfd, buf, sizeof(buf), 0, (struct sockaddr *)&peer, &plen);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return;	/* EAGAIN, or an ICMP error for an earlier reply */
		}
		sendto(srv->lfd, srv->greeting, srv->glen, MSG_NOSIGNAL, (struct sockaddr *)&peer,
		       plen);
	}
}

/*
 * Rests the listener for ACCEPT_BACKOFF_US after accept() failed with @err: out of
 * the epoll set, so the loop does not spin on a listener it cannot serve (one
 * warning per shortage, not one per try).  Returns 0, or -1 with errno.
 */
static int rest_listener(struct server *srv, int err)
{
	if (!srv->warned)
		probe_warn("accept: %s; the listener rests and retries every %d ms until a "
			   "descriptor is free (clients wait in the kernel's queue)",
			   strerror(err), ACCEPT_BACKOFF_US / 1000);
	srv->warned = true;
	srv->paused_until = now_us() + ACCEPT_BACKOFF_US;
	return epoll_ctl(srv->ep, EPOLL_CTL_DEL, srv->lfd, NULL);
}

/* Puts the rested listener back into the epoll set.  Returns 0, or -1 (errno). */
static int wake_listener(struct server *srv)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = (uint64_t)srv->lfd };

	srv->paused_until = 0;
	return epoll_ctl(srv->ep, EPOLL_CTL_ADD, srv->lfd, &ev);
}

/* Milliseconds until the earlier of @deadline (0: none) and the end of a rest, -1
 * for none, 0 when one has passed. */
static int next_wakeup_ms(const struct server *srv, int64_t deadline)
{
	int64_t now = now_us(), until = deadline;

	if (srv->paused_until && (!until || srv->paused_until < until))
		until = srv->paused_until;
	if (!until)
		return -1;
	return until <= now ? 0 : (int)((until - now + 999) / 1000);
}

/*
 * Serves until SIGTERM/SIGINT (on srv->sfd) or @deadline (now_us(), 0: none).
 * Returns 0, or -1 after saying on stderr what failed (epoll).
 */
static int serve_loop(struct server *srv, int64_t deadline)
{
	for (;;) {
		struct epoll_event events[8];
		int nev;

		if (deadline && now_us() >= deadline)
			return 0;
		if (srv->paused_until && now_us() >= srv->paused_until && wake_listener(srv) < 0) {
			probe_warn("epoll_ctl: %s", strerror(errno));
			return -1;
		}
		nev = epoll_wait(srv->ep, events, 8, next_wakeup_ms(srv, deadline));
		if (nev < 0 && errno != EINTR) {
			probe_warn("epoll_wait: %s", strerror(errno));
			return -1;
		}
		for (int i = 0; i < nev; i++) {
			if (events[i].data.u64 == (uint64_t)srv->sfd)
				return 0;
			if (srv->proxy && (events[i].data.u64 & PROXY_TAG)) {
				proxy_event(srv->proxy, events[i].data.u64, events[i].events);
				continue;
			}
			if (srv->proto == PROTO_UDP)
				answer_udp(srv);
			else if (!srv->paused_until && answer_tcp(srv) < 0 &&
				 rest_listener(srv, errno) < 0) {
				probe_warn("epoll_ctl: %s", strerror(errno));
				return -1;
			}
		}
	}
}

/*
 * Reads serve's command line into @cli and the listener's case @c, and a
 * --proxy-to target into @to.  Returns 0, 1 when --help printed the usage (exit
 * 0), or -1 after saying what was wrong on stderr (exit 2).
 */
static int serve_args(int argc, char **argv, struct cli *cli, struct probe_case *c,
		      struct parsed_addr *to)
{
	char why[160];
	int rc = cli_parse_one_target(argc, argv, FOR_SERVE, OP_BIND, cli, c);

	if (rc != 0)
		return rc;
	c->opts.listen = true;
	if (cli->proxy_to && c->proto == PROTO_UDP) {
		fputs("netprobe serve: --proxy-to proxies TCP only\n", stderr);
		return -1;
	}
	if (cli->proxy_to && proxy_parse_target(cli->proxy_to, to, why, sizeof(why)) < 0) {
		fprintf(stderr, "netprobe serve: --proxy-to: %s\n", why);
		return -1;
	}
	return 0;
}

/*
 * Binds and listens as @c says, non-blocking, into srv->lfd, and announces the
 * outcome (announce()); --retry-for: tried again until it binds, its time is up or
 * a signal of @stop arrives (probe_retry.h).  Returns 0 with srv->lfd listening,
 * or -1 (srv->lfd -1 when there is no listener) after the record said why.
 */
static int serve_listen(struct server *srv, const struct cli *cli, const struct probe_case *c,
			const sigset_t *stop)
{
	struct probe_result r;
	struct retry rt;
	int rc;

	srv->lfd = retry_bind(c, &r, &rt, stop);
	if (srv->lfd >= 0 && fcntl(srv->lfd, F_SETFL, O_NONBLOCK) < 0) {
		result_fail(&r, "fcntl(O_NONBLOCK)", errno);
		close(srv->lfd);
		srv->lfd = -1;
	}
	rc = announce(cli, c, &r, &srv->lfd);
	retry_end(&rt);
	if (rc < 0 || srv->lfd < 0)
		return -1;
	srv->proto = c->proto;
	return 0;
}

/*
 * Readies @srv around its listener: the greeting, a signalfd for the signals in
 * @mask and the epoll set that holds both.  Returns 0, or -1 after saying on
 * stderr what failed.
 */
static int serve_start(struct server *srv, const sigset_t *mask)
{
	struct epoll_event sev = { .events = EPOLLIN };

	srv->glen = (size_t)snprintf(srv->greeting, sizeof(srv->greeting), "netprobe %s\n",
				     probe_host());
	if (srv->glen >= sizeof(srv->greeting))
		srv->glen = sizeof(srv->greeting) - 1;
	srv->sfd = signalfd(-1, mask, SFD_CLOEXEC | SFD_NONBLOCK);
	srv->ep = epoll_create1(EPOLL_CLOEXEC);
	if (srv->sfd < 0 || srv->ep < 0) {
		probe_warn("signalfd/epoll: %s", strerror(errno));
		return -1;
	}
	sev.data.u64 = (uint64_t)srv->sfd;
	if (wake_listener(srv) < 0 || epoll_ctl(srv->ep, EPOLL_CTL_ADD, srv->sfd, &sev) < 0) {
		probe_warn("epoll_ctl: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* `netprobe serve`: @argv from the command's name on; returns the exit status
 * (probe_cmd.h: 0 the probe worked, 1 it could not, 2 bad usage). */
int cmd_serve(int argc, char **argv)
{
	struct cli cli;
	struct probe_case c;
	struct server srv = { .lfd = -1, .sfd = -1, .ep = -1 };
	struct proxy proxy;
	struct parsed_addr to;
	sigset_t mask;
	int ret = EXIT_PROBE_FAILED;
	int64_t deadline = 0;

	switch (serve_args(argc, argv, &cli, &c, &to)) {
	case 1: return EXIT_PROBE_OK;	/* --help */
	case -1: return EXIT_USAGE;
	}
	/* signals become events before the socket exists: no stop is lost */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);

	if (serve_listen(&srv, &cli, &c, &mask) < 0 || serve_start(&srv, &mask) < 0)
		goto out;
	if (cli.proxy_to) {
		proxy_init(&proxy, srv.ep, &to);
		srv.proxy = &proxy;
	}
	if (cli.lifetime_s)
		deadline = now_us() + (int64_t)cli.lifetime_s * 1000000;
	if (serve_loop(&srv, deadline) < 0)
		goto out;
	ret = EXIT_PROBE_OK;
out:
	if (srv.proxy)
		proxy_close_all(srv.proxy);
	if (srv.ep >= 0)
		close(srv.ep);
	if (srv.sfd >= 0)
		close(srv.sfd);
	if (srv.lfd >= 0)
		close(srv.lfd);
	return ret;
}
