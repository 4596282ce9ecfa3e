/* probe_resolve.c: see probe_resolve.h. */
#include "probe_resolve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/errnames.h"
#include "lib/gainames.h"
#include "probe_connect.h"
#include "probe_record.h"
#include "probe_sock.h"

const char *gai_name(int gai)
{
	return gai_word(gai, NULL);
}

/* Turns one getaddrinfo() result @sa into @out, its port @port.  Returns 0, or -1
 * for a family that is neither IPv4 nor IPv6 (skipped). */
static int result_addr(const struct sockaddr *sa, unsigned port, struct parsed_addr *out)
{
	char host[ADDR_TEXT_MAX], why[160];
	const void *bin;
	size_t n;

	if (sa->sa_family == AF_INET)
		bin = &((const struct sockaddr_in *)sa)->sin_addr;
	else if (sa->sa_family == AF_INET6)
		bin = &((const struct sockaddr_in6 *)sa)->sin6_addr;
	else
		return -1;
	if (!inet_ntop(sa->sa_family, bin, host, sizeof(host)))
		return -1;
	n = strlen(host);
	if (sa->sa_family == AF_INET6 && ((const struct sockaddr_in6 *)sa)->sin6_scope_id)
		snprintf(host + n, sizeof(host) - n, "%%%u",
			 ((const struct sockaddr_in6 *)sa)->sin6_scope_id);
	if (addr_parse(host, AF_UNSPEC, out, why, sizeof(why)) < 0)
		return -1;
	addr_set_port(out, port);
	return 0;
}

/* Resolves @c's name as an ordinary program would, into @o.  Returns 0, or -1
 * with o->gai (and o->gai_errno) set. */
static int name_resolve(const struct probe_case *c, struct name_outcome *o)
{
	struct addrinfo hints = { 0 }, *res = NULL;
	char service[8];
	int64_t t0 = now_us();

	memset(o, 0, sizeof(*o));
	hints.ai_family = c->name.family;
	hints.ai_socktype = c->proto == PROTO_TCP ? SOCK_STREAM : SOCK_DGRAM;
	hints.ai_protocol = c->proto == PROTO_TCP ? IPPROTO_TCP : IPPROTO_UDP;
	hints.ai_flags = (c->op == OP_BIND ? AI_PASSIVE : 0) |
			 (c->name.addrconfig ? AI_ADDRCONFIG : 0);
	snprintf(service, sizeof(service), "%u", c->port);
	errno = 0;
	o->gai = getaddrinfo(c->name.text, service, &hints, &res);
	o->resolve_us = now_us() - t0;
	if (o->gai != 0) {
		o->gai_errno = o->gai == EAI_SYSTEM ? errno : 0;
		return -1;
	}
	for (const struct addrinfo *ai = res; ai && o->n < NAME_RESULTS_MAX; ai = ai->ai_next)
		if (result_addr(ai->ai_addr, c->port, &o->resolved[o->n]) == 0)
			o->n++;
	freeaddrinfo(res);
	if (o->n == 0) {	/* only families a probe cannot call on */
		o->gai = EAI_FAMILY;
		return -1;
	}
	return 0;
}

/* Sets @at to @c at resolved address @i of @o. */
static void case_at(const struct probe_case *c, const struct name_outcome *o, size_t i,
		    struct probe_case *at)
{
	*at = *c;
	at->addr = o->resolved[i];
}

/* Notes the try of @o's address number o->tried with result @r; true when the
 * tries stop here (it worked, or the case takes the first result only). */
static bool note_try(const struct probe_case *c, struct name_outcome *o,
		     const struct probe_result *r)
{
	o->err[o->tried] = r->err;
	o->call[o->tried] = r->err ? r->call : NULL;
	o->tried++;
	return c->name.all ? false : r->err == 0 || !c->name.each;
}

/* The result of a failed resolution: no call was made. */
static void resolve_failed(const struct probe_case *c, const struct name_outcome *o,
			   struct probe_case *at, struct probe_result *r)
{
	*at = *c;
	memset(r, 0, sizeof(*r));
	r->call = "getaddrinfo";
	r->elapsed_us = o->resolve_us;
}

/* A bind of every result (resolve=all), as nginx and asyncio's create_server bind
 * every address of a name: every socket stays open until the last address is
 * bound (so that 0.0.0.0 and :: can conflict), then all but the first bound one are
 * closed.  The outcome is the first failure's (the server does not start), else the
 * last address's; each address's is in the attempts. */
static int bind_all(const struct probe_case *c, struct name_outcome *o, struct probe_case *at,
		    struct probe_result *r)
{
	int fds[NAME_RESULTS_MAX], keep = -1;
	struct probe_case try_at;
	struct probe_result try_r;
	bool failed = false;
	size_t i;

