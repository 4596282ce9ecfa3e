/* probe_plan.c: see probe_plan.h. */
#include "probe_plan.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe_name.h"

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

int plan_parse_iface(const char *text, struct probe_iface *out)
{
	char why[160];
	unsigned long v;

	memset(out, 0, sizeof(*out));
	if (*text == '\0' || strlen(text) >= sizeof(out->text))
		return -1;
	if (addr_parse(text, AF_UNSPEC, &out->addr, why, sizeof(why)) == 0) {
		out->kind = IFACE_ADDR;
	} else if (strspn(text, "0123456789") == strlen(text)) {
		/* digits are an index, never a name: 0 and the too big are refused */
		if (parse_ulong(text, 1, 0x7fffffff, &v) < 0)
			return -1;
		out->kind = IFACE_INDEX;
		out->index = (unsigned)v;
	} else if (strlen(text) < IF_NAMESIZE && !strpbrk(text, "/:%[] \t")) {
		out->kind = IFACE_NAME;
		memcpy(out->name, text, strlen(text) + 1);
	} else {
		return -1;
	}
	memcpy(out->text, text, strlen(text) + 1);
	return 0;
}

int plan_parse_seconds(const char *text, unsigned max_ms, unsigned *ms)
{
	unsigned long whole = 0, frac = 0, scale = 1000;
	size_t n = strspn(text, "0123456789");
	const char *dot = text + n;

	if (n == 0 || n > 7)
		return -1;
	for (size_t i = 0; i < n; i++)
		whole = whole * 10 + (unsigned long)(text[i] - '0');
	if (*dot == '.') {
		size_t f = strspn(dot + 1, "0123456789");

		if (f == 0 || f > 3 || dot[1 + f] != '\0')
			return -1;
		for (size_t i = 0; i < f; i++) {
			scale /= 10;
			frac += (unsigned long)(dot[1 + i] - '0') * scale;
		}
	} else if (*dot != '\0') {
		return -1;
	}
	if (whole * 1000 + frac == 0 || whole * 1000 + frac > max_ms)
		return -1;
	*ms = (unsigned)(whole * 1000 + frac);
	return 0;
}

/* Applies @word to @o when it is retry=S, every=MS or delay=MS.  Returns 1 when it
 * was one of them, 0 when it is none, -1 when its value is bad. */
static int time_option(struct probe_opts *o, const char *word)
{
	unsigned long v;
	const char *val;

	if ((val = value_of(word, "retry")))
		return plan_parse_seconds(val, RETRY_MAX_MS, &o->retry_ms) < 0 ? -1 : 1;
	if ((val = value_of(word, "delay"))) {
		if (parse_ulong(val, 1, DELAY_MAX_MS, &v) < 0)
			return -1;
		o->delay_ms = (unsigned)v;
		return 1;
	}
	if ((val = value_of(word, "every"))) {
		if (parse_ulong(val, EVERY_MIN_MS, RETRY_MAX_MS, &v) < 0)
			return -1;
		o->every_ms = (unsigned)v;
		return 1;
	}
	return 0;
}

int plan_apply_option(struct probe_case *c, const char *word, char *err, size_t errlen)
{
	struct probe_opts *o = &c->opts;
	unsigned long v;
	const char *val;
	int ret;

	if (strcmp(word, "reuseaddr") == 0) {
		o->reuseaddr = true;
	} else if (strcmp(word, "reuseport") == 0) {
		o->reuseport = true;
	} else if (strcmp(word, "freebind") == 0) {
		o->freebind = true;
	} else if (strcmp(word, "bindnoport") == 0) {
		o->bind_no_port = true;
	} else if ((val = value_of(word, "if"))) {
		if (plan_parse_iface(val, &o->iface) < 0)
			goto bad_value;
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
	} else if ((ret = time_option(o, word)) != 0) {
		if (ret < 0)
			goto bad_value;
	} else {
		snprintf(err, errlen, "option '%.64s' is unknown", word);
		return -1;
	}
	return 0;

bad_value:
	snprintf(err, errlen, "option '%.64s' has a bad value", word);
	return -1;
}

const char *plan_op_name(enum probe_op op)
{
	switch (op) {
	case OP_BIND: return "bind";
	case OP_CONNECT: return "connect";
	case OP_JOIN: return "join";
	case OP_MCAST_IF: return "mcast-if";
	case OP_SEND: return "send";
	}
	return "?";
}

