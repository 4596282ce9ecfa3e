/*
 * probe_cmd_diagnose.c: `netprobe diagnose ADDR [PORT]`, why a bind here fails and
 * what fixes it (probe_explain.h), or with --join, --mcast-if or --send why that
 * call fails (probe_explain_call.h), as text (a headline, why:, fix: lines) or as
 * one JSON object.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "probe_cmd.h"
#include "lib/errnames.h"
#include "probe_explain.h"
#include "probe_explain_call.h"
#include "probe_plan.h"
#include "lib/json.h"
#include "probe_opt.h"
#include "lib/text.h"

/* The largest JSON object diagnose writes (a namespace with ~100,000 addresses). */
#define DIAG_JSON_MAX (64u << 20)

struct diagnose_opts {
	bool json;
	bool udp;
	bool freebind;
	enum probe_op op;	/* OP_BIND, or --join, --mcast-if, --send */
	const char *iface;	/* --if */
	const char *src;	/* --src */
	const char *pktinfo;	/* --pktinfo */
};

/* The usage of `netprobe diagnose` on @f (@which: unused, see probe_opt.h). */
static void diagnose_usage(FILE *f, unsigned which)
{
	(void)which;
	fputs("usage: netprobe diagnose [--json] [--udp] [--freebind] ADDR [PORT]\n"
	      "       netprobe diagnose [--json] [--freebind] --join|--mcast-if [--if IF]\n"
	      "                         [--src ADDR] GROUP [PORT]\n"
	      "       netprobe diagnose [--json] [--freebind] --send [--src ADDR]\n"
	      "                         [--pktinfo ADDR] [--if IF] ADDR PORT\n"
	      "  Tries to bind ADDR:PORT (PORT 0 or none: any port) here, or the join,\n"
	      "  mcast-if or send (as `netprobe join` ... make it), then says in plain words\n"
	      "  why it fails or would fail, what the errno means on that call, and what\n"
	      "  fixes it.\n"
	      "  --json       one JSON object (cause: ok, interface_down, not_local, tentative,\n"
	      "               dadfailed, port_in_use, privileged_port, linklocal_no_scope,\n"
	      "               unknown_scope, unknown_interface, no_route, already_joined,\n"
	      "               not_multicast, other) instead of text\n"
	      "  --udp        a UDP socket (default TCP; the other calls are UDP)\n"
	      "  --freebind   set IP_FREEBIND / IPV6_FREEBIND on the trial socket\n"
	      "  --if, --src, --pktinfo   as the options of join, mcast-if and send\n"
	      "Exit status: 0 the bind would succeed, 1 it would not (or, with a message on\n"
	      "stderr and nothing on stdout, the probe could not look), 2 bad usage.\n",
	      f);
}

/* "bind 10.0.0.1:6677/tcp" or "bind [fd00::1]:6677/udp" (the address as given,
 * with its scope). */
static void target_text(const struct diag_request *rq, char *buf, size_t len)
{
	const char *proto = rq->udp ? "udp" : "tcp";

	if (rq->addr.family == AF_INET6)
		snprintf(buf, len, "bind [%s]:%u/%s", rq->addr.text, rq->port, proto);
	else
		snprintf(buf, len, "bind %s:%u/%s", rq->addr.text, rq->port, proto);
}

/* Adds the lists of @d to @j: "holders", "ip_nonlocal_bind", "local_addrs". */
static void json_lists(struct json_out *j, const struct diagnosis *d)
{
	json_open_array(j, "holders");
	for (size_t i = 0; i < d->nholders; i++) {
		const struct port_holder *h = &d->holders[i];

		json_open_object(j, NULL);
		json_str(j, "proto", h->proto);
		json_str(j, "local", h->local);
		json_str(j, "state", h->state);
		json_int(j, "inode", (int64_t)h->inode);
		json_int(j, "uid", h->uid);
		if (h->pid)
			json_int(j, "pid", h->pid);
		else
			json_null(j, "pid");
		json_str(j, "comm", h->comm[0] ? h->comm : NULL);
		json_close(j);
	}
	json_close(j);
	if (d->nonlocal_bind >= 0)
		json_int(j, "ip_nonlocal_bind", d->nonlocal_bind);
	else
		json_null(j, "ip_nonlocal_bind");
	json_open_array(j, "local_addrs");
	for (size_t i = 0; i < d->naddrs; i++) {
		json_open_object(j, NULL);
		json_str(j, "ifname", d->addrs[i].ifname);
		addr_json_members(j, &d->addrs[i]);
		json_close(j);
	}
	json_close(j);
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
	json_str(&j, "trial", plan_op_name(rq->call.op));
	json_str(&j, "host", probe_host());
	json_str(&j, "addr", rq->addr.text);
	json_int(&j, "port", rq->port);
	json_str(&j, "proto", rq->udp ? "udp" : "tcp");
	json_str(&j, "family", rq->addr.family == AF_INET ? "inet" : "inet6");
	json_bool(&j, "freebind", rq->freebind);
	if (rq->call.op != OP_BIND) {
		json_str(&j, "if", rq->call.opts.iface.text[0] ? rq->call.opts.iface.text : NULL);
		json_str(&j, "src", rq->call.opts.has_src ? rq->call.opts.src.text : NULL);
		json_str(&j, "pktinfo", rq->call.opts.has_pktinfo ? rq->call.opts.pktinfo.text : NULL);
	}
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
	json_lists(&j, d);
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
	char target[SOCKADDR_TEXT_MAX + 3 * ADDR_TEXT_MAX], num[16], head[sizeof(target) + 256];

	if (rq->call.op != OP_BIND) {
		call_describe(rq, target, sizeof(target));
	} else {
		target_text(rq, target, sizeof(target));
	}
	if (d->err)
		snprintf(head, sizeof(head), "%s would fail: %s (%s)", target,
			 errno_name_or_number(d->err, num, sizeof(num)), strerror(d->err));
	else if (d->cause == CAUSE_INTERFACE_DOWN)
		snprintf(head, sizeof(head), "%s would succeed, but its interface is not working",
			 target);
	else
		snprintf(head, sizeof(head), "%s would succeed", target);
	put_line("", head);
	put_line("why: ", d->explanation);
	for (size_t i = 0; i < d->nfixes; i++)
		put_line("fix: ", d->fixes[i]);
	return fflush(stdout) == 0 && !ferror(stdout) ? 0 : -1;
}

