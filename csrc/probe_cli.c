/*
 * probe_cli.c: the command-line options that bind, connect, serve and batch share
 * (see probe_cli.h).
 */
#include "probe_cli.h"

#include <string.h>

#include "probe_cmd.h"
#include "probe_opt.h"
#include "probe_plan.h"

#define DEFAULT_PARALLEL 256

enum {
	OPT_REUSEADDR = 256, OPT_REUSEPORT, OPT_FREEBIND, OPT_V6ONLY, OPT_DEV, OPT_NOLISTEN,
	OPT_SRC, OPT_SPORT, OPT_TIMEOUT, OPT_NOGREET, OPT_READY_FILE, OPT_READY_FD,
	OPT_LIFETIME, OPT_PARALLEL, OPT_PROXY_TO,
};

static const struct {
	struct option opt;
	unsigned cmds;
} options[] = {
	{ { "udp", no_argument, NULL, 'u' }, FOR_BIND | FOR_CONNECT | FOR_SERVE },
	{ { "ipv4", no_argument, NULL, '4' }, FOR_BIND | FOR_CONNECT | FOR_SERVE },
	{ { "ipv6", no_argument, NULL, '6' }, FOR_BIND | FOR_CONNECT | FOR_SERVE },
	{ { "reuseaddr", no_argument, NULL, OPT_REUSEADDR }, FOR_BIND | FOR_CONNECT | FOR_SERVE },
	{ { "reuseport", no_argument, NULL, OPT_REUSEPORT }, FOR_BIND | FOR_CONNECT | FOR_SERVE },
	{ { "freebind", no_argument, NULL, OPT_FREEBIND }, FOR_BIND | FOR_CONNECT | FOR_SERVE },
	{ { "v6only", required_argument, NULL, OPT_V6ONLY }, FOR_BIND | FOR_CONNECT | FOR_SERVE },
	{ { "dev", required_argument, NULL, OPT_DEV }, FOR_BIND | FOR_CONNECT | FOR_SERVE },
	{ { "no-listen", no_argument, NULL, OPT_NOLISTEN }, FOR_BIND },
	{ { "src", required_argument, NULL, OPT_SRC }, FOR_CONNECT },
	{ { "sport", required_argument, NULL, OPT_SPORT }, FOR_CONNECT },
	{ { "timeout", required_argument, NULL, OPT_TIMEOUT }, FOR_CONNECT },
	{ { "no-greet", no_argument, NULL, OPT_NOGREET }, FOR_CONNECT },
	{ { "ready-file", required_argument, NULL, OPT_READY_FILE }, FOR_SERVE },
	{ { "ready-fd", required_argument, NULL, OPT_READY_FD }, FOR_SERVE },
	{ { "lifetime", required_argument, NULL, OPT_LIFETIME }, FOR_SERVE },
	{ { "proxy-to", required_argument, NULL, OPT_PROXY_TO }, FOR_SERVE },
	{ { "parallel", required_argument, NULL, OPT_PARALLEL }, FOR_BATCH },
	{ { "help", no_argument, NULL, 'h' }, FOR_BIND | FOR_CONNECT | FOR_SERVE | FOR_BATCH },
};
#define NOPTIONS (sizeof(options) / sizeof(options[0]))
_Static_assert(NOPTIONS < sizeof(((struct cli *)0)->longopts) / sizeof(struct option),
	       "struct cli's longopts has no room for every option and the end marker");

