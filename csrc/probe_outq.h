/*
 * probe_outq.h: record lines written to a descriptor by a thread of their own.
 *
 * `batch` times every connect against its own deadline in one event loop.  Were
 * the loop to write its records itself, a reader that pauses (a full pipe) would
 * stop the loop, the outcomes that arrive meanwhile would wait unread, and their
 * deadlines would run out: false ETIMEDOUTs.  So the loop only appends finished
 * lines to a queue in memory (a copy under a mutex, never a system call that can
 * block), and a writer thread drains the queue with plain blocking write()s.
 * Lines keep their order and stream out as fast as the reader takes them; the
 * queue grows while the reader pauses (a batch's records are bounded by its plan).
 */
#ifndef PROBE_OUTQ_H
#define PROBE_OUTQ_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

struct outq {
	int fd;			/* where the lines go */
	pthread_t writer;
	pthread_mutex_t lock;
	pthread_cond_t ready;	/* lines queued, or the queue is closing */
	char *buf;		/* queued bytes not yet taken by the writer */
	size_t len, cap;
	bool closing;		/* outq_finish(): write what is left, then stop */
	int err;		/* errno of the write that failed, 0 while all is well */
};

/* Starts the writer thread for descriptor @fd (which the caller keeps open until
 * outq_finish()).  Returns 0, or -1 with errno (the thread could not start). */
int outq_start(struct outq *q, int fd);

/*
 * Queues the @len bytes of @line (copied) for writing.  Never blocks on the
 * descriptor.  Returns 0, or -1 with errno: ENOMEM, or the error of an earlier
 * write (EPIPE: the reader went away), after which nothing more is written.
 */
int outq_put(struct outq *q, const char *line, size_t len);

/* Waits until everything queued is written (or a write failed), stops the thread
 * and frees the queue.  Returns 0, or -1 with errno of the write that failed. */
int outq_finish(struct outq *q);

#endif
