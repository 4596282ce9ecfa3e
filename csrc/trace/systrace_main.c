/*
 * bindtrace-sys: the syscall-level tracer, for the programs libbindtrace.so cannot
 * reach (statically linked: Go, musl) and, on request, any program.
 *
 *   bindtrace-sys [-o FILE] [--host NAME] [--no-getfd] -- PROG [ARG...]
 *
 * Runs PROG under ptrace, with a seccomp-bpf filter so that only its socket calls
 * stop it (systrace_filter.h), following its forks, threads and execs
 * (systrace_loop.h), and appends one record per bind/connect/listen/accept call,
 * how a non-blocking connect ended (getsockopt SO_ERROR, a second connect, a
 * close while under way) to FILE (default $BINDTRACE_FILE): the records of
 * libbindtrace.so, built by the same code (trace_record.h) and written by the same
 * writer (trace_out.h), "tracer":"syscall".  "host" is NAME, else $NETPROBE_HOST,
 * $BINDTRACE_HOST, the host name; $BINDTRACE_OPTIONS=0 leaves out a bind's options.
 *
 * The program must not be able to tell: its calls, results and errno are the
 * kernel's, untouched; its signals pass as they came; it stays in the tracer's
 * process group (a signal to the group reaches both); the tracer ignores the
 * signals that end a terminal session (INT, QUIT, HUP, TERM), which the program
 * gets too, and goes on until its tracees have ended, so a program that handles
 * them is not cut short.  Should the tracer die, the program goes on untraced.
 *
 * Exit status: the program's (it exits with the program's code; a program killed
 * by a signal has the tracer kill itself by the same signal, without a core, so
 * that its parent sees the same wait status), after the last traced process ended.
 * PROG that cannot be run: 127 (not found) or 126, as env(1).  Usage: 2.
 *
 * When the kernel refuses ptrace or seccomp (a container's policy, yama
 * ptrace_scope=3, a tracer already tracing us), bindtrace-sys says so on stderr in
 * one line, writes one record {"op":"untraced", "reason": ...} and execs PROG
 * itself, untraced, under its own pid: the exit status is then PROG's own.
 *
 * --no-getfd: behave as on a kernel without pidfd_getfd() (before 5.6): no facts
 * about the sockets, only what the calls' arguments say ("facts":"arguments"); for
 * the tests of that fallback.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/errnames.h"
#include "systrace_calls.h"
#include "systrace_fd.h"
#include "systrace_loop.h"
#include "systrace_spawn.h"
#include "trace_out.h"
#include "trace_record.h"

#define EXIT_USAGE 2

struct options {
	const char *file;
	const char *host;
	bool getfd;
	char **argv;		/* PROG and its arguments */
};

/* Prints the usage on @f. */
static void usage(FILE *f)
{
	fputs("usage: bindtrace-sys [-o FILE] [--host NAME] [--no-getfd] -- PROG [ARG...]\n"
	      "  -o, --output FILE  append the records to FILE (default $BINDTRACE_FILE)\n"
	      "  --host NAME        the records' \"host\" (default $NETPROBE_HOST, the host name)\n"
	      "  --no-getfd         no socket facts, as on Linux < 5.6 (for tests)\n", f);
}

/* Reads the command line into @o.  Returns 0, 1 (--help: done), or -1 (bad usage,
 * said on stderr). */
static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "host", required_argument, NULL, 'H' },
		{ "no-getfd", no_argument, NULL, 'G' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	int ch;

	*o = (struct options){ .file = getenv("BINDTRACE_FILE"), .getfd = true };
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+:o:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'o':
			o->file = optarg;
			break;
		case 'H':
			o->host = optarg;
			break;
		case 'G':
			o->getfd = false;
			break;
		case 'h':
			usage(stdout);
			return 1;
		case ':':
			fprintf(stderr, "bindtrace-sys: %s needs an argument\n", argv[optind - 1]);
			usage(stderr);
			return -1;
		default:
			fprintf(stderr, "bindtrace-sys: unknown option '%s'\n", argv[optind - 1]);
			usage(stderr);
			return -1;
		}
	}
	if (optind >= argc) {
		fputs("bindtrace-sys: no program to run\n", stderr);
		usage(stderr);
		return -1;
	}
	if (!o->file || !o->file[0]) {
		fputs("bindtrace-sys: no trace file: give -o FILE (or $BINDTRACE_FILE)\n", stderr);
		return -1;
	}
	o->argv = argv + optind;
	return 0;
}

