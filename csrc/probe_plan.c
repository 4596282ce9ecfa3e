/* probe_plan.c: see probe_plan.h. */
#include "probe_plan.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FIELDS 32

/* True for the characters a case id may have: [A-Za-z0-9._:/@+-]. */
static bool id_char_ok(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') || strchr("._:/@+-", ch) != NULL;
}

/* value of "key=value" when @word starts with "key=", else NULL */
static const char *value_of(const char *word, const char *key)
{
	size_t n = strlen(key);

	if (strncmp(word, key, n) == 0 && word[n] == '=')
		return word + n + 1;
	return NULL;
}

int plan_apply_option(struct probe_case *c, const char *word, char *err, size_t errlen)
{
	struct probe_opts *o = &c->opts;
	unsigned long v;
	const char *val;

	if (strcmp(word, "reuseaddr") == 0) {
		o->reuseaddr = true;
	} else if (strcmp(word, "reuseport") == 0) {
		o->reuseport = true;
	} else if (strcmp(word, "freebind") == 0) {
		o->freebind = true;
	} else if (strcmp(word, "hold") == 0) {
		o->hold = true;
	} else if (strcmp(word, "nolisten") == 0) {
		o->listen = false;
	} else if (strcmp(word, "nogreet") == 0) {
		o->greet = false;
	} else if (strcmp(word, "v6only") == 0) {
		o->v6only = 1;
	} else if ((val = value_of(word, "v6only"))) {
		if (parse_ulong(val, 0, 1, &v) < 0)
			goto bad_value;
		o->v6only = (int)v;
	} else if ((val = value_of(word, "dev"))) {
		if (*val == '\0' || strlen(val) >= IF_NAMESIZE || strchr(val, '/'))
			goto bad_value;
		memcpy(o->dev, val, strlen(val) + 1);
	} else if ((val = value_of(word, "sport"))) {
		if (parse_ulong(val, 0, 65535, &v) < 0)
			goto bad_value;
		o->sport = (unsigned)v;
	} else if ((val = value_of(word, "timeout"))) {
		if (parse_ulong(val, 1, 3600 * 1000, &v) < 0)
			goto bad_value;
		o->timeout_ms = (unsigned)v;
	} else {
		snprintf(err, errlen, "option '%.64s' is unknown", word);
		return -1;
	}
	return 0;

bad_value:
	snprintf(err, errlen, "option '%.64s' has a bad value", word);
	return -1;
}

/* Checks that options fit the operation: a bind has no source, a connect no listen. */
static int check_combination(const struct probe_case *c, bool saw_nolisten, char *err,
			     size_t errlen)
{
	if (c->op == OP_BIND && (c->opts.has_src || c->opts.sport)) {
		snprintf(err, errlen, "options 'src' and 'sport' are for connect cases");
		return -1;
	}
	if (c->op == OP_CONNECT && saw_nolisten) {
		snprintf(err, errlen, "option 'nolisten' is for bind cases");
		return -1;
	}
	if (c->op == OP_CONNECT && c->port == 0) {
		snprintf(err, errlen, "field 'port': a connect needs a port from 1 to 65535");
		return -1;
	}
	if (c->opts.v6only >= 0 && c->addr.family != AF_INET6) {
		snprintf(err, errlen, "option 'v6only' needs an IPv6 socket");
		return -1;
	}
	return 0;
}

