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
#include "lib/errnames.h"
#include "probe_explain.h"
#include "lib/json.h"
#include "probe_opt.h"
#include "lib/text.h"

/* The largest JSON object diagnose writes (a namespace with ~100,000 addresses). */
#define DIAG_JSON_MAX (64u << 20)

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

/* "10.0.0.1:6677" or "[fd00::1]:6677" (the text as given, with its scope). */
static void target_text(const struct diag_request *rq, char *buf, size_t len)
{
	if (rq->addr.family == AF_INET6)
		snprintf(buf, len, "[%s]:%u", rq->addr.text, rq->port);
	else
		snprintf(buf, len, "%s:%u", rq->addr.text, rq->port);
}

/* Builds the JSON object of @d into @buf of @size bytes.  Returns its length, or 0
 * when something did not fit (the caller tries a larger buffer). */
static size_t format_json(char *buf, size_t size, const struct diag_request *rq,
			  const struct diagnosis *d)
{
	struct json_out j;
	char num[16];
	size_t n;

	json_begin(&j, buf, size, 0);
	json_str(&j, "op", "diagnose");
	json_str(&j, "host", probe_host());
	json_str(&j, "addr", rq->addr.text);
	json_int(&j, "port", rq->port);
	json_str(&j, "proto", rq->udp ? "udp" : "tcp");
	json_str(&j, "family", rq->addr.family == AF_INET ? "inet" : "inet6");
	json_bool(&j, "freebind", rq->freebind);
	json_bool(&j, "ok", d->err == 0);
	json_int(&j, "errno", d->err);
	json_str(&j, "error", d->err ? errno_name_or_number(d->err, num, sizeof(num)) : NULL);
	json_str(&j, "message", d->err ? strerror(d->err) : NULL);
	json_str(&j, "call", d->err ? d->call : NULL);
	json_str(&j, "cause", diag_cause_name(d->cause));
	json_str(&j, "explanation", d->explanation);
	json_open_array(&j, "fixes");
	for (size_t i = 0; i < d->nfixes; i++)
		json_str(&j, NULL, d->fixes[i]);
	json_close(&j);
	json_open_array(&j, "holders");
	for (size_t i = 0; i < d->nholders; i++) {
		const struct port_holder *h = &d->holders[i];

		json_open_object(&j, NULL);
		json_str(&j, "proto", h->proto);
		json_str(&j, "local", h->local);
		json_str(&j, "state", h->state);
		json_int(&j, "inode", (int64_t)h->inode);
		json_int(&j, "uid", h->uid);
		if (h->pid)
			json_int(&j, "pid", h->pid);
		else
			json_null(&j, "pid");
		json_str(&j, "comm", h->comm[0] ? h->comm : NULL);
		json_close(&j);
	}
	json_close(&j);
	if (d->nonlocal_bind >= 0)
		json_int(&j, "ip_nonlocal_bind", d->nonlocal_bind);
	else
		json_null(&j, "ip_nonlocal_bind");
	json_open_array(&j, "local_addrs");
	for (size_t i = 0; i < d->naddrs; i++) {
		json_open_object(&j, NULL);
		json_str(&j, "ifname", d->addrs[i].ifname);
		addr_json_members(&j, &d->addrs[i]);
		json_close(&j);
	}
	json_close(&j);
	n = json_end(&j);
	return j.cut ? 0 : n;
}

/*
 * Writes the JSON object of @d as one flushed line.  The object grows with the
 * namespace (every address is listed), so it is built in a heap buffer that
 * doubles until it fits.  Returns 0 or -1 (errno: ENOMEM, or the write's).
 */
static int print_json(const struct diag_request *rq, const struct diagnosis *d)
{
	size_t size = 1 << 16, n = 0;
	char *buf = NULL;
	int ret = -1;

	while (n == 0 && size <= DIAG_JSON_MAX) {
		char *bigger = realloc(buf, size);

		if (!bigger)
			goto out;
		buf = bigger;
		n = format_json(buf, size, rq, d);
		size *= 2;
	}
	if (n == 0) {
		errno = EMSGSIZE;
		goto out;
	}
	if (fwrite(buf, 1, n, stdout) != n || fflush(stdout) != 0)
		goto out;
	ret = 0;
out:
	free(buf);
	return ret;
}

/* Prints @prefix and @text as one line on stdout, every control byte and byte
 * that is not UTF-8 in @text as \xNN (lib/text.h): what the user typed (a
 * %scope) or the kernel named (an interface) must not repaint the terminal. */
static void put_line(const char *prefix, const char *text)
{
	char safe[4 * DIAG_TEXT_MAX + 1];

	text_escape(safe, sizeof(safe), text);
	printf("%s%s\n", prefix, safe);
}

/* Writes the human form: the headline, then "why:" and one "fix:" line per fix.
 * Returns 0 or -1 (errno). */
static int print_text(const struct diag_request *rq, const struct diagnosis *d)
{
	char target[SOCKADDR_TEXT_MAX + 8], num[16], head[SOCKADDR_TEXT_MAX + 256];
	const char *proto = rq->udp ? "udp" : "tcp";

	target_text(rq, target, sizeof(target));
	if (d->err)
		snprintf(head, sizeof(head), "bind %s/%s would fail: %s (%s)", target, proto,
			 errno_name_or_number(d->err, num, sizeof(num)), strerror(d->err));
	else if (d->cause == CAUSE_INTERFACE_DOWN)
		snprintf(head, sizeof(head),
			 "bind %s/%s would succeed, but its interface is not working", target,
			 proto);
	else
		snprintf(head, sizeof(head), "bind %s/%s would succeed", target, proto);
	put_line("", head);
	put_line("why: ", d->explanation);
	for (size_t i = 0; i < d->nfixes; i++)
		put_line("fix: ", d->fixes[i]);
	return fflush(stdout) == 0 && !ferror(stdout) ? 0 : -1;
}

/* `netprobe diagnose`: @argv from the command's name on; returns the exit status
 * (probe_cmd.h: 0 the probe worked, 1 it could not, 2 bad usage). */
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