/* A no-op handler: the tracer outlives a signal meant for the program's group. */
static void ignore_signal(int sig)
{
	(void)sig;
}

/* The signals that end a session reach the program (its group) and must not end
 * the tracer before it.  A signal its parent set ignored stays ignored (and so it
 * does in the program after exec); a handler does not survive exec. */
static void outlive_session_signals(void)
{
	static const int sigs[] = { SIGINT, SIGQUIT, SIGHUP, SIGTERM };
	struct sigaction sa = { .sa_handler = ignore_signal }, old;

	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler != SIG_IGN)
			sigaction(sigs[i], &sa, NULL);
}

/* The basename of @path (the program's name, as "prog" says it). */
static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* ptrace or seccomp is refused: one line on stderr (errno's name, not its text, so
 * that a reader of the program's stderr does not take it for the program's
 * error), the "untraced" record, then the program under our pid.  Returns only
 * when it cannot be run: the exit status. */
static int run_untraced(const struct options *o, const char *host, const char *call, int err)
{
	char why[160];
	struct trace_caller c = { .host = host, .prog = base_name(o->argv[0]),
				  .tracer = "syscall", .pid = getpid(), .tid = getpid() };
	char num[16];
	const char *name = errno_name_or_number(err, num, sizeof(num));

	snprintf(why, sizeof(why), "%s refused (%s): the program runs untraced", call, name);
	fprintf(stderr, "bindtrace-sys: %s\n", why);
	trace_record_untraced(&c, call, err, why);
	execvp(o->argv[0], o->argv);
	err = errno;
	fprintf(stderr, "bindtrace-sys: %s: %s\n", o->argv[0], strerror(err));
	return err == ENOENT ? 127 : 126;
}

/* The exit status that says how the program ended (@status from waitpid()).  For a
 * program killed by a signal the tracer first kills itself by the same signal, so
 * that its parent sees the same wait status; 128 + the signal if it survives. */
static int status_of(int status)
{
	int sig;
	struct rlimit none = { 0, 0 };
	sigset_t set;

	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	sig = WTERMSIG(status);
	setrlimit(RLIMIT_CORE, &none);	/* the program's core, if any, is its own */
	signal(sig, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	raise(sig);
	return 128 + sig;
}

int main(int argc, char **argv)
{
	struct options o;
	struct systrace_child child;
	struct systrace_end end;
	const char *call;
	char host[65];
	const char *options = getenv("BINDTRACE_OPTIONS");
	int rc = parse_options(argc, argv, &o), err;

	if (rc != 0)
		return rc > 0 ? 0 : EXIT_USAGE;
	trace_host_name(host, sizeof(host), o.host);
	trace_out_init(o.file, false);
	if (!o.getfd)
		systrace_fd_disable();
	systrace_calls_init(host, !(options && strcmp(options, "0") == 0));
	outlive_session_signals();

	if (systrace_spawn(o.argv, &child, &call) < 0) {
		if (errno == EPERM || errno == EACCES || errno == ENOSYS)
			return run_untraced(&o, host, call, errno);
		fprintf(stderr, "bindtrace-sys: %s: %s\n", call, strerror(errno));
		return 126;
	}
	if (systrace_loop(child.pid, base_name(o.argv[0]), &end) < 0) {
		fprintf(stderr, "bindtrace-sys: waitpid: %s\n", strerror(errno));
		return 126;
	}
	if (end.execd) {
		systrace_spawn_done(&child);
		return status_of(end.status);
	}
	switch (systrace_spawn_error(&child, &err)) {
	case SYSTRACE_CHILD_FILTER:
		return run_untraced(&o, host, "seccomp", err);
	case SYSTRACE_CHILD_EXEC:
		fprintf(stderr, "bindtrace-sys: %s: %s\n", o.argv[0], strerror(err));
		return err == ENOENT ? 127 : 126;
	case SYSTRACE_CHILD_OK:
		break;
	}
	return status_of(end.status);
}
