/*
 * probe_planread.c: the whole plan (plan_read() of probe_plan.h): bounded lines,
 * each parsed by plan_parse_line(), then the ids checked for duplicates.
 */
#include "probe_plan.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What read_line() says besides a length. */
#define LINE_EOF (-1)		/* no line: the plan ended */
#define LINE_TOO_LONG (-2)	/* more than the buffer holds: skipped to its end */
#define LINE_NUL (-3)		/* a NUL byte in it */
#define LINE_ERROR (-4)		/* a read error: errno says which */

/*
 * Reads one line of @f into @buf of @size bytes, NUL-terminated, without its
 * '\n'.  Returns its length, or one of the LINE_* codes above; a too long line
 * and a line with a NUL are read to their end, so the next call reads the next
 * line.  The last line needs no '\n'.
 */
static long read_line(FILE *f, char *buf, size_t size)
{
	size_t n = 0;
	bool nul = false, long_line = false;
	int ch;

	while ((ch = getc_unlocked(f)) != EOF && ch != '\n') {
		if (ch == '\0')
			nul = true;
		if (n + 1 < size)
			buf[n++] = (char)ch;
		else
			long_line = true;
	}
	buf[n] = '\0';
	if (ch == EOF && ferror(f))
		return LINE_ERROR;
	if (ch == EOF && n == 0 && !long_line && !nul)
		return LINE_EOF;
	return long_line ? LINE_TOO_LONG : nul ? LINE_NUL : (long)n;
}

/* Problems found so far, and where they go. */
struct reporter {
	plan_report_fn report;
	void *arg;
	int count;
};

/* Reports one problem (printf-style), unless PLAN_ERRORS_MAX were already; the
 * one after the last says that the rest is not looked at.  Returns false once
 * the reader should stop. */
__attribute__((format(printf, 2, 3)))
static bool problem(struct reporter *rp, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	if (rp->count >= PLAN_ERRORS_MAX)
		return false;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	rp->report(rp->arg, msg);
	if (++rp->count == PLAN_ERRORS_MAX) {
		snprintf(msg, sizeof(msg), "stopping after %d problems", PLAN_ERRORS_MAX);
		rp->report(rp->arg, msg);
		return false;
	}
	return true;
}

/* The cases being read, with the line each came from. */
struct reading {
	struct probe_case *cases;
	size_t *lines;
	size_t n, cap;
};

/* Makes room for one more case.  Returns 0 or -1 (ENOMEM). */
static int grow(struct reading *rd)
{
	struct probe_case *cases;
	size_t *lines, cap;

	if (rd->n < rd->cap)
		return 0;
	cap = rd->cap ? rd->cap * 2 : 256;
	cases = realloc(rd->cases, cap * sizeof(*cases));
	if (!cases)
		return -1;
	rd->cases = cases;
	lines = realloc(rd->lines, cap * sizeof(*lines));
	if (!lines)
		return -1;
	rd->lines = lines;
	rd->cap = cap;
	return 0;
}

/* qsort_r() order of two indices into the reading @arg: by id, then plan order. */
static int by_id(const void *a, const void *b, void *arg)
{
	const struct reading *rd = arg;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	int c = strcmp(rd->cases[x].id, rd->cases[y].id);

	return c ? c : (x > y) - (x < y);
}

/* Reports every case whose id an earlier case already has, naming the line of the
 * first.  Returns the number of duplicates, or -1 (ENOMEM). */
static long find_duplicates(struct reading *rd, struct reporter *rp)
{
	size_t *order = malloc((rd->n ? rd->n : 1) * sizeof(*order));
	size_t first = 0;	/* where in @order the run of one id begins */
	long dups = 0;

	if (!order)
		return -1;
	for (size_t i = 0; i < rd->n; i++)
		order[i] = i;
	qsort_r(order, rd->n, sizeof(*order), by_id, rd);
	for (size_t i = 1; i < rd->n; i++) {
		const struct probe_case *c = &rd->cases[order[i]];

		if (strcmp(rd->cases[order[first]].id, c->id) != 0) {
			first = i;
			continue;
		}
		dups++;
		if (!problem(rp, "plan line %zu: id '%s' is already used on line %zu",
			     rd->lines[order[i]], c->id, rd->lines[order[first]]))
			break;
	}
	free(order);
	return dups;
}

/*
 * Takes in one line that read_line() gave (@len: its length or a LINE_* code other
 * than LINE_EOF; @lineno: its number): a case is added to @rd, a problem reported.
 * Returns true to read on; false to stop (a read error or no memory: @saved is then
 * the errno; or too many problems).
 */
static bool take_line(struct reading *rd, struct reporter *rp, const char *line, long len,
		      size_t lineno, int *saved)
{
	char err[320];

	if (len == LINE_ERROR) {
		*saved = errno;
		snprintf(err, sizeof(err), "read error after plan line %zu: %s", lineno - 1,
			 strerror(*saved));
		rp->report(rp->arg, err);
		rp->count++;
		return false;
	}
	if (len == LINE_TOO_LONG)
		return problem(rp, "plan line %zu: longer than %d characters", lineno,
			       PLAN_LINE_MAX);
	if (len == LINE_NUL)
		return problem(rp, "plan line %zu: contains a NUL byte", lineno);
	if (grow(rd) < 0) {
		*saved = ENOMEM;
		rp->report(rp->arg, "out of memory reading the plan");
		rp->count++;
		return false;
	}
	switch (plan_parse_line(line, lineno, &rd->cases[rd->n], err, sizeof(err))) {
	case 1:
		rd->lines[rd->n++] = lineno;
		return true;
	case 0:
		return true;
	default:
		return problem(rp, "%s", err);
	}
}

int plan_read(FILE *f, struct plan *out, plan_report_fn report, void *arg)
{
	struct reporter rp = { .report = report, .arg = arg };
	struct reading rd = { 0 };
	char line[PLAN_LINE_MAX + 1];
	size_t lineno = 0;
	long len, dups;
	int saved = EINVAL;

	out->cases = NULL;
	out->n = 0;
	flockfile(f);
	while ((len = read_line(f, line, sizeof(line))) != LINE_EOF &&
	       take_line(&rd, &rp, line, len, ++lineno, &saved))
		;
	funlockfile(f);
	if (saved == EINVAL && rp.count < PLAN_ERRORS_MAX) {
		dups = find_duplicates(&rd, &rp);
		if (dups < 0) {
			saved = ENOMEM;
			report(arg, "out of memory checking the plan's ids");
			rp.count++;
		}
	}
	free(rd.lines);
	if (rp.count) {
		free(rd.cases);
		errno = saved;
		return -1;
	}
	out->cases = rd.cases;
	out->n = rd.n;
	return 0;
}
