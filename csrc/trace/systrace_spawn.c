/* systrace_spawn.c: see systrace_spawn.h. */
#include "systrace_spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include "systrace_filter.h"
#include "systrace_loop.h"

/* The child's report: what failed and its errno. */
struct report {
	int what;
	int err;
};

/* In the child: waits for the tracer's word, installs the filter, execs @argv.
 * Never returns. */
static void child_run(char *const argv[], int go, int report)
{
	struct report r = { SYSTRACE_CHILD_OK, 0 };
	char word;

	if (read(go, &word, 1) != 1)
		_exit(0);	/* the tracer could not attach: it runs the program */
	if (systrace_filter_install() < 0) {
		r = (struct report){ SYSTRACE_CHILD_FILTER, errno };
	} else {
		execvp(argv[0], argv);
		r = (struct report){ SYSTRACE_CHILD_EXEC, errno };
	}
	(void)!write(report, &r, sizeof(r));
	_exit(r.what == SYSTRACE_CHILD_EXEC && r.err == ENOENT ? 127 : 126);
}

int systrace_spawn(char *const argv[], struct systrace_child *child, const char **call)
{
	int go[2], report[2], saved;
	pid_t pid;

	*call = "pipe2";
	if (pipe2(go, O_CLOEXEC) < 0)
		return -1;
	if (pipe2(report, O_CLOEXEC) < 0) {
		saved = errno;
		goto close_go;
	}
	*call = "fork";
	pid = fork();
	if (pid < 0) {
		saved = errno;
		goto close_all;
	}
	if (pid == 0) {
		close(go[1]);
		close(report[0]);
		child_run(argv, go[0], report[1]);
	}
	close(go[0]);
	close(report[1]);
	*call = "ptrace";
	if (ptrace(PTRACE_SEIZE, pid, NULL, (void *)(uintptr_t)SYSTRACE_PTRACE_OPTIONS) < 0) {
		saved = errno;
		close(go[1]);			/* the child leaves at once */
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		close(report[0]);
		errno = saved;
		return -1;
	}
	(void)!write(go[1], "T", 1);
	close(go[1]);
	child->pid = pid;
	child->report_fd = report[0];
	return 0;

close_all:
	close(report[0]);
	close(report[1]);
close_go:
	close(go[0]);
	close(go[1]);
	errno = saved;
	return -1;
}

enum systrace_child_error systrace_spawn_error(struct systrace_child *child, int *err)
{
	struct report r = { SYSTRACE_CHILD_OK, 0 };

	if (read(child->report_fd, &r, sizeof(r)) != (ssize_t)sizeof(r))
		r = (struct report){ SYSTRACE_CHILD_OK, 0 };
	systrace_spawn_done(child);
	*err = r.err;
	return (enum systrace_child_error)r.what;
}

void systrace_spawn_done(struct systrace_child *child)
{
	if (child->report_fd >= 0)
		close(child->report_fd);
	child->report_fd = -1;
}
