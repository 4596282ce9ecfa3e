/*
 * test_retry.c: unit tests of retry=S every=MS (probe_retry.h): the plan words and
 * --retry-for/--every, refused where they do not fit, the record of a retrying
 * case (its tries, the time of the first success, the budget running out), and a
 * record without retry= byte-identical to the one before retries existed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "json_valid.h"
#include "probe_cli.h"
#include "probe_plan.h"
#include "probe_record.h"
#include "probe_retry.h"

int run_retry_tests(void);

/* Parses plan line @line into @c; fails the test with the parser's message if
 * it was refused. */
static void parse_ok(const char *line, struct probe_case *c)
{
	char err[256] = "";

	if (plan_parse_line(line, 1, c, err, sizeof(err)) != 1)
		fail_msg("'%s' was refused: %s", line, err);
}

/* Expects plan line @line refused with a message that contains @what. */
static void parse_bad(const char *line, const char *what)
{
	struct probe_case c;
	char err[256] = "";

	if (plan_parse_line(line, 3, &c, err, sizeof(err)) != -1)
		fail_msg("'%s' was accepted, expected an error naming %s", line, what);
	if (!strstr(err, what))
		fail_msg("'%s': message does not name %s: '%s'", line, what, err);
}

static void test_seconds(void **state)
{
	unsigned ms = 7;

	(void)state;
	assert_int_equal(plan_parse_seconds("3", RETRY_MAX_MS, &ms), 0);
	assert_int_equal(ms, 3000);
	assert_int_equal(plan_parse_seconds("1.5", RETRY_MAX_MS, &ms), 0);
	assert_int_equal(ms, 1500);
	assert_int_equal(plan_parse_seconds("0.025", RETRY_MAX_MS, &ms), 0);
	assert_int_equal(ms, 25);
	for (const char *const *bad = (const char *const[]){ "0", "0.0", "", ".5", "1.", "1.2345",
								"-1", "+1", "1e3", "601", "1 ", NULL };
	     *bad; bad++) {
		ms = 7;
		if (plan_parse_seconds(*bad, RETRY_MAX_MS, &ms) != -1)
			fail_msg("'%s' was taken as %u ms", *bad, ms);
		assert_int_equal(ms, 7);
	}
}

static void test_plan_words(void **state)
{
	struct probe_case c;

	(void)state;
	parse_ok("b bind tcp 10.0.0.1 80 retry=3", &c);
	assert_int_equal(c.opts.retry_ms, 3000);
	assert_int_equal(c.opts.every_ms, DEFAULT_EVERY_MS);
	parse_ok("c connect tcp 10.0.0.1 80 retry=1.5 every=250 timeout=200", &c);
	assert_int_equal(c.opts.retry_ms, 1500);
	assert_int_equal(c.opts.every_ms, 250);
	parse_ok("d bind udp 10.0.0.1 80 retry=2 every=25 hold", &c);
	assert_int_equal(c.opts.every_ms, 25);
	parse_bad("e bind tcp 10.0.0.1 80 every=200", "'every' needs retry=S");
	parse_bad("e bind tcp 10.0.0.1 80 retry=x", "option 'retry=x' has a bad value");
	parse_bad("e bind tcp 10.0.0.1 80 retry=2 every=5", "option 'every=5' has a bad value");
	parse_bad("e bind tcp 10.0.0.1 80 retry=60 every=100", "more than 100 tries");
	parse_bad("e send udp 10.0.0.1 80 retry=1", "'retry' is not for send");
	parse_bad("e join udp 239.1.1.1 0 retry=1", "'retry' is not for join");
	parse_bad("e connect tcp 10.0.0.1 80 retry=1 hold", "'retry with hold' is not for connect");
	parse_ok("f bind tcp 10.0.0.1 80 delay=1500", &c);
	assert_int_equal(c.opts.delay_ms, 1500);
	assert_int_equal(c.opts.retry_ms, 0);
	parse_bad("f bind tcp 10.0.0.1 80 delay=0", "option 'delay=0' has a bad value");
	parse_bad("f bind tcp 10.0.0.1 80 delay=60001", "option 'delay=60001' has a bad value");
	parse_bad("f send udp 10.0.0.1 80 delay=5", "'delay' is not for send");
	parse_bad("f connect tcp 10.0.0.1 80 delay=5 hold", "'delay with hold' is not for connect");
}

static void test_command_line(void **state)
{
	char *ok[] = { "connect", "--retry-for", "2.5", "--every", "50", "10.0.0.1", "80", NULL };
	char *bad[] = { "bind", "--retry-for", "soon", "10.0.0.1", "80", NULL };
	struct cli cli;
	struct probe_case c;
	FILE *saved = stderr;

	(void)state;
	assert_int_equal(cli_parse_one_target(7, ok, FOR_CONNECT, OP_CONNECT, &cli, &c), 0);
	assert_int_equal(c.opts.retry_ms, 2500);
	assert_int_equal(c.opts.every_ms, 50);
	stderr = fopen("/dev/null", "w");
	assert_int_equal(cli_parse(5, bad, FOR_BIND, &cli), -1);
	fclose(stderr);
	stderr = saved;
}