int plan_parse_line(const char *line, size_t lineno, struct probe_case *out, char *err,
		    size_t errlen)
{
	char buf[PLAN_LINE_MAX + 1];
	char *field[MAX_FIELDS];
	char *save = NULL, *tok;
	char why[160];
	const char *src_text = NULL;
	int nf = 0, family = AF_UNSPEC;
	bool saw_nolisten = false;
	unsigned long v;
	size_t n = strlen(line);

	if (n > PLAN_LINE_MAX) {
		snprintf(err, errlen, "plan line %zu: longer than %d characters", lineno,
			 PLAN_LINE_MAX);
		return -1;
	}
	memcpy(buf, line, n + 1);
	if (n && buf[n - 1] == '\r')	/* a plan written on Windows */
		buf[n - 1] = '\0';
	for (tok = strtok_r(buf, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		if (nf == 0 && tok[0] == '#')
			return 0;
		if (nf == MAX_FIELDS) {
			snprintf(err, errlen, "plan line %zu: more than %d fields", lineno,
				 MAX_FIELDS);
			return -1;
		}
		field[nf++] = tok;
	}
	if (nf == 0)
		return 0;
	if (nf < 5) {
		static const char *names[] = { "id", "op", "proto", "addr", "port" };

		snprintf(err, errlen,
			 "plan line %zu: field '%s' is missing (a line is: ID OP PROTO ADDR PORT [OPTION ...])",
			 lineno, names[nf]);
		return -1;
	}

	memset(out, 0, sizeof(*out));
	out->opts = probe_opts_default();

	if (strlen(field[0]) >= CASE_ID_MAX) {
		snprintf(err, errlen, "plan line %zu: field 'id' is longer than %d characters",
			 lineno, CASE_ID_MAX - 1);
		return -1;
	}
	for (const char *p = field[0]; *p; p++) {
		if (!id_char_ok(*p)) {
			snprintf(err, errlen,
				 "plan line %zu: field 'id': character 0x%02x is not allowed",
				 lineno, (unsigned char)*p);
			return -1;
		}
	}
	memcpy(out->id, field[0], strlen(field[0]) + 1);

	if (strcmp(field[1], "bind") == 0) {
		out->op = OP_BIND;
	} else if (strcmp(field[1], "connect") == 0) {
		out->op = OP_CONNECT;
	} else {
		snprintf(err, errlen, "plan line %zu: field 'op': '%.32s' is not bind or connect",
			 lineno, field[1]);
		return -1;
	}
	if (strcmp(field[2], "tcp") == 0) {
		out->proto = PROTO_TCP;
	} else if (strcmp(field[2], "udp") == 0) {
		out->proto = PROTO_UDP;
	} else {
		snprintf(err, errlen, "plan line %zu: field 'proto': '%.32s' is not tcp or udp",
			 lineno, field[2]);
		return -1;
	}
	if (parse_ulong(field[4], 0, 65535, &v) < 0) {
		snprintf(err, errlen, "plan line %zu: field 'port': '%.32s' is not a port (0-65535)",
			 lineno, field[4]);
		return -1;
	}
	out->port = (unsigned)v;

	for (int i = 5; i < nf; i++) {
		const char *val;

		if ((val = value_of(field[i], "family"))) {
			if (strcmp(val, "4") == 0) {
				family = AF_INET;
			} else if (strcmp(val, "6") == 0) {
				family = AF_INET6;
			} else {
				snprintf(err, errlen, "plan line %zu: option 'family' must be 4 or 6",
					 lineno);
				return -1;
			}
		} else if ((val = value_of(field[i], "src"))) {
			src_text = val;
		} else {
			if (strcmp(field[i], "nolisten") == 0)
				saw_nolisten = true;
			if (plan_apply_option(out, field[i], why, sizeof(why)) < 0) {
				snprintf(err, errlen, "plan line %zu: %s", lineno, why);
				return -1;
			}
		}
	}

	if (addr_parse(field[3], family, &out->addr, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "plan line %zu: field 'addr': %s", lineno, why);
		return -1;
	}
	addr_set_port(&out->addr, out->port);
	if (src_text) {
		if (addr_parse(src_text, out->addr.family, &out->opts.src, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "plan line %zu: option 'src': %s", lineno, why);
			return -1;
		}
		out->opts.has_src = true;
	}
	if (check_combination(out, saw_nolisten, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "plan line %zu: %s", lineno, why);
		return -1;
	}
	return 1;
}

/* ---- the whole plan ---------------------------------------------------------- */

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

int plan_read(FILE *f, struct plan *out, plan_report_fn report, void *arg)
{
	struct reporter rp = { .report = report, .arg = arg };
	struct reading rd = { 0 };
	char line[PLAN_LINE_MAX + 1], err[320];
	size_t lineno = 0;
	long len, dups;
	int saved = EINVAL;

	out->cases = NULL;
	out->n = 0;
	flockfile(f);
	while ((len = read_line(f, line, sizeof(line))) != LINE_EOF) {
		bool go_on = true;

		lineno++;
		if (len == LINE_ERROR) {
			saved = errno;
			snprintf(err, sizeof(err), "read error after plan line %zu: %s", lineno - 1,
				 strerror(saved));
			report(arg, err);
			rp.count++;
			break;
		}
		if (len == LINE_TOO_LONG)
			go_on = problem(&rp, "plan line %zu: longer than %d characters", lineno,
					PLAN_LINE_MAX);
		else if (len == LINE_NUL)
			go_on = problem(&rp, "plan line %zu: contains a NUL byte", lineno);
		else if (grow(&rd) < 0) {
			saved = ENOMEM;
			report(arg, "out of memory reading the plan");
			rp.count++;
			break;
		} else {
			switch (plan_parse_line(line, lineno, &rd.cases[rd.n], err, sizeof(err))) {
			case 1:
				rd.lines[rd.n++] = lineno;
				break;
			case 0:
				break;
			default:
				go_on = problem(&rp, "%s", err);
			}
		}
		if (!go_on)
			break;
	}
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
