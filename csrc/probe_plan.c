/* probe_plan.c: see probe_plan.h. */
#include "probe_plan.h"

#include <stdio.h>
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
