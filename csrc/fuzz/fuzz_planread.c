/*
 * fuzz_planread.c: libFuzzer target for the whole-plan reader (plan_read): the
 * line-bounded reading, the line count across too long lines and NUL bytes, the
 * problem limit and the duplicate-id check.  The input is a plan as `netprobe
 * batch` reads it from stdin.  Besides the sanitizers' findings it traps when the
 * reader breaks its contract: a refusal without a problem reported, a problem
 * that does not name its line, more problems than the limit, an accepted plan
 * with two cases of one id or more cases than lines.
 *
 * Built and run by `make fuzz` (clang -fsanitize=fuzzer,address,undefined).
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe_plan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The reports of one read. */
struct seen {
	int problems;
	int stopped;	/* the "stopping after" line came */
};

/* A plan_report_fn that checks each message's form; traps on a bad one. */
static void check_report(void *arg, const char *msg)
{
	struct seen *s = arg;
	unsigned long line;
	char rest;

	if (strlen(msg) == 0 || strchr(msg, '\n') || s->stopped)
		__builtin_trap();	/* empty, two lines, or a report after the last */
	if (strncmp(msg, "stopping after ", 15) == 0) {
		s->stopped = 1;
		return;
	}
	s->problems++;
	if (strncmp(msg, "out of memory", 13) == 0 || strncmp(msg, "read error", 10) == 0)
		return;
	if (sscanf(msg, "plan line %lu: %c", &line, &rest) != 2 || line == 0)
		__builtin_trap();	/* a problem that does not name its line */
}

/* libFuzzer's entry point: one input, checked as the file's header says.  Traps
 * on a broken contract; returns 0 (inputs are never rejected). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct seen s = { 0 };
	struct plan plan;
	size_t lines = 1;
	FILE *f;
	int rc;

	if (size == 0)
		return 0;
	f = fmemopen((void *)data, size, "r");
	if (!f)
		return 0;
	rc = plan_read(f, &plan, check_report, &s);
	fclose(f);
	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	if (rc < 0) {
		if ((errno != EINVAL && errno != ENOMEM) || s.problems == 0 ||
		    s.problems > PLAN_ERRORS_MAX || plan.cases || plan.n)
			__builtin_trap();
		return 0;
	}
	if (rc != 0 || s.problems || s.stopped || plan.n > lines)
		__builtin_trap();
	for (size_t i = 0; i < plan.n; i++) {
		if (plan.cases[i].id[0] == '\0')
			__builtin_trap();
		for (size_t k = 0; k < i; k++)
			if (strcmp(plan.cases[i].id, plan.cases[k].id) == 0)
				__builtin_trap();	/* two cases of one id got through */
	}
	free(plan.cases);
	return 0;
}
