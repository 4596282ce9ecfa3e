/*
 * probe_cmd_connect.c: `netprobe connect`, one connect case through the connect
 * engine (probe_connect.h), one record.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "probe_cli.h"
#include "probe_cmd.h"
#include "probe_connect.h"
#include "probe_record.h"

/* `netprobe connect`: @argv from the command's name on; returns the exit status
 * (probe_cmd.h: 0 the probe worked, 1 it could not, 2 bad usage). */
int cmd_connect(int argc, char **argv)
{
	struct cli cli;
	struct probe_case c;

	if (cli_parse(argc, argv, FOR_CONNECT, &cli) < 0)
		return EXIT_USAGE;
	if (cli.help)
		return EXIT_PROBE_OK;
	if (argc - cli.first_arg != 2) {
		opt_bad(&cli.opt, "takes ADDR PORT");
		return EXIT_USAGE;
	}
	if (cli_target(&cli, OP_CONNECT, argv[cli.first_arg], argv[cli.first_arg + 1], &c) < 0)
		return EXIT_USAGE;
	if (connect_run(&c, 1, 1, cli_emit_record, NULL) < 0) {
		if (errno != EPIPE)
			probe_warn("connect engine: %s", strerror(errno));
		return EXIT_PROBE_FAILED;
	}
	return EXIT_PROBE_OK;
}
