/*
 * probe_cmd_batch.c: `netprobe batch`, every case of a plan (probe_plan.h): the
 * whole plan is parsed first, then the binds, joins, mcast-ifs and sends run one
 * after another in plan order (probe_udp.h), then the connects concurrently
 * (probe_connect.h).  One record per case, queued
 * for a writer thread (probe_outq.h), so a slow reader of stdout never holds up
 * the cases.  Descriptors are back-pressure, not outcomes: when the held sockets
 * take every one the limit allows, batch says so and exits 1.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "probe_cli.h"
#include "probe_cmd.h"
#include "probe_connect.h"
#include "probe_outq.h"
#include "probe_plan.h"
#include "probe_record.h"
#include "probe_resolve.h"
#include "probe_retry.h"
#include "probe_sock.h"
#include "probe_udp.h"

/* A plan_report_fn: says @msg on stderr, after the plan's name @arg. */
static void plan_problem(void *arg, const char *msg)
{
	probe_warn("%s: %s", (const char *)arg, msg);
}

/* Lets a batch hold as many sockets as the hard limit allows. */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* Where a batch's records go, and how many sockets it holds. */
struct batch_out {
	struct outq q;		/* to stdout, by the writer thread */
	size_t held;		/* `hold` sockets open now (binds and connects) */
};

/* Queues the record of @c / @r on @out.  A connect_emit_fn (@arg: the batch_out).
 * Returns 0, or -1 with errno (EPIPE once stdout is gone, ENOMEM). */
static int queue_record(const struct probe_case *c, const struct probe_result *r, void *arg)
{
	struct batch_out *out = arg;
	char line[RECORD_MAX];
	size_t len = record_format(line, sizeof(line), probe_host(), c, r);

	if (c->opts.hold && r->err == 0)
		out->held++;
	return outq_put(&out->q, line, len);
}

/*
 * Runs name case @c (probe_resolve.h; a bind or a connect) and queues its record
 * on @out.  Returns the bound fd of a bind (or -1), -1 for a connect; *@failed
 * set with errno when the record queue or the connect engine failed.
 */