/* Says into @err that option @what does not fit the case's operation.  Returns -1. */
static int not_for(const struct probe_case *c, const char *what, char *err, size_t errlen)
{
	snprintf(err, errlen, "option '%s' is not for %s cases", what, plan_op_name(c->op));
	return -1;
}

/* Checks if= against the case: an interface address only names an IPv4 interface
 * of a join or mcast-if (IPv6 takes an index); a send's if= is PKTINFO's index. */
static int check_iface(const struct probe_case *c, char *err, size_t errlen)
{
	const struct probe_iface *i = &c->opts.iface;

	if (i->kind == IFACE_NONE)
		return 0;
	if (c->op == OP_BIND || c->op == OP_CONNECT)
		return not_for(c, "if", err, errlen);
	if (i->kind != IFACE_ADDR)
		return 0;
	if (c->op == OP_SEND) {
		snprintf(err, errlen, "option 'if': a send names an interface (name or index) for "
			 "PKTINFO, its source is pktinfo=ADDR");
		return -1;
	}
	if (c->addr.family != AF_INET || i->addr.family != AF_INET) {
		snprintf(err, errlen, "option 'if': an interface address is for IPv4 groups; "
			 "IPv6 takes an interface name or index");
		return -1;
	}
	return 0;
}

/* Checks retry=, every= and delay=: a bind or a connect (not held: its socket would
 * be closed between rounds), every= only with retry=, and at most TRIES_MAX tries. */
static int check_retry(const struct probe_case *c, char *err, size_t errlen)
{
	const struct probe_opts *o = &c->opts;

	if (o->delay_ms && c->op != OP_BIND && c->op != OP_CONNECT)
		return not_for(c, "delay", err, errlen);
	if (o->delay_ms && c->op == OP_CONNECT && o->hold)
		return not_for(c, "delay with hold", err, errlen);
	if (!o->retry_ms) {
		if (o->every_ms != DEFAULT_EVERY_MS) {
			snprintf(err, errlen, "option 'every' needs retry=S");
			return -1;
		}
		return 0;
	}
	if (c->op != OP_BIND && c->op != OP_CONNECT)
		return not_for(c, "retry", err, errlen);
	if (c->op == OP_CONNECT && o->hold)
		return not_for(c, "retry with hold", err, errlen);
	if (o->retry_ms / o->every_ms >= TRIES_MAX) {
		snprintf(err, errlen, "option 'retry': %u ms every %u ms is more than %d tries; "
			 "raise every=", o->retry_ms, o->every_ms, TRIES_MAX);
		return -1;
	}
	return 0;
}

int plan_check(const struct probe_case *c, bool saw_nolisten, char *err, size_t errlen)
{
	if (c->op == OP_BIND && (c->opts.has_src || c->opts.sport))
		return not_for(c, c->opts.has_src ? "src" : "sport", err, errlen);
	if (c->op != OP_BIND && saw_nolisten)
		return not_for(c, "nolisten", err, errlen);
	if (c->op != OP_SEND && c->opts.has_pktinfo)
		return not_for(c, "pktinfo", err, errlen);
	if ((c->op == OP_JOIN || c->op == OP_MCAST_IF) && c->opts.sport)
		return not_for(c, "sport", err, errlen);
	if (c->op >= OP_JOIN && c->proto != PROTO_UDP) {
		snprintf(err, errlen, "field 'proto': a %s is udp", plan_op_name(c->op));
		return -1;
	}
	if ((c->op == OP_CONNECT || c->op == OP_SEND) && c->port == 0) {
		snprintf(err, errlen, "field 'port': a %s needs a port from 1 to 65535",
			 plan_op_name(c->op));
		return -1;
	}
	if (c->name.text[0] && c->op == OP_CONNECT && c->opts.hold) {
		snprintf(err, errlen, "option 'hold' is not for a connect to a name");
		return -1;
	}
	if (c->name.text[0] && (c->opts.retry_ms || c->opts.delay_ms)) {
		snprintf(err, errlen, "options 'retry' and 'delay' are not for a name (it is "
			 "resolved once)");
		return -1;
	}
	if (c->opts.v6only >= 0 && c->addr.family != AF_INET6) {
		snprintf(err, errlen, "option 'v6only' needs an IPv6 socket");
		return -1;
	}
	if (check_retry(c, err, errlen) < 0)
		return -1;
	return check_iface(c, err, errlen);
}

/* Where a line's problem is reported: its number and the caller's buffer. */
struct line_err {
	size_t lineno;
	char *err;
	size_t errlen;
};

/* Writes "plan line N: " and the printf-style message into the caller's buffer (cut
 * to fit, as one snprintf() of the whole would).  Returns -1, the malformed line's
 * value, so that a step can `return line_error(...)`. */