void cli_usage(FILE *f, unsigned cmd)
{
	switch (cmd) {
	case FOR_BIND:
		fputs("usage: netprobe bind [--udp] [-4|-6] [--reuseaddr] [--reuseport] [--freebind]\n"
		      "                     [--v6only 0|1] [--dev IF] [--no-listen] ADDR PORT [ADDR PORT ...]\n"
		      "Binds (and listens, for TCP) on each target, one record each.  All sockets stay\n"
		      "open until the last target is done, so a later target can conflict with an\n"
		      "earlier one.  -6 with an IPv4 ADDR binds ::ffff:ADDR on an IPv6 socket.\n",
		      f);
		break;
	case FOR_CONNECT:
		fputs("usage: netprobe connect [--udp] [-4|-6] [--src ADDR] [--sport PORT] [--freebind]\n"
		      "                        [--dev IF] [--timeout MS] [--no-greet] ADDR PORT\n"
		      "Connects (TCP) or sends one datagram (UDP) and waits for a netprobe server to\n"
		      "say its name (\"peer_host\"); --no-greet stops at the connect.  Default timeout\n"
		      "1000 ms; a timeout is ETIMEDOUT.\n",
		      f);
		break;
	case FOR_SERVE:
		fputs("usage: netprobe serve [--udp] [-4|-6] [--reuseaddr] [--reuseport] [--freebind]\n"
		      "                      [--v6only 0|1] [--dev IF] [--ready-file PATH] [--ready-fd N]\n"
		      "                      [--lifetime SEC] [--proxy-to ADDR:PORT] ADDR PORT\n"
		      "Listens and answers every client with \"netprobe HOST\\n\"; with --proxy-to, as\n"
		      "docker-proxy does, connects each client on to ADDR:PORT, relays both ways, and\n"
		      "closes the client without a byte when that connect fails.  The serve record on\n"
		      "stdout (also written to --ready-file/--ready-fd) says it is listening, or why it\n"
		      "is not: also when a readiness channel cannot be written (\"ok\":false, \"call\"\n"
		      "\"write(--ready-fd)\" ...).  Stops on SIGTERM/SIGINT or after --lifetime seconds.\n"
		      "Exit 1 when it could not listen or not say so.\n",
		      f);
		break;
	default:
		fputs("usage: netprobe batch [--parallel N] [PLAN]\n"
		      "Runs every case of PLAN (a file, or stdin): binds in order, then connects\n"
		      "concurrently (N in flight, default 256).  Plan line:\n"
		      "  ID OP PROTO ADDR PORT [OPTION ...]   ('#' starts a comment line)\n"
		      "  OP bind|connect  PROTO tcp|udp  OPTION reuseaddr reuseport freebind\n"
		      "  v6only=0|1 dev=IF hold nolisten src=ADDR sport=PORT timeout=MS nogreet family=4|6\n",
		      f);
	}
}

/* The usage of the command @which, for opt_parser (probe_opt.h). */
static void usage_of(FILE *f, unsigned which)
{
	cli_usage(f, which);
}

/* The name of command @cmd (one of FOR_*), as messages say it. */
static const char *cmd_name(unsigned cmd)
{
	switch (cmd) {
	case FOR_BIND: return "bind";
	case FOR_CONNECT: return "connect";
	case FOR_SERVE: return "serve";
	default: return "batch";
	}
}

