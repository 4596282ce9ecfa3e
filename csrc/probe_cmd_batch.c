/*
 * probe_cmd_batch.c: `netprobe batch`, every case of a plan (probe_plan.h): the
 * whole plan is parsed first, then the binds run one after another in plan order,
 * then the connects concurrently (probe_connect.h).  One record per case.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "probe_cli.h"
#include "probe_cmd.h"
#include "probe_connect.h"
#include "probe_plan.h"
#include "probe_record.h"
#include "probe_sock.h"

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

int cmd_batch(int argc, char **argv)
{
	struct cli cli;
	struct probe_case *connects = NULL;
	struct plan plan = { 0 };
	int *held = NULL;
	size_t nconn = 0, nheld = 0;
	const char *name = "stdin";
	FILE *f = stdin;
	int ret = EXIT_PROBE_FAILED;

	if (cli_parse(argc, argv, FOR_BATCH, &cli) < 0)
		return EXIT_USAGE;
	if (cli.help)
		return EXIT_PROBE_OK;
	if (argc - cli.first_arg > 1) {
		opt_bad(&cli.opt, "takes at most one PLAN file");
		return EXIT_USAGE;
	}
	if (argc - cli.first_arg == 1 && strcmp(argv[cli.first_arg], "-") != 0) {
		name = argv[cli.first_arg];
		f = fopen(name, "re");
		if (!f) {
			probe_warn("cannot open plan %s: %s", name, strerror(errno));
			return EXIT_USAGE;
		}
	}
	if (plan_read(f, &plan, plan_problem, (void *)name) < 0) {
		/* a bad plan (or a PLAN that cannot be read) is bad usage; memory is not */
		ret = errno == ENOMEM ? EXIT_PROBE_FAILED : EXIT_USAGE;
		if (f != stdin)
			fclose(f);
		return ret;
	}
	if (f != stdin)
		fclose(f);

	raise_fd_limit();
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	connects = calloc(plan.n + 1, sizeof(*connects));
	held = calloc(plan.n + 1, sizeof(*held));
	if (!connects || !held) {
		probe_warn("out of memory");
		goto out;
	}
	/* binds one after another, in plan order; connects gathered for the engine */
	for (size_t i = 0; i < plan.n; i++) {
		struct probe_case *c = &plan.cases[i];
		struct probe_result r;
		char line[RECORD_MAX];
		size_t len;
		int fd;

		if (c->op == OP_CONNECT) {
			connects[nconn++] = *c;
			continue;
		}
		fd = probe_bind(c, &r);
		if (fd >= 0 && c->opts.hold)
			held[nheld++] = fd;
		else if (fd >= 0)
			close(fd);
		len = record_format(line, sizeof(line), probe_host(), c, &r);
		if (fwrite(line, 1, len, stdout) != len) {
			probe_warn("writing a record: %s", strerror(errno));
			goto out;
		}
	}
	/* bind records went out as a burst; connect records stream one by one */
	if (fflush(stdout) != 0) {
		probe_warn("writing a record: %s", strerror(errno));
		goto out;
	}
	if (connect_run(connects, nconn, cli.parallel, cli_emit_record, NULL) < 0) {
		if (errno != EPIPE)
			probe_warn("connect engine: %s", strerror(errno));
		goto out;
	}
	ret = EXIT_PROBE_OK;
out:
	for (size_t i = 0; i < nheld; i++)
		close(held[i]);
	free(held);
	free(connects);
	free(plan.cases);
	return ret;
}
