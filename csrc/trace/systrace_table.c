/* systrace_table.c: see systrace_table.h. */
#include "systrace_table.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "systrace_fd.h"

static struct systrace_thread **threads;
static size_t nthreads, cap_threads;

struct systrace_thread *systrace_thread_find(pid_t tid)
{
	for (size_t i = 0; i < nthreads; i++)
		if (threads[i]->tid == tid)
			return threads[i];
	return NULL;
}

/* The process @tgid of some thread in the table, or NULL. */
static struct systrace_proc *proc_find(pid_t tgid)
{
	for (size_t i = 0; i < nthreads; i++)
		if (threads[i]->proc->tgid == tgid)
			return threads[i]->proc;
	return NULL;
}

/* Sets @p's name to @name, cut to SYSTRACE_PROG_MAX - 1 bytes. */
static void proc_name(struct systrace_proc *p, const char *name)
{
	size_t n = strnlen(name, sizeof(p->prog) - 1);

	memcpy(p->prog, name, n);
	p->prog[n] = '\0';
}

/* A new process @tgid named @prog.  NULL with errno on ENOMEM. */
static struct systrace_proc *proc_new(pid_t tgid, const char *prog)
{
	struct systrace_proc *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->tgid = tgid;
	p->pidfd = systrace_pidfd_open(tgid);
	proc_name(p, prog);
	return p;
}

/* Frees @p and what it holds. */
static void proc_free(struct systrace_proc *p)
{
	if (p->pidfd >= 0)
		close(p->pidfd);
	free(p->pending);
	free(p);
}

struct systrace_thread *systrace_thread_add(pid_t tid, pid_t tgid, const char *prog)
{
	struct systrace_thread *t;
	struct systrace_proc *p = proc_find(tgid);
	bool made = false;

	if (nthreads == cap_threads) {
		size_t cap = cap_threads ? 2 * cap_threads : 16;
		struct systrace_thread **grown = realloc(threads, cap * sizeof(*grown));

		if (!grown)
			return NULL;
		threads = grown;
		cap_threads = cap;
	}
	if (!p) {
		p = proc_new(tgid, prog);
		if (!p)
			return NULL;
		made = true;
	}
	t = calloc(1, sizeof(*t));
	if (!t) {
		if (made)
			proc_free(p);
		return NULL;
	}
	t->tid = tid;
	t->proc = p;
	p->threads++;
	threads[nthreads++] = t;
	return t;
}

void systrace_thread_drop(pid_t tid)
{
	for (size_t i = 0; i < nthreads; i++) {
		struct systrace_thread *t = threads[i];

		if (t->tid != tid)
			continue;
		if (--t->proc->threads == 0)
			proc_free(t->proc);
		free(t);
		threads[i] = threads[--nthreads];
		return;
	}
}

size_t systrace_thread_count(void)
{
	return nthreads;
}

struct systrace_pending *systrace_pending_find(struct systrace_proc *p, int fd)
{
	for (size_t i = 0; i < p->npending; i++)
		if (p->pending[i].fd == fd)
			return &p->pending[i];
	return NULL;
}

int systrace_pending_set(struct systrace_proc *p, int fd, const struct trace_connecting *c)
{
	struct systrace_pending *slot = systrace_pending_find(p, fd);

	if (!slot) {
		if (p->npending == p->cap) {
			size_t cap = p->cap ? 2 * p->cap : 8;
			struct systrace_pending *grown = realloc(p->pending, cap * sizeof(*grown));

			if (!grown)
				return -1;
			p->pending = grown;
			p->cap = cap;
		}
		slot = &p->pending[p->npending++];
	}
	slot->fd = fd;
	slot->c = *c;
	return 0;
}

void systrace_pending_drop(struct systrace_proc *p, int fd)
{
	struct systrace_pending *slot = systrace_pending_find(p, fd);

	if (slot)
		*slot = p->pending[--p->npending];
}

void systrace_pending_clear(struct systrace_proc *p)
{
	p->npending = 0;
	p->ndns = 0;
}

int systrace_pending_copy(struct systrace_proc *child, const struct systrace_proc *parent)
{
	for (size_t i = 0; i < parent->npending; i++)
		if (systrace_pending_set(child, parent->pending[i].fd, &parent->pending[i].c) < 0)
			return -1;
	return 0;
}

/* Reads up to @len - 1 bytes of /proc/@pid/@name into @buf, NUL-terminated.
 * Returns the bytes read, or -1 with errno set. */
static ssize_t read_proc(pid_t pid, const char *name, char *buf, size_t len)
{
	char path[64];
	ssize_t n;
	int fd, saved;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	saved = errno;
	close(fd);
	errno = saved;
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return n;
}

void systrace_proc_read_prog(struct systrace_proc *p)
{
	char cmdline[SYSTRACE_PROG_MAX * 4];
	const char *base;

	/* argv[0] ends at the first NUL, which read_proc() also puts at the end */
	if (read_proc(p->tgid, "cmdline", cmdline, sizeof(cmdline)) <= 0)
		return;
	base = strrchr(cmdline, '/');
	proc_name(p, base ? base + 1 : cmdline);
}

pid_t systrace_tgid_of(pid_t tid)
{
	char status[4096];
	const char *at;

	if (read_proc(tid, "status", status, sizeof(status)) < 0)
		return -1;
	at = strstr(status, "\nTgid:");
	if (!at) {
		errno = EINVAL;
		return -1;
	}
	return (pid_t)strtol(at + 6, NULL, 10);
}

void systrace_table_free(void)
{
	while (nthreads > 0)
		systrace_thread_drop(threads[nthreads - 1]->tid);
	free(threads);
	threads = NULL;
	cap_threads = 0;
}
