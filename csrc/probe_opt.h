/*
 * probe_opt.h: the one way netprobe's commands read their command line.
 *
 * A command names its options (a struct option table and the short letters) and
 * its usage; opt_next() runs getopt_long() over them and deals itself with what
 * every command must say alike:
 *
 *   --help / -h           the usage on stdout; the command then exits 0
 *   an unknown option,    "netprobe: CMD: unknown option '--bogus'" and the usage on
 *   a missing argument    stderr; the command then exits 2 with nothing on stdout
 *
 * Numbers (option values and operands) go through opt_number(): decimal digits
 * only, range-checked with strtoul() and its end pointer, and a refusal that names
 * the option or operand.  Nothing here exits: the command turns OPT_HELP into
 * EXIT_PROBE_OK and every -1 / OPT_BAD into EXIT_USAGE (probe_cmd.h).
 */
#ifndef PROBE_OPT_H
#define PROBE_OPT_H

#include <getopt.h>
#include <stdio.h>

/* What opt_next() returns besides an option's value. */
#define OPT_END (-1)	/* no more options: optind is the first operand */
#define OPT_HELP (-2)	/* --help: the usage is on stdout */
#define OPT_BAD (-3)	/* a bad option: message and usage are on stderr */

/* Prints a command's usage on @f; @which tells commands that share one function
 * apart (probe_cli.h's FOR_* bits), others ignore it. */
typedef void (*opt_usage_fn)(FILE *f, unsigned which);

struct opt_parser {
	int argc;
	char **argv;
	const char *cmd;		/* "bind", "diagnose": the prefix of every message */
	const struct option *longopts;	/* ends with a zeroed entry */
	char shortopts[40];		/* ':' (report missing arguments) + the letters */
	opt_usage_fn usage;
	unsigned which;			/* passed to @usage */
	int ch;				/* the option opt_next() returned last */
	int longindex;			/* its long form's index, -1: given as a letter */
};

/*
 * Prepares @p to read the options of command @cmd from @argv (argv[0] is the
 * command's name).  @shortopts are getopt letters ("+46jh": a leading '+' stops at
 * the first operand); @longopts must list "help" as 'h'.  Resets getopt's state.
 * Keeps the pointers (the tables must outlive @p); allocates nothing.
 */
void opt_init(struct opt_parser *p, int argc, char **argv, const char *cmd,
	      const char *shortopts, const struct option *longopts, opt_usage_fn usage,
	      unsigned which);

/*
 * The next option: its value (the letter or the `val` of its long form, optarg set
 * as getopt_long() sets it), OPT_END after the last one (optind is the first
 * operand), OPT_HELP after printing the usage on stdout, or OPT_BAD after saying
 * on stderr which option is unknown or lacks its argument, and the usage.
 */
int opt_next(struct opt_parser *p);

/*
 * Says "netprobe: CMD: " + the message on stderr, then the usage.  Returns -1, so
 * that a caller can `return opt_bad(...)`.
 */
int opt_bad(const struct opt_parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Reads @text as a decimal number in [@min, @max] into *@out.  @name is what the
 * user gave it as ("PORT"); NULL means the option opt_next() returned last
 * ("--timeout").  @what says what the number is ("a port"), for the refusal
 * "--sport: '70000' is not a port from 0 to 65535".  Returns 0, or -1 after
 * opt_bad().
 */
int opt_number(const struct opt_parser *p, const char *name, const char *text,
	       unsigned long min, unsigned long max, const char *what, unsigned long *out);

#endif