/* The record of @c with result @r, checked to be one valid JSON object line. */
static const char *format(const struct probe_case *c, const struct probe_result *r)
{
	static char line[RECORD_MAX];

	record_format(line, sizeof(line), "h1", c, r);
	assert_true(json_valid_object_line(line));
	return line;
}

static void test_record_without_retry_is_unchanged(void **state)
{
	struct probe_case c;
	struct probe_result r = { .err = 99, .call = "bind", .elapsed_us = 7 };

	(void)state;
	parse_ok("c1 bind tcp 10.0.0.1 6677", &c);
	assert_string_equal(format(&c, &r),
			    "{\"id\":\"c1\",\"op\":\"bind\",\"host\":\"h1\",\"proto\":\"tcp\","
			    "\"family\":\"inet\",\"addr\":\"10.0.0.1\",\"port\":6677,\"options\":[],"
			    "\"ok\":false,\"errno\":99,\"error\":\"EADDRNOTAVAIL\",\"message\":"
			    "\"Cannot assign requested address\",\"call\":\"bind\",\"elapsed_us\":7}\n");
}

static void test_record_of_tries(void **state)
{
	static struct probe_tries t = { .start_ms = 1700000000123, .ok_ms = 1003, .n = 3,
					.t = { { 0, 99 }, { 100, 99 }, { 1002, 0 } } };
	struct probe_case c;
	struct probe_result r = { .err = 0, .elapsed_us = 1002345, .tries = &t };
	const char *line;

	(void)state;
	parse_ok("c2 bind tcp 10.0.0.1 6677 retry=2.5 every=100", &c);
	line = format(&c, &r);
	assert_non_null(strstr(line, "\"options\":[\"retry=2.5\",\"every=100\"]"));
	assert_non_null(strstr(line, "\"start_ms\":1700000000123,\"tries\":[[0,99],[100,99],"
				     "[1002,0]],\"ok_ms\":1003}\n"));
	/* the budget ran out: the last try's errno is the outcome, ok_ms null */
	t.n = 2;
	t.ok_ms = -1;
	r.err = 99;
	r.call = "bind";
	parse_ok("c3 bind tcp 10.0.0.1 6677 retry=2 delay=50", &c);
	line = format(&c, &r);
	assert_non_null(strstr(line, "\"options\":[\"retry=2\",\"every=100\",\"delay=50\"]"));
	assert_non_null(strstr(line, "\"error\":\"EADDRNOTAVAIL\""));
	assert_non_null(strstr(line, "\"tries\":[[0,99],[100,99]],\"ok_ms\":null}\n"));
}

static void test_full_tries_fit_a_record(void **state)
{
	static struct probe_tries t = { .start_ms = 1700000000123, .ok_ms = -1, .n = TRIES_MAX };
	struct probe_case c;
	struct probe_result r = { .err = 110, .call = "connect", .tries = &t };
	const char *line;

	(void)state;
	for (unsigned i = 0; i < TRIES_MAX; i++)
		t.t[i] = (struct probe_try){ 599000 + i, 110 };
	parse_ok("c4 connect tcp 2001:db8::1234:5678:9abc:def0 65535 src=2001:db8::1:2:3:4 "
		 "retry=600 every=6061 timeout=3600000", &c);
	line = format(&c, &r);
	assert_null(strstr(line, "\"cut\""));
	assert_non_null(strstr(line, "[599099,110]],\"ok_ms\":null}\n"));
}

/* A case without retry= is tried once and its result left alone. */
static void test_note_without_retry(void **state)
{
	struct probe_case c;
	struct probe_result r = { .err = 99, .elapsed_us = 5 };
	struct retry rt;

	(void)state;
	parse_ok("c5 bind tcp 10.0.0.1 80", &c);
	assert_int_equal(retry_begin(&rt, &c), 0);
	assert_false(retry_note(&rt, &r));
	assert_null(r.tries);
	assert_int_equal(r.elapsed_us, 5);
	retry_end(&rt);
}

int run_retry_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seconds),
		cmocka_unit_test(test_plan_words),
		cmocka_unit_test(test_command_line),
		cmocka_unit_test(test_record_without_retry_is_unchanged),
		cmocka_unit_test(test_record_of_tries),
		cmocka_unit_test(test_full_tries_fit_a_record),
		cmocka_unit_test(test_note_without_retry),
	};

	return cmocka_run_group_tests_name("retry", tests, NULL, NULL);
}
