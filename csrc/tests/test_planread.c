/*
 * test_planread.c: unit tests of plan_read() (probe_plan.c), the whole plan that
 * `netprobe batch` reads: line endings, blank lines, duplicate ids, overlong lines
 * and NUL bytes that must not shift the line numbers, and the cap on problems
 * (one line at a time: test_plan.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>

#include "probe_plan.h"

int run_planread_tests(void);

struct problems {
	char text[4096];	/* every message, one a line */
	int n;
};

/* A plan_report_fn that collects the messages. */
static void collect(void *arg, const char *msg)
{
	struct problems *pr = arg;
	size_t o = strlen(pr->text);

	snprintf(pr->text + o, sizeof(pr->text) - o, "%s\n", msg);
	pr->n++;
}

/* Runs plan_read() over the @len bytes of @text.  Returns its result; the problems
 * in @pr and the cases in @plan (freed by the caller). */
static int read_plan(const char *text, size_t len, struct plan *plan, struct problems *pr)
{
	FILE *f = fmemopen((void *)text, len, "r");
	int rc;

	assert_non_null(f);
	memset(pr, 0, sizeof(*pr));
	rc = plan_read(f, plan, collect, pr);
	fclose(f);
	return rc;
}

static void test_read_a_whole_plan(void **state)
{
	static const char text[] = "# two cases\n\na bind tcp 10.0.0.1 1\r\nb connect tcp ::1 2";
	struct problems pr;
	struct plan plan;

	(void)state;
	assert_int_equal(read_plan(text, sizeof(text) - 1, &plan, &pr), 0);
	assert_int_equal(pr.n, 0);
	assert_int_equal(plan.n, 2);
	assert_string_equal(plan.cases[0].id, "a");
	assert_string_equal(plan.cases[1].id, "b");
	assert_int_equal(plan.cases[1].port, 2);
	free(plan.cases);
	assert_int_equal(read_plan("\n\n", 2, &plan, &pr), 0);	/* blank lines: no case */
	assert_int_equal(plan.n, 0);
	free(plan.cases);
}

static void test_duplicate_ids_are_named_with_both_lines(void **state)
{
	static const char text[] = "x bind tcp 10.0.0.1 1\n"
				   "y bind tcp 10.0.0.1 2\n"
				   "x bind tcp 10.0.0.1 3\n"
				   "# y again, twice\n"
				   "y connect tcp 10.0.0.1 4\n"
				   "y connect tcp 10.0.0.1 5\n";
	struct problems pr;
	struct plan plan;

	(void)state;
	assert_int_equal(read_plan(text, sizeof(text) - 1, &plan, &pr), -1);
	assert_int_equal(errno, EINVAL);
	assert_null(plan.cases);
	assert_int_equal(pr.n, 3);
	assert_non_null(strstr(pr.text, "plan line 3: id 'x' is already used on line 1\n"));
	assert_non_null(strstr(pr.text, "plan line 5: id 'y' is already used on line 2\n"));
	assert_non_null(strstr(pr.text, "plan line 6: id 'y' is already used on line 2\n"));
}

static void test_long_lines_and_nul_bytes_keep_the_line_count(void **state)
{
	char text[3 * PLAN_LINE_MAX + 200];
	struct problems pr;
	struct plan plan;
	size_t o = 0;

	(void)state;
	o += (size_t)sprintf(text + o, "a bind tcp 10.0.0.1 1\n");
	memset(text + o, 'x', 3 * PLAN_LINE_MAX);	/* line 2: three buffers long */
	o += 3 * PLAN_LINE_MAX;
	memcpy(text + o, "\nb bind\0 tcp 10.0.0.1 1\nc bind tcp 10.0.0.1 nope\n", 49);
	o += 49;
	assert_int_equal(read_plan(text, o, &plan, &pr), -1);
	assert_int_equal(pr.n, 3);
	assert_non_null(strstr(pr.text, "plan line 2: longer than 1024 characters\n"));
	assert_non_null(strstr(pr.text, "plan line 3: contains a NUL byte\n"));
	assert_non_null(strstr(pr.text, "plan line 4: field 'port'"));

	/* exactly PLAN_LINE_MAX bytes is a line; one more is not */
	memset(text, ' ', PLAN_LINE_MAX + 1);
	memcpy(text, "a bind tcp 10.0.0.1 1", 21);
	assert_int_equal(read_plan(text, PLAN_LINE_MAX, &plan, &pr), 0);
	assert_int_equal(plan.n, 1);
	free(plan.cases);
	assert_int_equal(read_plan(text, PLAN_LINE_MAX + 1, &plan, &pr), -1);
	assert_non_null(strstr(pr.text, "plan line 1: longer than"));
}

static void test_the_reader_stops_after_many_problems(void **state)
{
	char text[64 * 16];
	struct problems pr;
	struct plan plan;
	size_t o = 0;

	(void)state;
	for (int i = 0; i < 60; i++)
		o += (size_t)sprintf(text + o, "bad%d\n", i);
	assert_int_equal(read_plan(text, o, &plan, &pr), -1);
	assert_int_equal(pr.n, PLAN_ERRORS_MAX + 1);
	assert_non_null(strstr(pr.text, "stopping after 20 problems"));
	assert_null(strstr(pr.text, "plan line 21"));
}

int run_planread_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_a_whole_plan),
		cmocka_unit_test(test_duplicate_ids_are_named_with_both_lines),
		cmocka_unit_test(test_long_lines_and_nul_bytes_keep_the_line_count),
		cmocka_unit_test(test_the_reader_stops_after_many_problems),
	};

	return cmocka_run_group_tests_name("planread", tests, NULL, NULL);
}
