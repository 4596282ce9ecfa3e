/*
 * test_opt.c: unit tests of the command-line helper (probe_opt.c) that every
 * netprobe command reads its options with: what it returns for options, operands,
 * --help, unknown options and missing arguments, and how it reads numbers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "probe_opt.h"

int run_opt_tests(void);

static int usage_calls;
static FILE *usage_stream;

/* A usage that only counts where it was printed. */
static void count_usage(FILE *f, unsigned which)
{
	(void)which;
	usage_calls++;
	usage_stream = f;
}

static const struct option longopts[] = {
	{ "json", no_argument, NULL, 'j' },
	{ "timeout", required_argument, NULL, 't' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* Reads every option of @argv (NULL-terminated) with shortopts @shortopts into
 * @got (up to 8 values) and returns the last opt_next() result. */
static int read_all(char **argv, const char *shortopts, int *got, struct opt_parser *p)
{
	int argc = 0, ch, n = 0;

	while (argv[argc])
		argc++;
	usage_calls = 0;
	usage_stream = NULL;
	opt_init(p, argc, argv, "test", shortopts, longopts, count_usage, 0);
	while ((ch = opt_next(p)) >= 0 && n < 8)
		got[n++] = ch;
	return ch;
}

static void test_options_then_operands(void **state)
{
	char *argv[] = { "test", "--json", "-t", "5", "ADDR", "--timeout=7", "PORT", NULL };
	struct opt_parser p;
	int got[8] = { 0 };

	(void)state;
	assert_int_equal(read_all(argv, "jt:h", got, &p), OPT_END);
	assert_int_equal(got[0], 'j');
	assert_int_equal(got[1], 't');
	assert_int_equal(got[2], 't');	/* permuted past ADDR */
	assert_int_equal(optind, 5);	/* ADDR and PORT moved to the end */
	assert_string_equal(argv[optind], "ADDR");
	assert_int_equal(usage_calls, 0);
}

static void test_plus_stops_at_the_first_operand(void **state)
{
	char *argv[] = { "test", "-j", "stray", "--json", NULL };
	struct opt_parser p;
	int got[8] = { 0 };

	(void)state;
	assert_int_equal(read_all(argv, "+jh", got, &p), OPT_END);
	assert_int_equal(optind, 2);
}

static void test_help_unknown_and_missing_argument(void **state)
{
	char *help[] = { "test", "--help", NULL };
	char *unknown_long[] = { "test", "--bogus", NULL };
	char *unknown_short[] = { "test", "-x", NULL };
	char *missing[] = { "test", "--timeout", NULL };
	struct opt_parser p;
	int got[8];

	(void)state;
	assert_int_equal(read_all(help, "jt:h", got, &p), OPT_HELP);
	assert_int_equal(usage_calls, 1);
	assert_ptr_equal(usage_stream, stdout);
	assert_int_equal(read_all(unknown_long, "jt:h", got, &p), OPT_BAD);
	assert_ptr_equal(usage_stream, stderr);
	assert_int_equal(read_all(unknown_short, "jt:h", got, &p), OPT_BAD);
	assert_int_equal(usage_calls, 1);
	assert_int_equal(read_all(missing, "jt:h", got, &p), OPT_BAD);
	assert_ptr_equal(usage_stream, stderr);
}

static void test_numbers_are_range_checked(void **state)
{
	char *argv[] = { "test", "--timeout", "5", NULL };
	struct opt_parser p;
	unsigned long v = 42;
	int got[8];

	(void)state;
	read_all(argv, "jt:h", got, &p);
	usage_calls = 0;
	assert_int_equal(opt_number(&p, NULL, "5", 1, 10, "a count", &v), 0);
	assert_int_equal(v, 5);
	for (const char *const *bad = (const char *const[]){ "0", "11", "", "-1", "+3", " 3",
								"3x", "0x3", NULL };
	     *bad; bad++) {
		v = 42;
		assert_int_equal(opt_number(&p, "PORT", *bad, 1, 10, "a count", &v), -1);
		assert_int_equal(v, 42);
	}
	assert_int_equal(usage_calls, 8);	/* each refusal shows the usage */
	assert_int_equal(opt_number(&p, NULL, "18446744073709551616", 0, 65535, "a port", &v),
			 -1);
}

int run_opt_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_options_then_operands),
		cmocka_unit_test(test_plus_stops_at_the_first_operand),
		cmocka_unit_test(test_help_unknown_and_missing_argument),
		cmocka_unit_test(test_numbers_are_range_checked),
	};

	return cmocka_run_group_tests_name("opt", tests, NULL, NULL);
}
