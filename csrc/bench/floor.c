/*
 * floor: the bind and connect calls of a probe phase in a bare loop, the floor the
 * benchmark (bench/bench_harness.py) holds the harness's probe phase against.
 *
 *   floor [--workers N] < PLAN
 *
 * PLAN, one item a line:
 *   ns PATH            the cases that follow run in this network namespace
 *                      (/proc/PID/ns/net of a host's shell)
 *   bind ADDR PORT     socket, bind, listen, close (TCP), as netprobe's bind case
 *   connect ADDR PORT  socket, connect, read the server's greeting line, close
 *
 * N worker threads (default: the online CPUs) take one namespace at a time, enter
 * it with setns (a thread's own network namespace) and run its cases one after the
 * other: no JSON, no records, no concurrency inside a namespace.  The whole plan is
 * read before the clock starts.  One JSON line on stdout:
 *   {"workers":2,"namespaces":200,"binds":40200,"connects":40000,"ok":80200,
 *    "failed":0,"elapsed_us":123456}
 * ok + failed counts the calls; a failed call is a result, not an error (the
 * harness's matrices have expected failures).  Exit status: 0 the plan ran, 1 it
 * could not (a namespace could not be entered, out of memory), 2 bad usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define LISTEN_BACKLOG 4096	/* as netprobe's bind (csrc/probe_sock.c) */
#define CALL_TIMEOUT_S 5	/* a connect or greeting slower than this failed */

enum op { OP_BIND, OP_CONNECT };

struct item {
	enum op op;
	struct sockaddr_storage ss;
	socklen_t len;
};

struct space {
	char *path;
	struct item *items;
	size_t nitems, cap;
};

struct plan {
	struct space *spaces;
	size_t nspaces, cap;
	size_t binds, connects;
};

struct shared {
	const struct plan *plan;
	atomic_size_t next;	/* the next namespace to take */
	atomic_size_t ok, failed;
	atomic_int broken;	/* a namespace could not be entered */
};

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Parses ADDR PORT into item; returns 0, or -1 when either is not numeric. */
static int parse_target(const char *addr, const char *port, struct item *it)
{
	char *end;
	unsigned long p;

	errno = 0;
	p = strtoul(port, &end, 10);
	if (errno || *end || end == port || p > 65535)
		return -1;
	memset(&it->ss, 0, sizeof(it->ss));
	if (strchr(addr, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&it->ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)p);
		it->len = sizeof(*s6);
		return inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1 ? 0 : -1;
	}
	struct sockaddr_in *s4 = (struct sockaddr_in *)&it->ss;

	s4->sin_family = AF_INET;
	s4->sin_port = htons((uint16_t)p);
	it->len = sizeof(*s4);
	return inet_pton(AF_INET, addr, &s4->sin_addr) == 1 ? 0 : -1;
}

/* Appends a zeroed element to an array of size *n, capacity *cap; NULL on ENOMEM. */
static void *grow(void **arr, size_t *n, size_t *cap, size_t size)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		void *p = realloc(*arr, ncap * size);

		if (!p)
			return NULL;
		*arr = p;
		*cap = ncap;
	}
	char *slot = (char *)*arr + (*n)++ * size;

	memset(slot, 0, size);
	return slot;
}

/* Reads the whole plan from f; returns 0, or -1 after saying on stderr what is wrong. */
static int read_plan(FILE *f, struct plan *pl)
{
	char line[512], a[256], b[256], c[16];
	unsigned lineno = 0;

	while (fgets(line, sizeof(line), f)) {
		struct space *sp = pl->nspaces ? &pl->spaces[pl->nspaces - 1] : NULL;
		struct item *it;

		lineno++;
		if (line[0] == '\n' || line[0] == '#')
			continue;
		if (sscanf(line, "ns %255s", a) == 1) {
			sp = grow((void **)&pl->spaces, &pl->nspaces, &pl->cap, sizeof(*sp));
			if (!sp || !(sp->path = strdup(a)))
				goto nomem;
			continue;
		}
		if (sscanf(line, "%15s %255s %255s", c, a, b) != 3 ||
		    (strcmp(c, "bind") != 0 && strcmp(c, "connect") != 0) || !sp) {
			fprintf(stderr, "floor: line %u: expected `ns PATH`, `bind ADDR PORT` or "
				"`connect ADDR PORT` after an ns line\n", lineno);
			return -1;
		}
		it = grow((void **)&sp->items, &sp->nitems, &sp->cap, sizeof(*it));
		if (!it)
			goto nomem;
		it->op = strcmp(c, "bind") == 0 ? OP_BIND : OP_CONNECT;
		if (parse_target(a, b, it) < 0) {
			fprintf(stderr, "floor: line %u: %s %s is not a numeric address and port\n",
				lineno, a, b);
			return -1;
		}
		if (it->op == OP_BIND)
			pl->binds++;
		else
			pl->connects++;
	}
	return 0;
nomem:
	fprintf(stderr, "floor: line %u: out of memory\n", lineno);
	return -1;
}