static int run_name(const struct probe_case *c, struct batch_out *out, bool *failed)
{
	struct probe_result r;
	struct probe_case at;
	struct name_outcome o;
	char line[RECORD_MAX];
	int fd = -1;

	*failed = false;
	if (c->op == OP_BIND)
		fd = name_bind(c, &o, &at, &r);
	else if (name_connect(c, &o, &at, &r) < 0) {
		*failed = true;
		return -1;
	}
	if (c->opts.hold && r.err == 0 && !o.gai && fd >= 0)
		out->held++;
	if (outq_put(&out->q, line, name_record_format(line, sizeof(line), probe_host(), &at,
						       &r, &o)) < 0) {
		*failed = true;
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Runs the connect cases of @plan whose ADDR is a name, one after another (each
 * tries its addresses in order, as a client does).  Returns 0, or -1 with errno. */
static int run_name_connects(const struct plan *plan, struct batch_out *out)
{
	bool failed;

	for (size_t i = 0; i < plan->n; i++) {
		if (plan->cases[i].op != OP_CONNECT || !plan->cases[i].name.text[0])
			continue;
		run_name(&plan->cases[i], out, &failed);
		if (failed)
			return -1;
	}
	return 0;
}

/* Says that the held sockets took every descriptor (errno EMFILE or ENFILE). */
static void say_descriptors_exhausted(const struct batch_out *out)
{
	struct rlimit rl;
	int err = errno;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && err == EMFILE)
		probe_warn("out of file descriptors: the %zu sockets this plan holds (hold) take "
			   "all that RLIMIT_NOFILE allows (%llu); raise it (ulimit -n) or hold "
			   "fewer", out->held, (unsigned long long)rl.rlim_cur);
	else
		probe_warn("out of file descriptors (%s) with %zu sockets held (hold) and none "
			   "in flight to free one", strerror(err), out->held);
}

/*
 * Deals with the outcome of a try of case @c (fd @fd, result @r; @rt its clock,
 * NULL in a plan without retry=): a try to come keeps nothing; otherwise a `hold`
 * socket joins @held, any other is closed, and the record is queued.  Returns 0,
 * or -1 with errno: the queue's, or EMFILE/ENFILE for no descriptor (a probe
 * failure, not the case's outcome).
 */
static int bind_done(const struct probe_case *c, int fd, struct probe_result *r,
		     struct retry *rt, int *held, size_t *nheld, struct batch_out *out)
{
	if (fd < 0 && result_no_descriptor(r)) {
		errno = r->err;
		return -1;
	}
	if (rt && retry_note(rt, r))
		return 0;
	if (fd >= 0 && c->opts.hold)
		held[(*nheld)++] = fd;
	else if (fd >= 0)
		close(fd);
	return queue_record(c, r, out);
}

/*
 * Tries the @n binds of @later again, each when its next try is due, until each
 * is done (bind_done()).  Returns 0, or -1 with errno as bind_done().
 */
static int retry_binds_later(struct retry *later, size_t n, int *held, size_t *nheld,
			     struct batch_out *out)
{
	for (;;) {
		struct retry *first = NULL;
		struct probe_result r;

		for (size_t i = 0; i < n; i++)
			if (later[i].active && (!first || later[i].next_us < first->next_us))
				first = &later[i];
		if (!first)
			return 0;
		retry_wait(first->next_us, NULL);
		first->try_us = now_us();
		if (bind_done(first->c, probe_run_at_once(first->c, &r), &r, first, held,
			      nheld, out) < 0)
			return -1;
	}
}

/*
 * Runs the cases of @plan that are not connects (bind, join, mcast-if, send) one
 * after another in plan order, keeping `hold` sockets in @held (a held join stays
 * a member), and queues their records.  A retrying case (retry=) whose first try
 * failed is tried again once every other has had its first.  Returns 0, or -1 with errno: the record
 * queue's error, or EMFILE/ENFILE when no descriptor is left for a bind (the held
 * ones take them all: a probe failure, not the case's outcome).
 */
static int run_binds(const struct plan *plan, int *held, size_t *nheld, struct batch_out *out)
{
	struct retry *later = NULL;
	size_t nlater = 0;
	int ret = -1;

	if (retry_any(plan->cases, plan->n) &&
	    !(later = calloc(plan->n, sizeof(*later)))) {
		errno = ENOMEM;
		return -1;
	}
	for (size_t i = 0; i < plan->n; i++) {
		const struct probe_case *c = &plan->cases[i];
		struct probe_result r;
		struct retry *rt = later ? &later[nlater] : NULL;

		if (c->op == OP_CONNECT)
			continue;
		if (c->name.text[0]) {	/* by name: never retry= (the plan refuses both) */
			bool failed;
			int fd = run_name(c, out, &failed);

			if (failed)
				goto out;
			if (fd >= 0 && c->opts.hold)
				held[(*nheld)++] = fd;
			else if (fd >= 0)
				close(fd);
			continue;
		}
		if (rt && retry_begin(rt, c) < 0)
			goto out;
		if (c->opts.delay_ms) {		/* its first try comes later */
			nlater++;
			continue;
		}
		if (bind_done(c, probe_run_at_once(c, &r), &r, rt, held, nheld, out) < 0)
			goto out;
		if (rt && rt->active)
			nlater++;	/* tried again below, after the plan's first round */
		else if (rt)
			retry_end(rt);
	}
	ret = retry_binds_later(later, nlater, held, nheld, out);
out:
	for (size_t i = 0; later && i < plan->n; i++)
		retry_end(&later[i]);
	free(later);
	return ret;
}

/*
 * Reads the plan the command line names (a PLAN file, "-" or none: stdin) into
 * @plan, its problems said on stderr.  Returns EXIT_PROBE_OK, or the exit status
 * to stop with: EXIT_USAGE for a bad command line or plan (or a PLAN that cannot
 * be read), EXIT_PROBE_FAILED when memory ran out.
 */
static int batch_plan(int argc, char **argv, const struct cli *cli, struct plan *plan)
{
	const char *name = "stdin";
	FILE *f = stdin;
	int ret = EXIT_PROBE_OK;

	if (argc - cli->first_arg > 1) {
		opt_bad(&cli->opt, "takes at most one PLAN file");
		return EXIT_USAGE;
	}
	if (argc - cli->first_arg == 1 && strcmp(argv[cli->first_arg], "-") != 0) {
		name = argv[cli->first_arg];
		f = fopen(name, "re");
		if (!f) {
			probe_warn("cannot open plan %s: %s", name, strerror(errno));
			return EXIT_USAGE;
		}
	}
	if (plan_read(f, plan, plan_problem, (void *)name) < 0)
		/* a bad plan (or a PLAN that cannot be read) is bad usage; memory is not */
		ret = errno == ENOMEM ? EXIT_PROBE_FAILED : EXIT_USAGE;
	if (f != stdin)
		fclose(f);
	return ret;
}

/* Says on stderr why the binds or the connects stopped (errno). */
static void say_why_stopped(const struct batch_out *out)
{
	if (errno == EMFILE || errno == ENFILE)
		say_descriptors_exhausted(out);
	else if (errno == EPIPE || errno == ENOMEM)
		probe_warn("writing a record: %s", strerror(errno));
	else
		probe_warn("connect engine: %s", strerror(errno));
}

/*
 * Runs every case of @plan: the binds one after another in plan order, then the
 * connects, @parallel in flight; each record goes to stdout through the writer
 * thread.  Returns the exit status (EXIT_PROBE_OK, or EXIT_PROBE_FAILED after
 * saying why on stderr).
 */
static int batch_run(const struct plan *plan, unsigned parallel)
{
	struct probe_case *connects = NULL;
	struct batch_out out = { .held = 0 };
	int *held = NULL;
	size_t nconn = 0, nheld = 0;
	bool queue = false;
	int ret = EXIT_PROBE_FAILED;

	raise_fd_limit();
	connects = calloc(plan->n + 1, sizeof(*connects));
	held = calloc(plan->n + 1, sizeof(*held));
	if (!connects || !held) {
		probe_warn("out of memory");
		goto out;
	}
	for (size_t i = 0; i < plan->n; i++)
		if (plan->cases[i].op == OP_CONNECT && !plan->cases[i].name.text[0])
			connects[nconn++] = plan->cases[i];
	if (fflush(stdout) != 0 || outq_start(&out.q, STDOUT_FILENO) < 0) {
		probe_warn("starting the record writer: %s", strerror(errno));
		goto out;
	}
	queue = true;
	/* binds one after another, in plan order; then the connects, concurrently */
	if (run_binds(plan, held, &nheld, &out) < 0 ||
	    (retry_any(connects, nconn) ? retry_connects : connect_run)(connects, nconn, parallel,
									 queue_record, &out) < 0 ||
	    run_name_connects(plan, &out) < 0) {
		say_why_stopped(&out);
		goto out;
	}
	ret = EXIT_PROBE_OK;
out:
	if (queue && outq_finish(&out.q) < 0 && ret == EXIT_PROBE_OK) {
		probe_warn("writing a record: %s", strerror(errno));
		ret = EXIT_PROBE_FAILED;
	}
	for (size_t i = 0; i < nheld; i++)
		close(held[i]);
	free(held);
	free(connects);
	return ret;
}

/* `netprobe batch`: @argv from the command's name on; returns the exit status
 * (probe_cmd.h: 0 the probe worked, 1 it could not, 2 bad usage). */
int cmd_batch(int argc, char **argv)
{
	struct cli cli;
	struct plan plan = { 0 };
	int ret;

	if (cli_parse(argc, argv, FOR_BATCH, &cli) < 0)
		return EXIT_USAGE;
	if (cli.help)
		return EXIT_PROBE_OK;
	ret = batch_plan(argc, argv, &cli, &plan);
	if (ret == EXIT_PROBE_OK)
		ret = batch_run(&plan, cli.parallel);
	free(plan.cases);
	return ret;
}
