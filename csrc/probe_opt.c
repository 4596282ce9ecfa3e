/* probe_opt.c: see probe_opt.h. */
#include "probe_opt.h"

#include <stdarg.h>
#include <string.h>

#include "lib/addr.h"
#include "probe_cmd.h"

void opt_init(struct opt_parser *p, int argc, char **argv, const char *cmd,
	      const char *shortopts, const struct option *longopts, opt_usage_fn usage,
	      unsigned which)
{
	bool stop_at_operand = shortopts[0] == '+';

	memset(p, 0, sizeof(*p));
	p->argc = argc;
	p->argv = argv;
	p->cmd = cmd;
	p->longopts = longopts;
	p->usage = usage;
	p->which = which;
	p->longindex = -1;
	/* '+' must come first, then ':' (getopt reports a missing argument as ':') */
	snprintf(p->shortopts, sizeof(p->shortopts), "%s:%s", stop_at_operand ? "+" : "",
		 shortopts + stop_at_operand);
	/* 0, not 1: glibc then also forgets the ordering ('+' or not) of an earlier
	 * parse, and starts at argv[1] */
	optind = 0;
	opterr = 0;	/* the messages are ours */
}

int opt_bad(const struct opt_parser *p, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	probe_warn("%s: %s", p->cmd, msg);
	p->usage(stderr, p->which);
	return -1;
}

int opt_next(struct opt_parser *p)
{
	const char *given;

	p->longindex = -1;
	p->ch = getopt_long(p->argc, p->argv, p->shortopts, p->longopts, &p->longindex);
	given = optind > 0 && optind <= p->argc ? p->argv[optind - 1] : "?";
	switch (p->ch) {
	case -1:
		return OPT_END;
	case 'h':
		p->usage(stdout, p->which);
		return OPT_HELP;
	case ':':
		opt_bad(p, "option '%s' needs an argument", given);
		return OPT_BAD;
	case '?':
		/* a letter: optopt; a long option: only its text names it */
		if (optopt && strncmp(given, "--", 2) != 0)
			opt_bad(p, "unknown option '-%c'", optopt);
		else
			opt_bad(p, "unknown option '%s'", given);
		return OPT_BAD;
	default:
		return p->ch;
	}
}

int opt_number(const struct opt_parser *p, const char *name, const char *text,
	       unsigned long min, unsigned long max, const char *what, unsigned long *out)
{
	char opt[64];

	if (parse_ulong(text, min, max, out) == 0)
		return 0;
	if (!name) {
		if (p->longindex >= 0)
			snprintf(opt, sizeof(opt), "--%s", p->longopts[p->longindex].name);
		else
			snprintf(opt, sizeof(opt), "-%c", p->ch);
		name = opt;
	}
	return opt_bad(p, "%s: '%s' is not %s from %lu to %lu", name, text, what, min, max);
}
