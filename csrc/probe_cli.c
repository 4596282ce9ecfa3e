/*
 * probe_cli.c: the command-line options that bind, connect, serve and batch share
 * (see probe_cli.h).
 */
#include "probe_cli.h"

#include <string.h>

#include "probe_cmd.h"
#include "probe_opt.h"
#include "probe_plan.h"
#include "probe_name.h"

#define DEFAULT_PARALLEL 256
/* getopt_long()'s value of a long-only option: LONG_ONLY + its index in options[]. */
#define LONG_ONLY 256

/* ---- the setters: what each option does to struct cli --------------------------- */
/* Each one sets its part of @cli from @arg (the option's argument; NULL for a
 * switch).  Returns 0, or -1 after opt_bad() said what was wrong with @arg. */

static int set_udp(struct cli *cli, const char *arg)
{
	(void)arg;
	cli->tmpl.proto = PROTO_UDP;
	return 0;
}

static int set_ipv4(struct cli *cli, const char *arg)
{
	(void)arg;
	cli->family = AF_INET;
	return 0;
}

static int set_ipv6(struct cli *cli, const char *arg)
{
	(void)arg;
	cli->family = AF_INET6;
	return 0;
}

static int set_reuseaddr(struct cli *cli, const char *arg)
{
	(void)arg;
	cli->tmpl.opts.reuseaddr = true;
	return 0;
}

static int set_reuseport(struct cli *cli, const char *arg)
{
	(void)arg;
	cli->tmpl.opts.reuseport = true;
	return 0;
}

static int set_freebind(struct cli *cli, const char *arg)
{
	(void)arg;
	cli->tmpl.opts.freebind = true;
	return 0;
}

static int set_bind_no_port(struct cli *cli, const char *arg)
{
	(void)arg;
	cli->tmpl.opts.bind_no_port = true;
	return 0;
}

static int set_if(struct cli *cli, const char *arg)
{
	if (plan_parse_iface(arg, &cli->tmpl.opts.iface) < 0)
		return opt_bad(&cli->opt, "--if: '%s' is not an address, interface index or name",
			       arg);
	return 0;
}

static int set_pktinfo(struct cli *cli, const char *arg)
{
	cli->pktinfo = arg;	/* parsed by cli_target(), once the family is known */
	return 0;
}

static int set_repeat_stdin(struct cli *cli, const char *arg)
{
	(void)arg;
	cli->repeat_stdin = true;
	return 0;
}

static int set_v6only(struct cli *cli, const char *arg)
{
	unsigned long v;

	if (opt_number(&cli->opt, NULL, arg, 0, 1, "a switch", &v) < 0)
		return -1;
	cli->tmpl.opts.v6only = (int)v;
	return 0;
}

static int set_dev(struct cli *cli, const char *arg)
{
	if (!*arg || strlen(arg) >= IF_NAMESIZE || strchr(arg, '/'))
		return opt_bad(&cli->opt, "--dev: '%s' is not an interface name", arg);
	memcpy(cli->tmpl.opts.dev, arg, strlen(arg) + 1);
	return 0;
}

static int set_no_listen(struct cli *cli, const char *arg)
{
	(void)arg;
	cli->tmpl.opts.listen = false;
	return 0;
}

static int set_src(struct cli *cli, const char *arg)
{
	cli->src = arg;		/* parsed by cli_target(), once the family is known */
	return 0;
}

static int set_sport(struct cli *cli, const char *arg)
{
	unsigned long v;

	if (opt_number(&cli->opt, NULL, arg, 0, 65535, "a port", &v) < 0)
		return -1;
	cli->tmpl.opts.sport = (unsigned)v;
	return 0;
}

static int set_timeout(struct cli *cli, const char *arg)
{
	unsigned long v;

	if (opt_number(&cli->opt, NULL, arg, 1, 3600 * 1000, "a number of milliseconds", &v) < 0)
		return -1;
	cli->tmpl.opts.timeout_ms = (unsigned)v;
	return 0;
}

