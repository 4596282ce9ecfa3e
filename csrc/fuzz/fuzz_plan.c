/*
 * fuzz_plan.c: libFuzzer target for the plan parser (plan_parse_line) and the
 * record writer behind it.  The input is a whole plan: it is cut into lines the way
 * `netprobe batch` reads them, every line is parsed, and every accepted case is
 * turned into its JSON record.  Besides the sanitizers' findings, it traps when
 * the parser breaks its contract: a refused line without a message naming its line
 * number, a case with an id or address the record could not carry, or a record
 * that is not a single line.
 *
 * Built and run by `make fuzz` (clang -fsanitize=fuzzer,address,undefined).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe_plan.h"
#include "probe_record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Checks one parsed line against the parser's contract; traps on a violation. */
static void check_line(const char *line, size_t lineno)
{
	struct probe_case c;
	struct probe_result r = { .err = 99, .call = "bind", .elapsed_us = 1 };
	struct json_out j;
	char line_out[RECORD_MAX];
	size_t n;
	char err[256], want[32];
	int rc;

	memset(err, 0, sizeof(err));
	rc = plan_parse_line(line, lineno, &c, err, sizeof(err));
	if (rc == -1) {
		snprintf(want, sizeof(want), "plan line %zu: ", lineno);
		if (strncmp(err, want, strlen(want)) != 0 || strlen(err) == strlen(want))
			__builtin_trap();	/* a message that does not name the line */
		return;
	}
	if (rc == 0)
		return;
	if (rc != 1)
		__builtin_trap();
	if (c.id[0] == '\0' || strlen(c.id) >= CASE_ID_MAX || c.port > 65535 ||
	    (c.addr.family != AF_INET && c.addr.family != AF_INET6) ||
	    strlen(c.addr.text) >= ADDR_TEXT_MAX)
		__builtin_trap();
	if (c.op == OP_CONNECT && (c.port == 0 || c.opts.timeout_ms == 0))
		__builtin_trap();
	if (c.opts.has_src && c.opts.src.family != c.addr.family)
		__builtin_trap();
	record_build(&j, line_out, sizeof(line_out), NULL, "fuzz", &c, &r);
	n = json_end(&j);
	if (j.cut || strlen(line_out) != n || strchr(line_out, '\n') != line_out + n - 1)
		__builtin_trap();
}

/* libFuzzer's entry point: one input, checked as the file's header says.  Traps
 * on a broken contract; returns 0 (inputs are never rejected). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *plan = malloc(size + 1);
	char *line, *next;
	size_t lineno = 1;

	if (!plan)
		return 0;
	memcpy(plan, data, size);
	plan[size] = '\0';	/* a NUL inside ends the plan, as it ends a C string */
	for (line = plan; line; line = next, lineno++) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		check_line(line, lineno);
	}
	free(plan);
	return 0;
}
