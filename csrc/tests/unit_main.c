/*
 * unit_main.c: the one main() of build/asan/unit, the cmocka unit tests of
 * netprobe's parsers and writers (plan, address, errno table, JSON, record,
 * command-line options, text escaping, the record queue, name cases, DNS answers).
 *
 * The Makefile links every test file (csrc/tests) with the probe's sources except
 * main.c, so the two helpers main.c owns are given here as weak stand-ins: if they
 * ever move into a library file, that definition wins and this file still links.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "probe_cmd.h"

/* The groups, one a file (test_*.c); each returns its number of failed tests. */
int run_plan_tests(void);
int run_plan_udp_tests(void);
int run_planread_tests(void);
int run_addr_tests(void);
int run_errno_tests(void);
int run_json_tests(void);
int run_opt_tests(void);
int run_text_tests(void);
int run_outq_tests(void);
int run_retry_tests(void);
int run_names_tests(void);
int run_dnsmsg_tests(void);

/* The label records carry in the unit tests. */
__attribute__((weak)) const char *probe_host(void)
{
	return "unit";
}

/* Diagnostics of the code under test go to stderr, as in the probe. */
__attribute__((weak)) void probe_warn(const char *fmt, ...)
{
	va_list ap;

	fputs("netprobe: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Runs every group; the exit status is the number of failed tests (0 = all passed). */
int main(void)
{
	int failed = 0;

	failed += run_plan_tests();
	failed += run_plan_udp_tests();
	failed += run_planread_tests();
	failed += run_addr_tests();
	failed += run_errno_tests();
	failed += run_json_tests();
	failed += run_opt_tests();
	failed += run_text_tests();
	failed += run_outq_tests();
	failed += run_retry_tests();
	failed += run_names_tests();
	failed += run_dnsmsg_tests();
	return failed ? 1 : 0;
}
