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

/* Reads and parses the whole plan from @f.  Returns the number of cases in *@out
 * (owned by the caller), or -1 after printing every malformed line. */
static ssize_t plan_read(FILE *f, const char *name, struct probe_case **out)
{
	struct probe_case *cases = NULL;
	size_t n = 0, cap = 0, lineno = 0, cap_line = 0;
	char *line = NULL, err[320];
	ssize_t len;
	int bad_lines = 0;

	while ((len = getline(&line, &cap_line, f)) >= 0) {
		lineno++;
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if ((size_t)len != strlen(line)) {
			probe_warn("%s: plan line %zu: contains a NUL byte", name, lineno);
			bad_lines++;
			continue;
		}
		if (n == cap) {
			struct probe_case *more;

			cap = cap ? cap * 2 : 256;
			more = realloc(cases, cap * sizeof(*cases));
			if (!more) {
				probe_warn("out of memory reading the plan");
				bad_lines++;
				break;
			}
			cases = more;
		}
		switch (plan_parse_line(line, lineno, &cases[n], err, sizeof(err))) {
		case 1:
			n++;
			break;
		case 0:
			break;
		default:
			probe_warn("%s: %s", name, err);
			if (++bad_lines == 20) {
				probe_warn("%s: stopping after 20 malformed lines", name);
				goto done;
			}
		}
	}
	if (ferror(f)) {
		probe_warn("%s: read error: %s", name, strerror(errno));
		bad_lines++;
	}
done:
	free(line);
	if (bad_lines) {
		free(cases);
		return -1;
	}
	*out = cases;
	return (ssize_t)n;
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
	struct probe_case *cases = NULL, *connects = NULL;
	int *held = NULL;
	size_t nconn = 0, nheld = 0;
	const char *name = "stdin";
	FILE *f = stdin;
	ssize_t n;
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
	n = plan_read(f, name, &cases);
	if (f != stdin)
		fclose(f);
	if (n < 0)
		return EXIT_USAGE;

	raise_fd_limit();
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	connects = calloc((size_t)n + 1, sizeof(*connects));
	held = calloc((size_t)n + 1, sizeof(*held));
	if (!connects || !held) {
		probe_warn("out of memory");
		goto out;
	}
	/* binds one after another, in plan order; connects gathered for the engine */
	for (ssize_t i = 0; i < n; i++) {
		struct probe_result r;
		char line[RECORD_MAX];
		size_t len;
		int fd;

		if (cases[i].op == OP_CONNECT) {
			connects[nconn++] = cases[i];
			continue;
		}
		fd = probe_bind(&cases[i], &r);
		if (fd >= 0 && cases[i].opts.hold)
			held[nheld++] = fd;
		else if (fd >= 0)
			close(fd);
		len = record_format(line, sizeof(line), probe_host(), &cases[i], &r);
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
	free(cases);
	return ret;
}
