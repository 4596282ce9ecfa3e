/*
 * probe_cli.h: the command-line options the socket commands share.
 *
 * bind, connect and serve take the same spelling for the same socket option, and
 * each option means what the plan word of the same name means (probe_plan.h).
 */
#ifndef PROBE_CLI_H
#define PROBE_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "probe_case.h"
#include "probe_opt.h"

/* Which commands take an option. */
#define FOR_BIND 1u
#define FOR_CONNECT 2u
#define FOR_SERVE 4u
#define FOR_BATCH 8u
#define FOR_JOIN 16u
#define FOR_MCAST_IF 32u
#define FOR_SEND 64u
/* The commands that make a socket (all but batch), and the UDP calls of probe_udp.h. */
#define FOR_UDP_CALLS (FOR_JOIN | FOR_MCAST_IF | FOR_SEND)
#define FOR_SOCKETS (FOR_BIND | FOR_CONNECT | FOR_SERVE | FOR_UDP_CALLS)

struct cli {
	struct probe_case tmpl;	/* proto and options; addr/port come per target */
	int family;		/* AF_UNSPEC, or AF_INET/AF_INET6 from -4/-6 */
	const char *src;	/* --src text, parsed once the family is known */
	const char *pktinfo;	/* send: --pktinfo text, parsed likewise */
	bool repeat_stdin;	/* send: send again for each line on stdin */
	const char *ready_file;	/* serve */
	int ready_fd;		/* serve, -1 for none */
	unsigned lifetime_s;	/* serve, 0 = until signalled */
	const char *proxy_to;	/* serve: --proxy-to ADDR:PORT text, NULL for none */
	unsigned parallel;	/* batch: connects in flight */
	int name_each;		/* bind, connect: a name's --first (0), --each (1), -1 default */
	bool addrconfig;	/* bind, connect: a name resolved with AI_ADDRCONFIG */
	int first_arg;		/* index of the first positional argument */
	int help;		/* --help was given: usage printed, exit 0 */
	struct opt_parser opt;	/* the parser, kept for cli_target()'s messages */
	struct option longopts[32];	/* the options of this command, for @opt */
};

/*
 * Parses the options of command @cmd (one of FOR_*) from @argv.  Returns 0 and
 * fills @cli (cli->help set when --help printed the usage on stdout), or -1 after
 * printing what was wrong and the command's usage on stderr.  @cli must outlive
 * the use of cli_target().
 */
int cli_parse(int argc, char **argv, unsigned cmd, struct cli *cli);

/*
 * Builds one case from the template and the positional ADDR PORT at @addr/@port.
 * Returns 0, or -1 after printing which argument was wrong and the usage.
 */
int cli_target(const struct cli *cli, enum probe_op op, const char *addr, const char *port,
	       struct probe_case *out);

/* The command of the FOR_* bit @cmd as messages name it ("mcast-if"). */
const char *cli_cmd_name(unsigned cmd);

/*
 * The command line of a command that takes one ADDR PORT (connect, serve):
 * cli_parse() for command @cmd, then cli_target() for operation @op into @c.
 * Returns 0 with @c filled, 1 when --help printed the usage (exit 0), or -1 after
 * saying what was wrong and the usage on stderr (exit 2).
 */
int cli_parse_one_target(int argc, char **argv, unsigned cmd, enum probe_op op, struct cli *cli,
			 struct probe_case *c);

/* Prints the usage of command @cmd on @f. */
void cli_usage(FILE *f, unsigned cmd);

#endif
