/*
 * probe_cmd_diagnose.c: `netprobe diagnose ADDR [PORT]`, why a bind here fails and
 * what fixes it (probe_explain.h), as text (a headline, why:, fix: lines) or as one
 * JSON object.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "probe_cmd.h"
#include "probe_errno.h"
#include "probe_explain.h"
#include "probe_json.h"
#include "probe_opt.h"

struct diagnose_opts {
	bool json;
	bool udp;
	bool freebind;
};

/* The usage of `netprobe diagnose` on @f (@which: unused, see probe_opt.h). */
static void diagnose_usage(FILE *f, unsigned which)
{
	(void)which;
	fputs("usage: netprobe diagnose [--json] [--udp] [--freebind] ADDR [PORT]\n"
	      "  Tries to bind ADDR:PORT (PORT 0 or none: any port) here, then says in plain\n"
	      "  words why it fails or would fail and what fixes it.\n"
	      "  --json       one JSON object (cause: ok, interface_down, not_local, tentative,\n"
	      "               dadfailed, port_in_use, privileged_port, linklocal_no_scope,\n"
	      "               unknown_scope, other) instead of text\n"
	      "  --udp        a UDP socket (default TCP)\n"
	      "  --freebind   set IP_FREEBIND / IPV6_FREEBIND on the trial socket\n"
	      "Exit status: 0 the bind would succeed, 1 it would not (or, with a message on\n"
	      "stderr and nothing on stdout, the probe could not look), 2 bad usage.\n",
	      f);
}

/* Writes @s as a JSON string (null for NULL) to @f. */
static void json_put_str(FILE *f, const char *s)
{
	size_t len;
	char *q;

	if (!s) {
		fputs("null", f);
		return;
	}
	len = strlen(s) * 6 + 3;	/* every byte escaped as \u00XX, quotes, NUL */
	q = malloc(len);
	if (!q) {
		fputs("null", f);
		return;
	}
	json_quote(q, len, s);
	fputs(q, f);
	free(q);
}

/* Writes "KEY": (preceded by a comma unless *@first) to @f. */
static void json_key(FILE *f, bool *first, const char *key)
{
	fprintf(f, "%s\"%s\":", *first ? "" : ",", key);
	*first = false;
}

/* "10.0.0.1:6677" or "[fd00::1]:6677" (the text as given, with its scope). */
static void target_text(const struct diag_request *rq, char *buf, size_t len)
{
	if (rq->addr.family == AF_INET6)
		snprintf(buf, len, "[%s]:%u", rq->addr.text, rq->port);
	else
		snprintf(buf, len, "%s:%u", rq->addr.text, rq->port);
}

/* Builds the JSON object of @d in memory and writes it as one flushed line.
 * Returns 0 or -1 (errno). */
static int print_json(const struct diag_request *rq, const struct diagnosis *d)
{
	char *text = NULL, num[16];
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	bool first = true;
	int ret = -1;

	if (!f)
		return -1;
	fputc('{', f);
	json_key(f, &first, "op");
	json_put_str(f, "diagnose");
	json_key(f, &first, "host");
	json_put_str(f, probe_host());
	json_key(f, &first, "addr");
	json_put_str(f, rq->addr.text);
	json_key(f, &first, "port");
	fprintf(f, "%u", rq->port);
	json_key(f, &first, "proto");
	json_put_str(f, rq->udp ? "udp" : "tcp");
	json_key(f, &first, "family");
	json_put_str(f, rq->addr.family == AF_INET ? "inet" : "inet6");
	json_key(f, &first, "freebind");
	fputs(rq->freebind ? "true" : "false", f);
	json_key(f, &first, "ok");
	fputs(d->err ? "false" : "true", f);
	json_key(f, &first, "errno");
	fprintf(f, "%d", d->err);
	json_key(f, &first, "error");
	json_put_str(f, d->err ? errno_name_or_number(d->err, num, sizeof(num)) : NULL);
	json_key(f, &first, "message");
	json_put_str(f, d->err ? strerror(d->err) : NULL);
	json_key(f, &first, "call");
	json_put_str(f, d->err ? d->call : NULL);
	json_key(f, &first, "cause");
	json_put_str(f, diag_cause_name(d->cause));
	json_key(f, &first, "explanation");
	json_put_str(f, d->explanation);
	json_key(f, &first, "fixes");
	fputc('[', f);
	for (size_t i = 0; i < d->nfixes; i++) {
		if (i)
			fputc(',', f);
		json_put_str(f, d->fixes[i]);
	}
	fputc(']', f);
	json_key(f, &first, "holders");
	fputc('[', f);
	for (size_t i = 0; i < d->nholders; i++) {
		const struct port_holder *h = &d->holders[i];

		fprintf(f, "%s{\"proto\":", i ? "," : "");
		json_put_str(f, h->proto);
		fputs(",\"local\":", f);
		json_put_str(f, h->local);
		fputs(",\"state\":", f);
		json_put_str(f, h->state);
		fprintf(f, ",\"inode\":%lu,\"uid\":%u,\"pid\":", h->inode, h->uid);
		if (h->pid)
			fprintf(f, "%d", (int)h->pid);
		else
			fputs("null", f);
		fputs(",\"comm\":", f);
		json_put_str(f, h->comm[0] ? h->comm : NULL);
		fputc('}', f);
	}
	fputc(']', f);
	json_key(f, &first, "ip_nonlocal_bind");
	if (d->nonlocal_bind >= 0)
		fprintf(f, "%ld", d->nonlocal_bind);
	else
		fputs("null", f);
	json_key(f, &first, "local_addrs");
	fputc('[', f);
	for (size_t i = 0; i < d->naddrs; i++) {
		const struct local_addr *l = &d->addrs[i];
		char flags[512], scope[16];

		addr_flags_format(l, true, flags, sizeof(flags));
		fprintf(f, "%s{\"ifname\":", i ? "," : "");
		json_put_str(f, l->ifname);
		fprintf(f, ",\"family\":\"%s\",\"addr\":", l->family == AF_INET ? "inet" : "inet6");
		json_put_str(f, l->text);
		fprintf(f, ",\"prefixlen\":%u,\"scope\":\"%s\",\"flags\":%s,\"link\":\"%s\"}",
			l->prefixlen, addr_scope_name(l->scope, scope, sizeof(scope)), flags,
			(l->link_flags & IFF_UP) ? "up" : "down");
	}
	fputs("]}\n", f);
	if (fclose(f) != 0)
		goto out;
	if (fwrite(text, 1, len, stdout) != len || fflush(stdout) != 0)
		goto out;
	ret = 0;
out:
	free(text);
	return ret;
}