int cli_parse(int argc, char **argv, unsigned cmd, struct cli *cli)
{
	struct opt_parser *p = &cli->opt;
	char shortopts[16] = "";
	size_t nl = 0, ns = 0;
	unsigned long v;
	int ch;

	memset(cli, 0, sizeof(*cli));
	cli->tmpl.opts = probe_opts_default();
	cli->ready_fd = -1;
	cli->parallel = DEFAULT_PARALLEL;
	for (size_t i = 0; i < NOPTIONS; i++) {
		if (!(options[i].cmds & cmd))
			continue;
		cli->longopts[nl++] = options[i].opt;
		if (options[i].opt.val < 256 && ns + 1 < sizeof(shortopts))
			shortopts[ns++] = (char)options[i].opt.val;
	}
	memset(&cli->longopts[nl], 0, sizeof(cli->longopts[nl]));
	opt_init(p, argc, argv, cmd_name(cmd), shortopts, cli->longopts, usage_of, cmd);

	while ((ch = opt_next(p)) != OPT_END) {
		struct probe_opts *o = &cli->tmpl.opts;

		switch (ch) {
		case OPT_HELP:
			cli->help = 1;
			return 0;
		case OPT_BAD:
			return -1;
		case 'u': cli->tmpl.proto = PROTO_UDP; break;
		case '4': cli->family = AF_INET; break;
		case '6': cli->family = AF_INET6; break;
		case OPT_REUSEADDR: o->reuseaddr = true; break;
		case OPT_REUSEPORT: o->reuseport = true; break;
		case OPT_FREEBIND: o->freebind = true; break;
		case OPT_NOLISTEN: o->listen = false; break;
		case OPT_NOGREET: o->greet = false; break;
		case OPT_SRC: cli->src = optarg; break;
		case OPT_READY_FILE: cli->ready_file = optarg; break;
		case OPT_PROXY_TO: cli->proxy_to = optarg; break;
		case OPT_V6ONLY:
			if (opt_number(p, NULL, optarg, 0, 1, "a switch", &v) < 0)
				return -1;
			o->v6only = (int)v;
			break;
		case OPT_DEV:
			if (!*optarg || strlen(optarg) >= IF_NAMESIZE || strchr(optarg, '/'))
				return opt_bad(p, "--dev: '%s' is not an interface name", optarg);
			memcpy(o->dev, optarg, strlen(optarg) + 1);
			break;
		case OPT_SPORT:
			if (opt_number(p, NULL, optarg, 0, 65535, "a port", &v) < 0)
				return -1;
			o->sport = (unsigned)v;
			break;
		case OPT_TIMEOUT:
			if (opt_number(p, NULL, optarg, 1, 3600 * 1000, "a number of milliseconds",
				       &v) < 0)
				return -1;
			o->timeout_ms = (unsigned)v;
			break;
		case OPT_READY_FD:
			if (opt_number(p, NULL, optarg, 0, 1023, "a file descriptor", &v) < 0)
				return -1;
			cli->ready_fd = (int)v;
			break;
		case OPT_LIFETIME:
			if (opt_number(p, NULL, optarg, 1, 7 * 24 * 3600, "a number of seconds",
				       &v) < 0)
				return -1;
			cli->lifetime_s = (unsigned)v;
			break;
		case OPT_PARALLEL:
			if (opt_number(p, NULL, optarg, 1, 65536, "a number", &v) < 0)
				return -1;
			cli->parallel = (unsigned)v;
			break;
		default:	/* an option of the table without a case: a bug, said as usage */
			return opt_bad(p, "option '%s' is not handled", argv[optind - 1]);
		}
	}
	cli->first_arg = optind;
	return 0;
}

int cli_target(const struct cli *cli, enum probe_op op, const char *addr, const char *port,
	       struct probe_case *out)
{
	char why[160];
	unsigned long v;

	*out = cli->tmpl;
	out->op = op;
	if (addr_parse(addr, cli->family, &out->addr, why, sizeof(why)) < 0)
		return opt_bad(&cli->opt, "ADDR: %s", why);
	if (opt_number(&cli->opt, "PORT", port, op == OP_CONNECT ? 1 : 0, 65535, "a port",
		       &v) < 0)
		return -1;
	out->port = (unsigned)v;
	addr_set_port(&out->addr, out->port);
	if (cli->src) {
		if (addr_parse(cli->src, out->addr.family, &out->opts.src, why, sizeof(why)) < 0)
			return opt_bad(&cli->opt, "--src: %s", why);
		out->opts.has_src = true;
	}
	if (out->opts.v6only >= 0 && out->addr.family != AF_INET6)
		return opt_bad(&cli->opt, "--v6only needs an IPv6 socket (an IPv6 ADDR, or -6)");
	return 0;
}

int cli_parse_one_target(int argc, char **argv, unsigned cmd, enum probe_op op, struct cli *cli,
			 struct probe_case *c)
{
	if (cli_parse(argc, argv, cmd, cli) < 0)
		return -1;
	if (cli->help)
		return 1;
	if (argc - cli->first_arg != 2)
		return opt_bad(&cli->opt, "takes ADDR PORT");
	return cli_target(cli, op, argv[cli->first_arg], argv[cli->first_arg + 1], c);
}