/* One bind case: 0 when bind and listen worked, -1 (errno set) when a call failed. */
static int do_bind(const struct item *it)
{
	int fd = socket(it->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int ret = -1;

	if (fd < 0)
		return -1;
	if (bind(fd, (const struct sockaddr *)&it->ss, it->len) == 0 &&
	    listen(fd, LISTEN_BACKLOG) == 0)
		ret = 0;
	close(fd);
	return ret;
}

/* One connect case: 0 when it connected and the greeting line (or EOF) came, -1
 * (errno set) when a call failed or took longer than CALL_TIMEOUT_S. */
static int do_connect(const struct item *it)
{
	struct timeval tv = { .tv_sec = CALL_TIMEOUT_S };
	char buf[128];
	int fd = socket(it->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int ret = -1;
	ssize_t n;

	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
		goto out;
	if (connect(fd, (const struct sockaddr *)&it->ss, it->len) < 0)
		goto out;
	do
		n = recv(fd, buf, sizeof(buf), 0);
	while (n > 0 && !memchr(buf, '\n', (size_t)n));
	if (n >= 0)
		ret = 0;
out:
	close(fd);
	return ret;
}

/* A worker: namespaces one at a time until none is left. */
static void *worker(void *arg)
{
	struct shared *sh = arg;
	size_t i;

	while ((i = atomic_fetch_add(&sh->next, 1)) < sh->plan->nspaces) {
		const struct space *sp = &sh->plan->spaces[i];
		size_t ok = 0;
		int fd = open(sp->path, O_RDONLY | O_CLOEXEC);

		if (fd < 0 || setns(fd, CLONE_NEWNET) < 0) {
			fprintf(stderr, "floor: cannot enter %s: %s\n", sp->path, strerror(errno));
			atomic_store(&sh->broken, 1);
			if (fd >= 0)
				close(fd);
			continue;
		}
		close(fd);
		for (size_t k = 0; k < sp->nitems; k++)
			ok += (sp->items[k].op == OP_BIND ? do_bind(&sp->items[k])
							  : do_connect(&sp->items[k])) == 0;
		atomic_fetch_add(&sh->ok, ok);
		atomic_fetch_add(&sh->failed, sp->nitems - ok);
	}
	return NULL;
}

static void free_plan(struct plan *pl)
{
	for (size_t i = 0; i < pl->nspaces; i++) {
		free(pl->spaces[i].path);
		free(pl->spaces[i].items);
	}
	free(pl->spaces);
}

static void usage(FILE *f)
{
	fputs("usage: floor [--workers N] < PLAN\n"
	      "  PLAN lines: `ns PATH`, then `bind ADDR PORT` / `connect ADDR PORT`\n"
	      "  --workers N   threads, each in one namespace at a time (default: CPUs)\n", f);
}

/* Reads the options into *@workers.  Returns -1 to go on, or the exit status to
 * stop with (0 after --help, 2 after a bad option, said on stderr). */
static int parse_args(int argc, char **argv, long *workers)
{
	static const struct option longopts[] = {
		{ "workers", required_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	while ((opt = getopt_long(argc, argv, "j:h", longopts, NULL)) != -1) {
		char *end;

		switch (opt) {
		case 'j':
			errno = 0;
			*workers = strtol(optarg, &end, 10);
			if (errno || *end || *workers < 1 || *workers > 1024) {
				fprintf(stderr, "floor: --workers %s is not 1..1024\n", optarg);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || *workers < 1) {
		usage(stderr);
		return 2;
	}
	return -1;
}

/* Runs @workers threads over the plan of @sh until it is done.  Returns how many
 * threads ran (fewer when one could not start: sh->broken is then set). */
static long run_workers(struct shared *sh, pthread_t *tids, long workers)
{
	int err;

	for (long w = 0; w < workers; w++)
		if ((err = pthread_create(&tids[w], NULL, worker, sh)) != 0) {
			fprintf(stderr, "floor: pthread_create: %s\n", strerror(err));
			workers = w;
			atomic_store(&sh->broken, 1);
			break;
		}
	for (long w = 0; w < workers; w++)
		pthread_join(tids[w], NULL);
	return workers;
}

int main(int argc, char **argv)
{
	struct plan pl = { 0 };
	struct shared sh = { .plan = &pl };
	long workers = sysconf(_SC_NPROCESSORS_ONLN);
	pthread_t *tids;
	int64_t t0, elapsed;
	int ret = parse_args(argc, argv, &workers);

	if (ret >= 0)
		return ret;
	if (read_plan(stdin, &pl) < 0) {
		free_plan(&pl);
		return 2;
	}
	tids = calloc((size_t)workers, sizeof(*tids));
	if (!tids) {
		fputs("floor: out of memory\n", stderr);
		free_plan(&pl);
		return 1;
	}
	t0 = now_us();
	workers = run_workers(&sh, tids, workers);
	elapsed = now_us() - t0;
	printf("{\"workers\":%ld,\"namespaces\":%zu,\"binds\":%zu,\"connects\":%zu,"
	       "\"ok\":%zu,\"failed\":%zu,\"elapsed_us\":%lld}\n", workers, pl.nspaces,
	       pl.binds, pl.connects, atomic_load(&sh.ok), atomic_load(&sh.failed),
	       (long long)elapsed);
	fflush(stdout);
	free(tids);
	free_plan(&pl);
	return atomic_load(&sh.broken) ? 1 : 0;
}