static int set_retry_for(struct cli *cli, const char *arg)
{
	if (plan_parse_seconds(arg, RETRY_MAX_MS, &cli->tmpl.opts.retry_ms) < 0)
		return opt_bad(&cli->opt, "--retry-for: '%s' is not a number of seconds from "
			       "0.001 to %u (at most 3 decimals)", arg, RETRY_MAX_MS / 1000);
	return 0;
}

static int set_every(struct cli *cli, const char *arg)
{
	unsigned long v;

	if (opt_number(&cli->opt, NULL, arg, EVERY_MIN_MS, RETRY_MAX_MS,
		       "a number of milliseconds", &v) < 0)
		return -1;
	cli->tmpl.opts.every_ms = (unsigned)v;
	return 0;
}

static int set_delay(struct cli *cli, const char *arg)
{
	unsigned long v;

	if (opt_number(&cli->opt, NULL, arg, 1, DELAY_MAX_MS, "a number of milliseconds",
		       &v) < 0)
		return -1;
	cli->tmpl.opts.delay_ms = (unsigned)v;
	return 0;
}

static int set_no_greet(struct cli *cli, const char *arg)
{
	(void)arg;
	cli->tmpl.opts.greet = false;
	return 0;
}

static int set_ready_file(struct cli *cli, const char *arg)
{
	cli->ready_file = arg;
	return 0;
}

static int set_ready_fd(struct cli *cli, const char *arg)
{
	unsigned long v;

	if (opt_number(&cli->opt, NULL, arg, 0, 1023, "a file descriptor", &v) < 0)
		return -1;
	cli->ready_fd = (int)v;
	return 0;
}

static int set_lifetime(struct cli *cli, const char *arg)
{
	unsigned long v;

	if (opt_number(&cli->opt, NULL, arg, 1, 7 * 24 * 3600, "a number of seconds", &v) < 0)
		return -1;
	cli->lifetime_s = (unsigned)v;
	return 0;
}

static int set_proxy_to(struct cli *cli, const char *arg)
{
	cli->proxy_to = arg;	/* parsed by serve (probe_proxy.h) */
	return 0;
}

/* --family 4|6|any: -4, -6, or neither (a name's getaddrinfo() hint). */
static int set_family(struct cli *cli, const char *arg)
{
	if (strcmp(arg, "4") != 0 && strcmp(arg, "6") != 0 && strcmp(arg, "any") != 0)
		return opt_bad(&cli->opt, "--family: '%s' is not 4, 6 or any", arg);
	cli->family = arg[0] == '4' ? AF_INET : arg[0] == '6' ? AF_INET6 : AF_UNSPEC;
	return 0;
}

/* --addrconfig, --first, --each, --all: how a name ADDR is resolved (probe_resolve.h). */
static int set_addrconfig(struct cli *cli, const char *arg)
{
	(void)arg;
	cli->addrconfig = true;
	return 0;
}

static int set_first(struct cli *cli, const char *arg)
{
	(void)arg;
	cli->name_each = 0;
	return 0;
}

static int set_each(struct cli *cli, const char *arg)
{
	(void)arg;
	cli->name_each = 1;
	return 0;
}

static int set_all(struct cli *cli, const char *arg)
{
	(void)arg;
	cli->name_each = 2;
	return 0;
}

static int set_parallel(struct cli *cli, const char *arg)
{
	unsigned long v;

	if (opt_number(&cli->opt, NULL, arg, 1, 65536, "a number", &v) < 0)
		return -1;
	cli->parallel = (unsigned)v;
	return 0;
}

/* ---- the table ------------------------------------------------------------------ */

/*
 * Every option, in the order getopt_long() is given them: its long name, its
 * letter (0: none), whether it takes an argument, the commands (FOR_*) that take
 * it, and its setter.  A new option is one line here (and its setter above);
 * --help has no setter: opt_next() answers it.
 */