/* Reads diagnose's options into @o.  Returns 0, 1 after --help, or -1 after
 * saying what was wrong (optind: the first operand). */
static int diagnose_options(struct opt_parser *p, struct diagnose_opts *o)
{
	int c;

	while ((c = opt_next(p)) != OPT_END) {
		switch (c) {
		case 'j': o->json = true; break;
		case 'u': o->udp = true; break;
		case 'f': o->freebind = true; break;
		case 'J': o->op = OP_JOIN; break;
		case 'M': o->op = OP_MCAST_IF; break;
		case 'S': o->op = OP_SEND; break;
		case 'i': o->iface = optarg; break;
		case 's': o->src = optarg; break;
		case 'p': o->pktinfo = optarg; break;
		case OPT_HELP: return 1;
		default: return -1;	/* OPT_BAD: said on stderr */
		}
	}
	if (o->op == OP_BIND && (o->iface || o->src || o->pktinfo))
		return opt_bad(p, "--if, --src and --pktinfo go with --join, --mcast-if or --send");
	return 0;
}

/* Builds rq->call, the join, mcast-if or send @o asks for, from rq's address and
 * port, as a plan line would.  Returns 0, or -1 after saying what was wrong. */
static int diagnose_call_case(const struct opt_parser *p, const struct diagnose_opts *o,
			      struct diag_request *rq)
{
	struct probe_case *c = &rq->call;
	char err[200];

	c->op = o->op;
	c->proto = PROTO_UDP;
	c->addr = rq->addr;
	c->port = rq->port;
	c->opts = probe_opts_default();
	c->opts.freebind = o->freebind;
	addr_set_port(&c->addr, c->port);
	if (o->iface && plan_parse_iface(o->iface, &c->opts.iface) < 0)
		return opt_bad(p, "--if: '%s' is not an address, interface index or name", o->iface);
	if (o->src && addr_parse(o->src, c->addr.family, &c->opts.src, err, sizeof(err)) < 0)
		return opt_bad(p, "--src: %s", err);
	c->opts.has_src = o->src != NULL;
	if (o->pktinfo &&
	    addr_parse(o->pktinfo, c->addr.family, &c->opts.pktinfo, err, sizeof(err)) < 0)
		return opt_bad(p, "--pktinfo: %s", err);
	c->opts.has_pktinfo = o->pktinfo != NULL;
	if (plan_check(c, false, err, sizeof(err)) < 0)
		return opt_bad(p, "%s", err);
	rq->udp = true;
	return 0;
}

/* Reads the command line into @rq and @o.  Returns 0, 1 after --help, or -1 after
 * saying what was wrong. */
static int diagnose_command_line(int argc, char **argv, struct diagnose_opts *o,
				 struct diag_request *rq)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },	  { "udp", no_argument, NULL, 'u' },
		{ "freebind", no_argument, NULL, 'f' },	  { "join", no_argument, NULL, 'J' },
		{ "mcast-if", no_argument, NULL, 'M' },	  { "send", no_argument, NULL, 'S' },
		{ "if", required_argument, NULL, 'i' },	  { "src", required_argument, NULL, 's' },
		{ "pktinfo", required_argument, NULL, 'p' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct opt_parser p;
	char err[160];
	unsigned long port = 0;
	int nargs, rc;

	opt_init(&p, argc, argv, "diagnose", "jufh", longopts, diagnose_usage, 0);
	rc = diagnose_options(&p, o);
	if (rc != 0)
		return rc;
	nargs = argc - optind;
	if (nargs < 1 || nargs > 2 || (o->op == OP_SEND && nargs != 2))
		return opt_bad(&p, "expected %s, got %d argument(s)",
			       o->op == OP_SEND ? "ADDR PORT" : "ADDR [PORT]", nargs);
	memset(rq, 0, sizeof(*rq));
	if (addr_parse(argv[optind], AF_UNSPEC, &rq->addr, err, sizeof(err)) < 0)
		return opt_bad(&p, "ADDR: %s", err);
	if (nargs == 2 &&
	    opt_number(&p, "PORT", argv[optind + 1], 0, 65535, "a port", &port) < 0)
		return -1;
	rq->port = (unsigned)port;
	rq->udp = o->udp;
	rq->freebind = o->freebind;
	return o->op == OP_BIND ? 0 : diagnose_call_case(&p, o, rq);
}

/* `netprobe diagnose`: @argv from the command's name on; returns the exit status
 * (probe_cmd.h: 0 the probe worked, 1 it could not, 2 bad usage). */
int cmd_diagnose(int argc, char **argv)
{
	struct diagnose_opts o = { .json = false, .op = OP_BIND };
	struct diag_request rq;
	struct diagnosis d;
	int status;

	switch (diagnose_command_line(argc, argv, &o, &rq)) {
	case 1: return EXIT_PROBE_OK;	/* --help */
	case -1: return EXIT_USAGE;
	}
	if ((o.op == OP_BIND ? diagnose_bind(&rq, &d) : diagnose_call(&rq, &d)) < 0) {
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
