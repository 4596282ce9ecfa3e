/*
 * trace_out.h: appends finished records to the file named by $BINDTRACE_FILE.
 *
 * The file is opened O_WRONLY|O_APPEND|O_CREAT|O_CLOEXEC and every record goes out
 * in ONE write(): O_APPEND makes each write land whole at the end of the file, so
 * lines from threads, forked children and exec'd programs never interleave.
 *
 * Only a regular file is a trace file; anything else drops the records, never the
 * program: a symlink at the path is not followed (O_NOFOLLOW: as root it would
 * append to what it names), a FIFO without a reader does not block the program in
 * bind() (O_NONBLOCK), and a FIFO with a reader, a device or a socket is closed
 * unwritten (fstat, S_ISREG), so a reader that leaves cannot raise SIGPIPE in the
 * program.  (Left: a program that closes the kept descriptor and dup2()s a pipe
 * onto its number between our identity check and our write, in another thread,
 * gets one record in that pipe.)
 *
 * Two modes:
 * - keep (default): the descriptor is opened once, moved to a high number
 *   (>= TRACE_FD_MIN when the limit allows, out of the way of the program's own
 *   descriptors) and reused.  Before each write, fstat() checks that the number
 *   still names our file (same st_dev/st_ino): a program that closed it (daemons
 *   close every descriptor) or dup2()ed something over it gets the file reopened,
 *   and never a record written into its own file or socket.  A forked child shares
 *   the descriptor (same open file, O_APPEND); exec closes it (O_CLOEXEC) and the
 *   new program, which inherits the environment, opens its own.
 * - reopen ($BINDTRACE_REOPEN=1): open, write, close for every record.  Slower, but
 *   the program never holds an extra descriptor between two calls.
 */
#ifndef TRACE_OUT_H
#define TRACE_OUT_H

#include <stdbool.h>
#include <stddef.h>

#define TRACE_FD_MIN 900

/* Remembers @path (copied; cut at PATH_MAX; a relative path is made absolute
 * against the current directory now, so a later chdir() does not move the file)
 * and the mode.  Call once, before any trace_out_write(), from the library's
 * one-time initialisation.  (An exec'd program resolves the relative path against
 * its own starting directory: give an absolute one.) */
void trace_out_init(const char *path, bool reopen);

/* Appends the @len bytes of @line to the trace file with one write().  Returns 0,
 * or -1 with errno set (the caller drops the record: tracing never fails the
 * traced program).  Thread-safe and safe right after fork(); takes no lock. */
int trace_out_write(const char *line, size_t len);

#endif