static const struct cli_option {
	const char *name;
	int letter;
	int has_arg;
	unsigned cmds;
	int (*set)(struct cli *cli, const char *arg);
} options[] = {
	{ "udp", 'u', no_argument, FOR_BIND | FOR_CONNECT | FOR_SERVE, set_udp },
	{ "ipv4", '4', no_argument, FOR_SOCKETS, set_ipv4 },
	{ "ipv6", '6', no_argument, FOR_SOCKETS, set_ipv6 },
	{ "reuseaddr", 0, no_argument, FOR_SOCKETS, set_reuseaddr },
	{ "reuseport", 0, no_argument, FOR_SOCKETS, set_reuseport },
	{ "freebind", 0, no_argument, FOR_SOCKETS, set_freebind },
	{ "bind-no-port", 0, no_argument, FOR_SOCKETS, set_bind_no_port },
	{ "v6only", 0, required_argument, FOR_SOCKETS, set_v6only },
	{ "dev", 0, required_argument, FOR_SOCKETS, set_dev },
	{ "no-listen", 0, no_argument, FOR_BIND, set_no_listen },
	{ "src", 0, required_argument, FOR_CONNECT | FOR_UDP_CALLS, set_src },
	{ "sport", 0, required_argument, FOR_CONNECT | FOR_SEND, set_sport },
	{ "if", 0, required_argument, FOR_UDP_CALLS, set_if },
	{ "pktinfo", 0, required_argument, FOR_SEND, set_pktinfo },
	{ "repeat-stdin", 0, no_argument, FOR_SEND, set_repeat_stdin },
	{ "timeout", 0, required_argument, FOR_CONNECT, set_timeout },
	{ "no-greet", 0, no_argument, FOR_CONNECT, set_no_greet },
	{ "retry-for", 0, required_argument, FOR_BIND | FOR_CONNECT | FOR_SERVE, set_retry_for },
	{ "every", 0, required_argument, FOR_BIND | FOR_CONNECT | FOR_SERVE, set_every },
	{ "delay", 0, required_argument, FOR_BIND | FOR_CONNECT, set_delay },
	{ "ready-file", 0, required_argument, FOR_SERVE, set_ready_file },
	{ "ready-fd", 0, required_argument, FOR_SERVE, set_ready_fd },
	{ "lifetime", 0, required_argument, FOR_SERVE, set_lifetime },
	{ "proxy-to", 0, required_argument, FOR_SERVE, set_proxy_to },
	{ "parallel", 0, required_argument, FOR_BATCH, set_parallel },
	{ "family", 0, required_argument, FOR_BIND | FOR_CONNECT, set_family },
	{ "addrconfig", 0, no_argument, FOR_BIND | FOR_CONNECT, set_addrconfig },
	{ "first", 0, no_argument, FOR_BIND | FOR_CONNECT, set_first },
	{ "each", 0, no_argument, FOR_BIND | FOR_CONNECT, set_each },
	{ "all", 0, no_argument, FOR_BIND, set_all },
	{ "help", 'h', no_argument, FOR_SOCKETS | FOR_BATCH, NULL },
};
#define NOPTIONS (sizeof(options) / sizeof(options[0]))
_Static_assert(NOPTIONS < sizeof(((struct cli *)0)->longopts) / sizeof(struct option),
	       "struct cli's longopts has no room for every option and the end marker");

/* The usage of the command @which, for opt_parser (probe_opt.h). */
static void usage_of(FILE *f, unsigned which)
{
	cli_usage(f, which);
}

/* The option of the table that getopt_long() returned as @ch, or NULL. */
static const struct cli_option *option_of(int ch)
{
	if (ch >= LONG_ONLY)
		return (size_t)(ch - LONG_ONLY) < NOPTIONS ? &options[ch - LONG_ONLY] : NULL;
	for (size_t i = 0; i < NOPTIONS; i++)
		if (options[i].letter == ch)
			return &options[i];
	return NULL;
}

/*
 * Gives @cli its defaults and the options of command @cmd: their long forms in
 * cli->longopts (ended by a zeroed entry) and their letters in @shortopts (of
 * size @len, NUL-terminated), both in table order.
 */
