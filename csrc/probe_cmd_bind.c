/*
 * probe_cmd_bind.c: `netprobe bind`, one bind (and listen, for TCP) per ADDR PORT
 * target, one record each.  Every socket stays open until the last target is done,
 * so a later target can conflict with an earlier one.  --retry-for: each target
 * is tried again until it binds or its time is up (probe_retry.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "probe_cli.h"
#include "probe_cmd.h"
#include "probe_record.h"
#include "probe_resolve.h"
#include "probe_retry.h"
#include "probe_sock.h"

/* Runs bind case @c (by name or numeric) and writes its record to stdout.
 * Returns the bound fd or -1 in *@fd; returns 0, or -1 with errno when the record
 * could not be written. */
static int bind_one(const struct probe_case *c, int *fd)
{
	struct probe_result r;
	struct probe_case at;
	struct name_outcome o;
	char line[RECORD_MAX];
	size_t n;

	if (!c->name.text[0]) {
		struct retry rt;
		int wrote;

		*fd = retry_bind(c, &r, &rt, NULL);
		wrote = record_write(stdout, probe_host(), c, &r);
		retry_end(&rt);
		return wrote;
	}
	*fd = name_bind(c, &o, &at, &r);
	n = name_record_format(line, sizeof(line), probe_host(), &at, &r, &o);
	if (fwrite(line, 1, n, stdout) != n || fflush(stdout) != 0)
		return -1;
	return 0;
}

/* `netprobe bind`: @argv from the command's name on; returns the exit status
 * (probe_cmd.h: 0 the probe worked, 1 it could not, 2 bad usage). */
int cmd_bind(int argc, char **argv)
{
	struct cli cli;
	struct probe_case *cases = NULL;
	int *fds = NULL;
	size_t n, done = 0;
	int ret = EXIT_USAGE;

	if (cli_parse(argc, argv, FOR_BIND, &cli) < 0)
		return EXIT_USAGE;
	if (cli.help)
		return EXIT_PROBE_OK;
	n = (size_t)(argc - cli.first_arg) / 2;
	if (n == 0 || (argc - cli.first_arg) % 2) {
		opt_bad(&cli.opt, "takes ADDR PORT pairs");
		return EXIT_USAGE;
	}
	cases = calloc(n, sizeof(*cases));
	fds = calloc(n, sizeof(*fds));
	if (!cases || !fds) {
		probe_warn("out of memory");
		ret = EXIT_PROBE_FAILED;
		goto out;
	}
	/* every target is checked before the first socket is made */
	for (size_t i = 0; i < n; i++)
		if (cli_target(&cli, OP_BIND, argv[cli.first_arg + 2 * i],
			       argv[cli.first_arg + 2 * i + 1], &cases[i]) < 0)
			goto out;
	ret = EXIT_PROBE_OK;
	for (done = 0; done < n; done++) {
		if (bind_one(&cases[done], &fds[done]) < 0) {
			probe_warn("writing a record: %s", strerror(errno));
			ret = EXIT_PROBE_FAILED;
			done++;
			break;
		}
	}
out:
	for (size_t i = 0; i < done; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(cases);
	free(fds);
	return ret;
}
