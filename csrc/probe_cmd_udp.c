/*
 * probe_cmd_udp.c: `netprobe join`, `netprobe mcast-if` and `netprobe send`, one
 * case each through probe_udp.h, one record (send --repeat-stdin: one a line of
 * stdin more, on the same socket).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "probe_cli.h"
#include "probe_cmd.h"
#include "probe_record.h"
#include "probe_udp.h"

/*
 * Reads the command line of the UDP call @cmd (FOR_JOIN, FOR_MCAST_IF, FOR_SEND)
 * into @c: ADDR PORT, or for a join or mcast-if GROUP [PORT] (no PORT: 0, no
 * bind).  Returns 0, 1 after --help, or -1 after saying what was wrong.
 */
static int udp_command_line(int argc, char **argv, unsigned cmd, struct cli *cli,
			    struct probe_case *c)
{
	enum probe_op op = cmd == FOR_JOIN ? OP_JOIN : cmd == FOR_MCAST_IF ? OP_MCAST_IF : OP_SEND;
	int n;

	if (cli_parse(argc, argv, cmd, cli) < 0)
		return -1;
	if (cli->help)
		return 1;
	n = argc - cli->first_arg;
	if (op == OP_SEND && n != 2)
		return opt_bad(&cli->opt, "takes ADDR PORT");
	if (n < 1 || n > 2)
		return opt_bad(&cli->opt, "takes GROUP [PORT]");
	return cli_target(cli, op, argv[cli->first_arg], n == 2 ? argv[cli->first_arg + 1] : "0",
			  c);
}

/* Writes the record of @c / @r.  Returns 0, or -1 after saying why on stderr. */
static int say(const struct probe_case *c, const struct probe_result *r)
{
	if (record_write(stdout, probe_host(), c, r) == 0)
		return 0;
	probe_warn("writing a record: %s", strerror(errno));
	return -1;
}

/* Sends @c again on @fd for each line of stdin, one record each.  Returns 0, or -1
 * when a record could not be written. */
static int send_per_line(int fd, const struct probe_case *c)
{
	char line[256];
	struct probe_result r;

	while (fgets(line, sizeof(line), stdin)) {
		if (!strchr(line, '\n') && !feof(stdin))
			continue;	/* the rest of a long line: one send a line */
		probe_send_again(fd, c, &r);
		if (say(c, &r) < 0)
			return -1;
	}
	return 0;
}

/* Runs the UDP call @cmd: @argv from the command's name on; returns the exit
 * status (probe_cmd.h: 0 the probe worked, 1 it could not, 2 bad usage). */
static int udp_command(int argc, char **argv, unsigned cmd)
{
	struct cli cli;
	struct probe_case c;
	struct probe_result r;
	int fd, ret = EXIT_PROBE_OK;

	switch (udp_command_line(argc, argv, cmd, &cli, &c)) {
	case 1: return EXIT_PROBE_OK;	/* --help */
	case -1: return EXIT_USAGE;
	}
	fd = c.op == OP_SEND ? probe_send(&c, &r) : probe_join(&c, &r);
	if (say(&c, &r) < 0)
		ret = EXIT_PROBE_FAILED;
	else if (cli.repeat_stdin && fd >= 0 && send_per_line(fd, &c) < 0)
		ret = EXIT_PROBE_FAILED;
	if (fd >= 0)
		close(fd);
	return ret;
}

int cmd_join(int argc, char **argv)
{
	return udp_command(argc, argv, FOR_JOIN);
}

int cmd_mcast_if(int argc, char **argv)
{
	return udp_command(argc, argv, FOR_MCAST_IF);
}

int cmd_send(int argc, char **argv)
{
	return udp_command(argc, argv, FOR_SEND);
}