static void cli_init(struct cli *cli, unsigned cmd, char *shortopts, size_t len)
{
	size_t nl = 0, ns = 0;

	memset(cli, 0, sizeof(*cli));
	cli->tmpl.opts = probe_opts_default();
	if (cmd & FOR_UDP_CALLS)
		cli->tmpl.proto = PROTO_UDP;	/* a join, mcast-if or send is UDP */
	cli->ready_fd = -1;
	cli->parallel = DEFAULT_PARALLEL;
	cli->name_each = -1;
	for (size_t i = 0; i < NOPTIONS; i++) {
		const struct cli_option *o = &options[i];

		if (!(o->cmds & cmd))
			continue;
		cli->longopts[nl++] = (struct option){
			o->name, o->has_arg, NULL, o->letter ? o->letter : LONG_ONLY + (int)i };
		if (o->letter && ns + 1 < len)
			shortopts[ns++] = (char)o->letter;
	}
	memset(&cli->longopts[nl], 0, sizeof(cli->longopts[nl]));
	shortopts[ns] = '\0';
}

int cli_parse(int argc, char **argv, unsigned cmd, struct cli *cli)
{
	char shortopts[16];
	int ch;

	cli_init(cli, cmd, shortopts, sizeof(shortopts));
	opt_init(&cli->opt, argc, argv, cli_cmd_name(cmd), shortopts, cli->longopts, usage_of, cmd);
	while ((ch = opt_next(&cli->opt)) != OPT_END) {
		const struct cli_option *o;

		if (ch == OPT_HELP) {
			cli->help = 1;
			return 0;
		}
		if (ch == OPT_BAD)
			return -1;
		o = option_of(ch);
		if (!o || !o->set)	/* an option of the table without a setter: a bug */
			return opt_bad(&cli->opt, "option '%s' is not handled", argv[optind - 1]);
		if (o->set(cli, optarg) < 0)
			return -1;
	}
	cli->first_arg = optind;
	return 0;
}

/* Parses the text @text of option @name in @family into @out.  Returns 0, or -1
 * after opt_bad(). */
static int parse_opt_addr(const struct cli *cli, const char *name, const char *text,
			  int family, struct parsed_addr *out)
{
	char why[160];

	if (addr_parse(text, family, out, why, sizeof(why)) < 0)
		return opt_bad(&cli->opt, "%s: %s", name, why);
	return 0;
}

int cli_target(const struct cli *cli, enum probe_op op, const char *addr, const char *port,
	       struct probe_case *out)
{
	char why[160];
	unsigned long v;
	bool needs_port = op == OP_CONNECT || op == OP_SEND;

	*out = cli->tmpl;
	out->op = op;
	if (opt_number(&cli->opt, "PORT", port, needs_port ? 1 : 0, 65535, "a port", &v) < 0)
		return -1;
	out->port = (unsigned)v;
	if (addr_parse(addr, cli->family, &out->addr, why, sizeof(why)) == 0)
		addr_set_port(&out->addr, out->port);
	else if (!name_valid(addr) || !(cli->opt.which & (FOR_BIND | FOR_CONNECT)))
		return opt_bad(&cli->opt, "%s: %s", op >= OP_JOIN && op != OP_SEND ? "GROUP" : "ADDR",
			       why);
	else if (name_set(out, addr, cli->family, why, sizeof(why)) < 0)
		return opt_bad(&cli->opt, "ADDR: %s", why);
	if (out->name.text[0]) {	/* how a name is resolved: --addrconfig, --first/--each/--all */
		out->name.addrconfig = cli->addrconfig;
		out->name.each = cli->name_each >= 0 ? cli->name_each == 1 : out->name.each;
		out->name.all = cli->name_each == 2;
	}
	if (cli->src) {
		if (parse_opt_addr(cli, "--src", cli->src,
				   out->name.text[0] ? out->name.family : out->addr.family,
				   &out->opts.src) < 0)
			return -1;
		out->opts.has_src = true;
		name_take_src_family(out);
	}
	if (cli->pktinfo) {
		if (parse_opt_addr(cli, "--pktinfo", cli->pktinfo, out->addr.family,
				   &out->opts.pktinfo) < 0)
			return -1;
		out->opts.has_pktinfo = true;
	}
	if (out->opts.v6only >= 0 && out->addr.family != AF_INET6)
		return opt_bad(&cli->opt, "--v6only needs an IPv6 socket (an IPv6 ADDR, or -6)");
	if (plan_check(out, false, why, sizeof(why)) < 0)
		return opt_bad(&cli->opt, "%s", why);
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
