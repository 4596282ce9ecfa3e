/* trace_out.c: see trace_out.h. */
#include "trace_out.h"
#include "trace_sys.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char out_path[PATH_MAX];
static bool out_reopen;

/*
 * The kept descriptor and the identity of the file it was opened on.  dev/ino are
 * stored before the descriptor is published (release/acquire), so a thread that
 * sees the descriptor also sees the identity to check it against.
 */
static atomic_int out_fd = -1;
static _Atomic uint64_t out_dev, out_ino;

void trace_out_init(const char *path, bool reopen)
{
	size_t n = 0, len = strlen(path);

	/* relative to the directory the program started in, not to wherever it
	 * chdir()s later (daemons go to "/") */
	if (path[0] != '/' && getcwd(out_path, sizeof(out_path) - 1)) {
		n = strlen(out_path);
		out_path[n++] = '/';
	}
	if (len >= sizeof(out_path) - n)
		len = sizeof(out_path) - n - 1;
	memcpy(out_path + n, path, len);
	out_path[n + len] = '\0';
	out_reopen = reopen;
}

/*
 * Opens the trace file and fills @st from it.  Returns the descriptor, or -1 with
 * errno set.  Only a regular file is a trace file: O_NOFOLLOW refuses a symlink at
 * the path (ELOOP: as root, following it would append to whatever it names);
 * O_NONBLOCK keeps a FIFO without a reader from blocking the program inside its
 * bind() (ENXIO), and a FIFO with one, a device or a socket is closed again
 * unwritten (EINVAL): a write into a pipe whose reader left would raise SIGPIPE in
 * the program.  (O_NONBLOCK changes nothing for a regular file.)
 */
static int open_file(struct stat *st)
{
	int fd = open(out_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK,
		      0644);

	if (fd < 0)
		return -1;
	if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
		trace_sys_close(fd);
		errno = EINVAL;
		return -1;
	}
	return fd;
}

/* Moves @fd to a number >= TRACE_FD_MIN when the descriptor limit allows it.
 * Returns the descriptor to use (@fd itself when it could not be moved). */
static int move_high(int fd)
{
	int high = fcntl(fd, F_DUPFD_CLOEXEC, TRACE_FD_MIN);

	if (high < 0)
		return fd;
	trace_sys_close(fd);
	return high;
}

/* True when @fd is open on the file whose identity is stored. */
static bool still_ours(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 &&
	       (uint64_t)st.st_dev == atomic_load_explicit(&out_dev, memory_order_relaxed) &&
	       (uint64_t)st.st_ino == atomic_load_explicit(&out_ino, memory_order_relaxed);
}

/*
 * The kept descriptor, reopened when it is no longer ours.  Returns it, or -1 with
 * errno set.  A stale number is never closed: it now belongs to the program.  Two
 * threads reopening at once both publish; the loser's descriptor stays open (one
 * descriptor at most per race, on our own file).
 */
static int kept_fd(void)
{
	int fd = atomic_load_explicit(&out_fd, memory_order_acquire);
	struct stat st;

	if (fd >= 0 && still_ours(fd))
		return fd;
	fd = open_file(&st);
	if (fd < 0)
		return -1;
	fd = move_high(fd);	/* the same open file, so @st still describes it */
	atomic_store_explicit(&out_dev, (uint64_t)st.st_dev, memory_order_relaxed);
	atomic_store_explicit(&out_ino, (uint64_t)st.st_ino, memory_order_relaxed);
	atomic_store_explicit(&out_fd, fd, memory_order_release);
	return fd;
}

/* One write() of the whole record, retried only when nothing was written. */
static int write_once(int fd, const char *line, size_t len)
{
	ssize_t n;

	do
		n = write(fd, line, len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	if ((size_t)n != len) {
		errno = EIO;	/* a short append (disk full): the line is cut, say so */
		return -1;
	}
	return 0;
}

int trace_out_write(const char *line, size_t len)
{
	struct stat st;
	int fd, rc;

	if (!out_path[0]) {
		errno = EINVAL;
		return -1;
	}
	if (!out_reopen) {
		fd = kept_fd();
		return fd < 0 ? -1 : write_once(fd, line, len);
	}
	fd = open_file(&st);
	if (fd < 0)
		return -1;
	rc = write_once(fd, line, len);
	trace_sys_close(fd);
	return rc;
}