	for (i = 0; i < o->n; i++) {
		case_at(c, o, i, &try_at);
		memset(&try_r, 0, sizeof(try_r));
		fds[i] = probe_bind(&try_at, &try_r);
		(void)note_try(c, o, &try_r);
		if (!failed && (try_r.err || i == o->n - 1)) {
			*at = try_at;
			*r = try_r;
			failed = try_r.err != 0;
		}
	}
	for (i = 0; i < o->n; i++) {
		if (fds[i] >= 0 && keep < 0 && !failed)
			keep = fds[i];
		else if (fds[i] >= 0)
			close(fds[i]);
	}
	return keep;
}

int name_bind(const struct probe_case *c, struct name_outcome *o, struct probe_case *at,
	      struct probe_result *r)
{
	int fd = -1;

	if (name_resolve(c, o) < 0) {
		resolve_failed(c, o, at, r);
		return -1;
	}
	if (c->name.all)
		return bind_all(c, o, at, r);
	for (size_t i = 0; i < o->n; i++) {
		case_at(c, o, i, at);
		fd = probe_bind(at, r);
		if (note_try(c, o, r))
			break;
	}
	return fd;
}

/* A connect_emit_fn: keeps the one result of a try in @arg. */
static int keep_result(const struct probe_case *c, const struct probe_result *r, void *arg)
{
	(void)c;
	*(struct probe_result *)arg = *r;
	return 0;
}

int name_connect(const struct probe_case *c, struct name_outcome *o, struct probe_case *at,
		 struct probe_result *r)
{
	if (name_resolve(c, o) < 0) {
		resolve_failed(c, o, at, r);
		return 0;
	}
	for (size_t i = 0; i < o->n; i++) {
		case_at(c, o, i, at);
		memset(r, 0, sizeof(*r));
		if (connect_run(at, 1, 1, keep_result, r) < 0)
			return -1;
		if (note_try(c, o, r))
			break;
	}
	return 0;
}

/* The record word of hint family @family: "any", "inet", "inet6". */
static const char *family_word(int family)
{
	return family == AF_INET ? "inet" : family == AF_INET6 ? "inet6" : "any";
}

/* Starts the record of a name that did not resolve: the members every record has,
 * "addr" null, "error" the EAI_ name, "call" "getaddrinfo". */
static void unresolved_json(struct json_out *j, char *buf, size_t size, const char *host,
			    const struct probe_case *c, const struct name_outcome *o)
{
	json_begin(j, buf, size, RECORD_STR_MAX);
	if (c->id[0])
		json_str(j, "id", c->id);
	json_str(j, "op", c->op == OP_BIND ? "bind" : "connect");
	json_str(j, "host", host);
	json_str(j, "proto", c->proto == PROTO_TCP ? "tcp" : "udp");
	json_str(j, "family", c->name.family == AF_UNSPEC ? NULL : family_word(c->name.family));
	json_null(j, "addr");
	json_int(j, "port", c->port);
	record_options(j, c);
	json_bool(j, "ok", false);
	json_int(j, "errno", o->gai_errno);
	json_str(j, "error", gai_name(o->gai));
	json_str(j, "message", o->gai == EAI_SYSTEM ? strerror(o->gai_errno) : gai_strerror(o->gai));
	json_str(j, "call", "getaddrinfo");
	json_int(j, "elapsed_us", o->resolve_us);
}

/* Adds the name's members: "name", "resolve", "ai_family", "addrconfig",
 * "resolve_us", "resolved" (in order) and "attempts" (each address tried, its error
 * and failing call, null when it worked). */
static void name_json(struct json_out *j, const struct probe_case *c, const struct name_outcome *o)
{
	char num[16];

	json_str(j, "name", c->name.text);
	json_str(j, "resolve", c->name.all ? "all" : c->name.each ? "each" : "first");
	json_str(j, "ai_family", family_word(c->name.family));
	json_bool(j, "addrconfig", c->name.addrconfig);
	json_int(j, "resolve_us", o->resolve_us);
	json_open_array(j, "resolved");
	for (size_t i = 0; i < o->n; i++)
		json_str(j, NULL, o->resolved[i].text);
	json_close(j);
	json_open_array(j, "attempts");
	for (size_t i = 0; i < o->tried; i++) {
		json_open_object(j, NULL);
		json_str(j, "addr", o->resolved[i].text);
		json_str(j, "error", o->err[i] ? errno_name_or_number(o->err[i], num, sizeof(num))
					       : NULL);
		json_str(j, "call", o->call[i]);
		json_close(j);
	}
	json_close(j);
}

size_t name_record_format(char *buf, size_t size, const char *host, const struct probe_case *at,
			  const struct probe_result *r, const struct name_outcome *o)
{
	struct json_out j;

	if (o->gai)
		unresolved_json(&j, buf, size, host, at, o);
	else
		record_build(&j, buf, size, NULL, host, at, r);
	record_add_op_members(&j, at, r);
	name_json(&j, at, o);
	return json_end(&j);
}
