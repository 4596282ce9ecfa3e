/*
 * test_outq.c: unit tests of the record queue (probe_outq.c) that `batch` writes
 * through: lines come out whole and in order, also when the reader starts late,
 * and a reader that went away is an error (EPIPE) that puts and finish report.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "probe_outq.h"

int run_outq_tests(void);

static void test_lines_come_out_whole_and_in_order(void **state)
{
	enum { LINES = 20000 };	/* ~400 KB: more than a pipe holds, so the writer waits */
	struct outq q;
	int fds[2];
	char line[32], *all;
	size_t total = 0, got = 0;
	ssize_t n;

	(void)state;
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(outq_start(&q, fds[1]), 0);
	for (int i = 0; i < LINES; i++) {
		int len = snprintf(line, sizeof(line), "{\"id\":\"c%d\"}\n", i);

		assert_int_equal(outq_put(&q, line, (size_t)len), 0);	/* never blocks */
		total += (size_t)len;
	}
	all = malloc(total + 1);
	assert_non_null(all);
	while (got < total && (n = read(fds[0], all + got, total - got)) > 0)
		got += (size_t)n;
	assert_int_equal(outq_finish(&q), 0);
	assert_int_equal(got, total);
	all[total] = '\0';
	for (int i = 0, o = 0; i < LINES; i++) {
		int len = snprintf(line, sizeof(line), "{\"id\":\"c%d\"}\n", i);

		assert_memory_equal(all + o, line, (size_t)len);
		o += len;
	}
	free(all);
	close(fds[0]);
	close(fds[1]);
}

static void test_a_reader_that_went_away_is_epipe(void **state)
{
	void (*old)(int) = signal(SIGPIPE, SIG_IGN);
	struct outq q;
	int fds[2], rc = 0;

	(void)state;
	assert_int_equal(pipe(fds), 0);
	close(fds[0]);
	assert_int_equal(outq_start(&q, fds[1]), 0);
	for (int i = 0; i < 1000 && rc == 0; i++) {
		rc = outq_put(&q, "line\n", 5);
		usleep(rc ? 0 : 100);	/* give the writer its chance to fail */
	}
	errno = 0;
	assert_int_equal(outq_finish(&q), -1);
	assert_int_equal(errno, EPIPE);
	close(fds[1]);
	signal(SIGPIPE, old);
}

int run_outq_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines_come_out_whole_and_in_order),
		cmocka_unit_test(test_a_reader_that_went_away_is_epipe),
	};

	return cmocka_run_group_tests_name("outq", tests, NULL, NULL);
}