__attribute__((format(printf, 2, 3)))
static int line_error(const struct line_err *le, const char *fmt, ...)
{
	int n = snprintf(le->err, le->errlen, "plan line %zu: ", le->lineno);
	va_list ap;

	if (n >= 0 && (size_t)n < le->errlen) {
		va_start(ap, fmt);
		vsnprintf(le->err + n, le->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/*
 * Copies @line into @buf (PLAN_LINE_MAX + 1 bytes), drops a trailing CR and cuts it
 * into @field at spaces and tabs.  Returns the number of fields (0 for a blank or
 * comment line), or -1 with the message in @le.
 */
static int split_fields(const char *line, char *buf, char **field, const struct line_err *le)
{
	char *save = NULL, *tok;
	size_t n = strlen(line);
	int nf = 0;

	if (n > PLAN_LINE_MAX)
		return line_error(le, "longer than %d characters", PLAN_LINE_MAX);
	memcpy(buf, line, n + 1);
	if (n && buf[n - 1] == '\r')	/* a plan written on Windows */
		buf[n - 1] = '\0';
	for (tok = strtok_r(buf, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		if (nf == 0 && tok[0] == '#')
			return 0;
		if (nf == MAX_FIELDS)
			return line_error(le, "more than %d fields", MAX_FIELDS);
		field[nf++] = tok;
	}
	return nf;
}

/* Checks the ID field @s and copies it into @id (CASE_ID_MAX bytes).  Returns 0, or
 * -1 with the message in @le. */
static int parse_id(const char *s, char *id, const struct line_err *le)
{
	if (strlen(s) >= CASE_ID_MAX)
		return line_error(le, "field 'id' is longer than %d characters", CASE_ID_MAX - 1);
	for (const char *p = s; *p; p++) {
		if (!id_char_ok(*p))
			return line_error(le, "field 'id': character 0x%02x is not allowed",
					  (unsigned char)*p);
	}
	memcpy(id, s, strlen(s) + 1);
	return 0;
}

/* The OP, PROTO and PORT fields (@field[1], [2], [4]) into @out.  Returns 0, or -1
 * with the message in @le. */
static int parse_op_proto_port(char **field, struct probe_case *out, const struct line_err *le)
{
	unsigned long v;

	static const enum probe_op ops[] = { OP_BIND, OP_CONNECT, OP_JOIN, OP_MCAST_IF, OP_SEND };
	size_t k = 0;

	while (k < sizeof(ops) / sizeof(ops[0]) && strcmp(field[1], plan_op_name(ops[k])) != 0)
		k++;
	if (k == sizeof(ops) / sizeof(ops[0]))
		return line_error(le, "field 'op': '%.32s' is not bind, connect, join, mcast-if "
				  "or send", field[1]);
	out->op = ops[k];
	if (strcmp(field[2], "tcp") == 0)
		out->proto = PROTO_TCP;
	else if (strcmp(field[2], "udp") == 0)
		out->proto = PROTO_UDP;
	else
		return line_error(le, "field 'proto': '%.32s' is not tcp or udp", field[2]);
	if (parse_ulong(field[4], 0, 65535, &v) < 0)
		return line_error(le, "field 'port': '%.32s' is not a port (0-65535)", field[4]);
	out->port = (unsigned)v;
	return 0;
}

/* What the OPTION fields say beyond plan_apply_option(): they are applied to the
 * case in a second step, once the address is parsed. */
struct line_options {
	int family;		/* family=4|6, else AF_UNSPEC */
	const char *src_text;	/* src=ADDR, else NULL */
	const char *pktinfo_text;	/* pktinfo=ADDR, else NULL */
	bool saw_nolisten;
	int resolve;		/* resolve=first (0), each (1), all (2), else -1 */
	bool addrconfig;	/* addrconfig */
};

/* Applies the @n OPTION fields @word to @out, keeping family= and src= in @lo.
 * Returns 0, or -1 with the message in @le. */
static int parse_options(char **word, int n, struct probe_case *out, struct line_options *lo,
			 const struct line_err *le)
{
	char why[160];
	const char *val;

	for (int i = 0; i < n; i++) {
		if ((val = value_of(word[i], "family"))) {
			if (strcmp(val, "4") == 0)
				lo->family = AF_INET;
			else if (strcmp(val, "6") == 0)
				lo->family = AF_INET6;
			else if (strcmp(val, "any") == 0)
				lo->family = AF_UNSPEC;
			else
				return line_error(le, "option 'family' must be 4, 6 or any");
		} else if ((val = value_of(word[i], "resolve"))) {
			if (strcmp(val, "first") != 0 && strcmp(val, "each") != 0 &&
			    strcmp(val, "all") != 0)
				return line_error(le, "option 'resolve' must be first, each or all");
			lo->resolve = val[0] == 'e' ? 1 : val[0] == 'a' ? 2 : 0;
		} else if (strcmp(word[i], "addrconfig") == 0) {
			lo->addrconfig = true;
		} else if ((val = value_of(word[i], "src"))) {
			lo->src_text = val;
		} else if ((val = value_of(word[i], "pktinfo"))) {
			lo->pktinfo_text = val;
		} else {
			if (strcmp(word[i], "nolisten") == 0)
				lo->saw_nolisten = true;
			if (plan_apply_option(out, word[i], why, sizeof(why)) < 0)
				return line_error(le, "%s", why);
		}
	}
	return 0;
}

/* Makes @out a name case for the ADDR field @text with @lo's family=, resolve= and
 * addrconfig.  Returns 0, or -1 with the message in @le. */
static int line_name(const char *text, const struct line_options *lo, struct probe_case *out,
		     const struct line_err *le)
{
	char why[160];

	if (name_set(out, text, lo->family, why, sizeof(why)) < 0)
		return line_error(le, "field 'addr': %s", why);
	out->name.addrconfig = lo->addrconfig;
	if (lo->resolve == 2 && out->op != OP_BIND)
		return line_error(le, "option 'resolve=all' is for a bind (a server binding "
				  "every address)");
	if (lo->resolve >= 0) {
		out->name.each = lo->resolve == 1;
		out->name.all = lo->resolve == 2;
	}
	return 0;
}

/* Parses the ADDR field @text (in the family of @lo) and the src= option into @out,
 * then checks the combination.  Returns 0, or -1 with the message in @le. */
static int parse_addresses(const char *text, const struct line_options *lo,
			   struct probe_case *out, const struct line_err *le)
{
	char why[160];

	if (addr_parse(text, lo->family, &out->addr, why, sizeof(why)) == 0)
		addr_set_port(&out->addr, out->port);
	else if (!name_valid(text) || (out->op != OP_BIND && out->op != OP_CONNECT))
		return line_error(le, "field 'addr': %s", why);
	else if (line_name(text, lo, out, le) < 0)
		return -1;
	if (!out->name.text[0] && (lo->resolve >= 0 || lo->addrconfig))
		return line_error(le, "option '%s' is for a name ADDR",
				  lo->addrconfig ? "addrconfig" : "resolve");
	if (lo->src_text) {
		if (addr_parse(lo->src_text, out->name.text[0] ? out->name.family : out->addr.family,
			       &out->opts.src, why, sizeof(why)) < 0)
			return line_error(le, "option 'src': %s", why);
		out->opts.has_src = true;
		name_take_src_family(out);
	}
	if (lo->pktinfo_text) {
		if (addr_parse(lo->pktinfo_text, out->addr.family, &out->opts.pktinfo, why,
			       sizeof(why)) < 0)
			return line_error(le, "option 'pktinfo': %s", why);
		out->opts.has_pktinfo = true;
	}
	if (plan_check(out, lo->saw_nolisten, why, sizeof(why)) < 0)
		return line_error(le, "%s", why);
	return 0;
}

int plan_parse_line(const char *line, size_t lineno, struct probe_case *out, char *err,
		    size_t errlen)
{
	static const char *names[] = { "id", "op", "proto", "addr", "port" };
	const struct line_err le = { .lineno = lineno, .err = err, .errlen = errlen };
	struct line_options lo = { .family = AF_UNSPEC, .resolve = -1 };
	char buf[PLAN_LINE_MAX + 1];
	char *field[MAX_FIELDS];
	int nf = split_fields(line, buf, field, &le);

	if (nf <= 0)
		return nf;
	if (nf < 5)
		return line_error(&le, "field '%s' is missing (a line is: ID OP PROTO ADDR PORT [OPTION ...])",
				  names[nf]);
	memset(out, 0, sizeof(*out));
	out->opts = probe_opts_default();
	if (parse_id(field[0], out->id, &le) < 0 || parse_op_proto_port(field, out, &le) < 0 ||
	    parse_options(field + 5, nf - 5, out, &lo, &le) < 0 ||
	    parse_addresses(field[3], &lo, out, &le) < 0)
		return -1;
	return 1;
}
