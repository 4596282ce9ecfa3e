/* probe_outq.c: see probe_outq.h. */
#include "probe_outq.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Writes all @len bytes of @buf to @fd.  Returns 0, or -1 with errno. */
static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * The writer thread: takes the whole queue at once (swapping in its own spare
 * buffer, so the lock is held only for the swap), writes it outside the lock,
 * and repeats until outq_finish() closes an empty queue or a write fails.
 */
static void *writer_main(void *arg)
{
	struct outq *q = arg;
	char *spare = NULL;
	size_t spare_cap = 0;

	pthread_mutex_lock(&q->lock);
	for (;;) {
		char *chunk;
		size_t len, cap;

		while (q->len == 0 && !q->closing)
			pthread_cond_wait(&q->ready, &q->lock);
		if (q->len == 0)	/* closing, and all is written */
			break;
		chunk = q->buf;
		len = q->len;
		cap = q->cap;
		q->buf = spare;
		q->cap = spare_cap;
		q->len = 0;
		pthread_mutex_unlock(&q->lock);

		if (write_all(q->fd, chunk, len) < 0) {
			int err = errno;

			pthread_mutex_lock(&q->lock);
			q->err = err;
			free(chunk);
			break;
		}
		spare = chunk;
		spare_cap = cap;
		pthread_mutex_lock(&q->lock);
	}
	pthread_mutex_unlock(&q->lock);
	free(spare);
	return NULL;
}

int outq_start(struct outq *q, int fd)
{
	int err;

	memset(q, 0, sizeof(*q));
	q->fd = fd;
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->ready, NULL);
	err = pthread_create(&q->writer, NULL, writer_main, q);
	if (err) {
		pthread_cond_destroy(&q->ready);
		pthread_mutex_destroy(&q->lock);
		errno = err;
		return -1;
	}
	return 0;
}

int outq_put(struct outq *q, const char *line, size_t len)
{
	int ret = 0;

	pthread_mutex_lock(&q->lock);
	if (q->err) {
		errno = q->err;
		ret = -1;
		goto out;
	}
	if (q->len + len > q->cap) {
		size_t cap = q->cap ? q->cap : 1 << 16;
		char *bigger;

		while (cap < q->len + len)
			cap *= 2;
		bigger = realloc(q->buf, cap);
		if (!bigger) {
			errno = ENOMEM;
			ret = -1;
			goto out;
		}
		q->buf = bigger;
		q->cap = cap;
	}
	memcpy(q->buf + q->len, line, len);
	q->len += len;
	pthread_cond_signal(&q->ready);
out:
	pthread_mutex_unlock(&q->lock);
	return ret;
}

int outq_finish(struct outq *q)
{
	int err;

	pthread_mutex_lock(&q->lock);
	q->closing = true;
	pthread_cond_signal(&q->ready);
	pthread_mutex_unlock(&q->lock);
	pthread_join(q->writer, NULL);
	err = q->err;
	free(q->buf);
	pthread_cond_destroy(&q->ready);
	pthread_mutex_destroy(&q->lock);
	if (err) {
		errno = err;
		return -1;
	}
	return 0;
}
