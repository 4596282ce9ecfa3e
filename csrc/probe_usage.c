/*
 * probe_usage.c: each command's name and usage text (cli_usage, cli_cmd_name in
 * probe_cli.h), apart from the option parser: the texts grow with every option.
 */
#include <stdio.h>

#include "probe_cli.h"

/* Each command's name and usage. */
static const struct {
	unsigned cmd;
	const char *name;
	const char *usage;
} usages[] = {
	{ FOR_BIND, "bind",
	  "usage: netprobe bind [--udp] [-4|-6] [--reuseaddr] [--reuseport] [--freebind]\n"
	  "                     [--bind-no-port] [--v6only 0|1] [--dev IF] [--no-listen]\n"
	  "                     [--retry-for S [--every MS]] [--delay MS]\n"
	  "                     [--family 4|6|any] [--addrconfig] [--first|--each|--all]\n"
	  "                     ADDR PORT [ADDR PORT ...]\n"
	  "Binds (and listens, for TCP) on each target, one record each.  All sockets stay\n"
	  "open until the last target is done, so a later target can conflict with an\n"
	  "earlier one.  -6 with an IPv4 ADDR binds ::ffff:ADDR on an IPv6 socket.\n"
	  "ADDR may be a name: getaddrinfo() with AI_PASSIVE (and AI_ADDRCONFIG), the\n"
	  "family --family (-4, -6); --first (default) binds the first result, --each\n"
	  "each in order until one works, --all every one (nginx, asyncio), all held\n"
	  "until the last: the first failure is the outcome.\n" },
	{ FOR_CONNECT, "connect",
	  "usage: netprobe connect [--udp] [-4|-6] [--src ADDR] [--sport PORT] [--freebind]\n"
	  "                        [--bind-no-port] [--dev IF] [--timeout MS] [--no-greet]\n"
	  "                        [--retry-for S [--every MS]] [--delay MS]\n"
	  "                        [--family 4|6|any] [--addrconfig] [--first|--each] ADDR PORT\n"
	  "ADDR may be a name: getaddrinfo() as a client calls it; --each (default) tries\n"
	  "each result in order until one connects, --first only the first.\n"
	  "Connects (TCP) or sends one datagram (UDP) and waits for a netprobe server to\n"
	  "say its name (\"peer_host\"); --no-greet stops at the connect.  Default timeout\n"
	  "1000 ms; a timeout is ETIMEDOUT.  --bind-no-port with --src: the bind takes no\n"
	  "port (IP_BIND_ADDRESS_NO_PORT), the connect chooses it.\n" },
	{ FOR_SERVE, "serve",
	  "usage: netprobe serve [--udp] [-4|-6] [--reuseaddr] [--reuseport] [--freebind]\n"
	  "                      [--bind-no-port] [--v6only 0|1] [--dev IF] [--ready-file PATH]\n"
	  "                      [--ready-fd N] [--lifetime SEC] [--proxy-to ADDR:PORT]\n"
	  "                      [--retry-for S [--every MS]] ADDR PORT\n"
	  "Listens and answers every client with \"netprobe HOST\\n\"; with --proxy-to, as\n"
	  "docker-proxy does, connects each client on to ADDR:PORT, relays both ways, and\n"
	  "closes the client without a byte when that connect fails.  The serve record on\n"
	  "stdout (also written to --ready-file/--ready-fd) says it is listening, or why it\n"
	  "is not: also when a readiness channel cannot be written (\"ok\":false, \"call\"\n"
	  "\"write(--ready-fd)\" ...).  Stops on SIGTERM/SIGINT or after --lifetime seconds.\n"
	  "Exit 1 when it could not listen or not say so.\n" },
	{ FOR_JOIN, "join",
	  "usage: netprobe join [-4|-6] [--if ADDR|IF|INDEX] [--src ADDR] [--reuseaddr]\n"
	  "                     [--reuseport] [--freebind] [--bind-no-port] [--v6only 0|1]\n"
	  "                     [--dev IF] GROUP [PORT]\n"
	  "Joins multicast GROUP on a UDP socket (IP_ADD_MEMBERSHIP with the interface's\n"
	  "address or index; IPv6: IPV6_JOIN_GROUP with an index), bound first to --src (or\n"
	  "the wildcard) and PORT when either is given.  No --if: the route to the group\n"
	  "chooses.  One record.\n" },
	{ FOR_MCAST_IF, "mcast-if",
	  "usage: netprobe mcast-if [-4|-6] [--if ADDR|IF|INDEX] [--src ADDR] [--reuseaddr]\n"
	  "                         [--reuseport] [--freebind] [--bind-no-port] [--v6only 0|1]\n"
	  "                         [--dev IF] GROUP [PORT]\n"
	  "Sets the interface multicast to GROUP leaves by (IP_MULTICAST_IF with an address,\n"
	  "or an index; IPv6: IPV6_MULTICAST_IF with an index) on a UDP socket, bound first\n"
	  "as a join is.  One record.\n" },
	{ FOR_SEND, "send",
	  "usage: netprobe send [-4|-6] [--src ADDR] [--sport PORT] [--pktinfo ADDR] [--if IF]\n"
	  "                     [--reuseaddr] [--reuseport] [--freebind] [--bind-no-port]\n"
	  "                     [--v6only 0|1] [--dev IF] [--repeat-stdin] ADDR PORT\n"
	  "Sends one UDP datagram to ADDR:PORT: sendto() from the source bound first\n"
	  "(--src, --sport), or sendmsg() with the source --pktinfo and/or the interface\n"
	  "--if in IP_PKTINFO / IPV6_PKTINFO.  The record's \"local\" is the address the\n"
	  "socket had after the send.  --repeat-stdin: send again on the same socket for\n"
	  "each line read on stdin, one record each, until end of input.\n" },
	{ FOR_BATCH, "batch",
	  "usage: netprobe batch [--parallel N] [PLAN]\n"
	  "Runs every case of PLAN (a file, or stdin): binds, joins, mcast-ifs and sends in\n"
	  "order, then connects concurrently (N in flight, default 256).  Plan line:\n"
	  "  ID OP PROTO ADDR PORT [OPTION ...]   ('#' starts a comment line)\n"
	  "  OP bind|connect|join|mcast-if|send  PROTO tcp|udp  OPTION reuseaddr reuseport\n"
	  "  freebind bindnoport v6only=0|1 dev=IF hold nolisten src=ADDR sport=PORT\n"
	  "  timeout=MS nogreet family=4|6|any if=ADDR|IF|INDEX pktinfo=ADDR retry=S every=MS\n"
	  "  delay=MS\n"
	  "  A bind's or connect's ADDR may be a name: resolve=first|each addrconfig\n"
	  "  (a bind's also resolve=all)\n"
	  "--retry-for S (retry=S): a failed bind or connect is tried again every MS ms\n"
	  "(--every, every=; default 100) for up to S seconds; the record lists each try.\n"
	  "--delay MS (delay=MS): its first try starts MS ms late.\n" },
};
#define NUSAGES (sizeof(usages) / sizeof(usages[0]))

void cli_usage(FILE *f, unsigned cmd)
{
	for (size_t i = 0; i < NUSAGES; i++)
		if (usages[i].cmd == cmd)
			fputs(usages[i].usage, f);
}

const char *cli_cmd_name(unsigned cmd)
{
	for (size_t i = 0; i < NUSAGES; i++)
		if (usages[i].cmd == cmd)
			return usages[i].name;
	return "?";
}