/* Writes the human form: the headline, then "why:" and one "fix:" line per fix.
 * Returns 0 or -1 (errno). */
static int print_text(const struct diag_request *rq, const struct diagnosis *d)
{
	char target[SOCKADDR_TEXT_MAX + 8], num[16];

	target_text(rq, target, sizeof(target));
	if (d->err)
		printf("bind %s/%s would fail: %s (%s)\n", target, rq->udp ? "udp" : "tcp",
		       errno_name_or_number(d->err, num, sizeof(num)), strerror(d->err));
	else if (d->cause == CAUSE_INTERFACE_DOWN)
		printf("bind %s/%s would succeed, but its interface is not working\n", target,
		       rq->udp ? "udp" : "tcp");
	else
		printf("bind %s/%s would succeed\n", target, rq->udp ? "udp" : "tcp");
	printf("why: %s\n", d->explanation);
	for (size_t i = 0; i < d->nfixes; i++)
		printf("fix: %s\n", d->fixes[i]);
	return fflush(stdout) == 0 && !ferror(stdout) ? 0 : -1;
}

int cmd_diagnose(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "udp", no_argument, NULL, 'u' },
		{ "freebind", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct diagnose_opts o = { .json = false, .udp = false, .freebind = false };
	struct diag_request rq;
	struct diagnosis d;
	struct opt_parser p;
	char err[160];
	unsigned long port = 0;
	int c, nargs, status;

	opt_init(&p, argc, argv, "diagnose", "jufh", longopts, diagnose_usage, 0);
	while ((c = opt_next(&p)) != OPT_END) {
		switch (c) {
		case 'j': o.json = true; break;
		case 'u': o.udp = true; break;
		case 'f': o.freebind = true; break;
		case OPT_HELP: return EXIT_PROBE_OK;
		default: return EXIT_USAGE;	/* OPT_BAD: said on stderr */
		}
	}
	nargs = argc - optind;
	if (nargs < 1 || nargs > 2) {
		opt_bad(&p, "expected ADDR [PORT], got %d argument(s)", nargs);
		return EXIT_USAGE;
	}
	memset(&rq, 0, sizeof(rq));
	if (addr_parse(argv[optind], AF_UNSPEC, &rq.addr, err, sizeof(err)) < 0) {
		opt_bad(&p, "ADDR: %s", err);
		return EXIT_USAGE;
	}
	if (nargs == 2 &&
	    opt_number(&p, "PORT", argv[optind + 1], 0, 65535, "a port", &port) < 0)
		return EXIT_USAGE;
	rq.port = (unsigned)port;
	rq.udp = o.udp;
	rq.freebind = o.freebind;

	if (diagnose_bind(&rq, &d) < 0) {
		probe_warn("diagnose: rtnetlink dump: %s", strerror(errno));
		diagnosis_free(&d);
		return EXIT_PROBE_FAILED;
	}
	status = d.err ? 1 : 0;
	if ((o.json ? print_json(&rq, &d) : print_text(&rq, &d)) < 0) {
		probe_warn("diagnose: writing stdout: %s", strerror(errno));
		status = EXIT_PROBE_FAILED;
	}
	diagnosis_free(&d);
	return status;
}
