/* trace_resolve.c: see trace_record.h: the records of name resolutions (getaddrinfo()
 * results, resolver files opened, DNS answers read). */
#include "trace_record.h"

#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "lib/dnsmsg.h"
#include "lib/gainames.h"
#include "lib/json.h"
#include "trace_addr.h"
#include "trace_sock.h"

/* Writes the address text seen[*n] into the open "resolved" array unless an earlier
 * one is the same, and keeps it (++*n) when written: each address once, in order. */
static void resolved_once(struct trace_line *l, char (*seen)[TRACE_IP_MAX], size_t *n)
{
	size_t k;

	for (k = 0; k < *n && strcmp(seen[k], seen[*n]) != 0; k++)
		;
	if (k == *n)
		json_str(&l->j, NULL, seen[(*n)++]);
}

/* "resolved": each address of @res once, in order (getaddrinfo() gives one entry
 * per socket type when the hints name none). */
static void resolved_json(struct trace_line *l, const struct addrinfo *res)
{
	char seen[TRACE_RESOLVED_MAX][TRACE_IP_MAX];
	size_t n = 0;

	json_open_array(&l->j, "resolved");
	for (; res && n < TRACE_RESOLVED_MAX; res = res->ai_next) {
		if (!res->ai_addr || !trace_is_ip(res->ai_addr->sa_family))
			continue;
		trace_addr_text(res->ai_addr, seen[n]);
		resolved_once(l, seen, &n);
	}
	json_close(&l->j);
}

void trace_record_resolve(const struct trace_caller *c, const char *name, const char *service,
			  const struct addrinfo *hints, int gai, int gai_errno,
			  const struct addrinfo *res, int64_t elapsed_ns)
{
	struct trace_line l;
	const char *msg = NULL, *error = gai ? gai_word(gai, &msg) : NULL;
	int type = hints ? hints->ai_socktype : 0;
	int proto = hints && hints->ai_protocol ? hints->ai_protocol :
		    type == SOCK_STREAM ? IPPROTO_TCP : type == SOCK_DGRAM ? IPPROTO_UDP : -1;

	trace_line_head(&l, c, "resolve", proto, hints ? hints->ai_family : AF_UNSPEC, NULL);
	trace_line_result(&l, error, msg, "getaddrinfo", gai == EAI_SYSTEM ? gai_errno : 0,
			  elapsed_ns / 1000);
	trace_line_caller(&l, c, -1);
	json_str(&l.j, "name", name);
	json_str(&l.j, "service", service);
	json_int(&l.j, "ai_flags", hints ? hints->ai_flags : 0);
	resolved_json(&l, gai ? NULL : res);
	trace_line_emit(&l);
}

void trace_record_resolver_file(const struct trace_caller *c, const char *call, const char *path,
				int fd, int err, int64_t elapsed_ns)
{
	struct trace_line l;

	trace_line_head(&l, c, "resolver-file", -1, AF_UNSPEC, NULL);
	trace_line_outcome(&l, err, call, elapsed_ns);
	trace_line_caller(&l, c, err ? -1 : fd);
	json_str(&l.j, "path", path);
	trace_line_emit(&l);
}

void trace_record_dns(const struct trace_caller *c, int fd, int proto,
		      const struct sockaddr *server, const struct dns_answer *a)
{
	struct trace_line l;
	char text[TRACE_ADDR_MAX], msg[64];
	const char *error = NULL;
	size_t i, n = 0;
	struct sockaddr_storage ss;
	char seen[DNS_ADDRS_MAX][TRACE_IP_MAX];

	if (a->rcode == 3)
		error = "EAI_NONAME";
	else if (a->rcode != 0)
		error = "EAI_AGAIN";
	else if (a->n == 0)
		error = "EAI_NODATA";
	trace_line_head(&l, c, "resolve", proto,
		    a->qtype == DNS_TYPE_AAAA ? AF_INET6 : a->qtype == DNS_TYPE_A ? AF_INET :
		    AF_UNSPEC, NULL);
	snprintf(msg, sizeof(msg), "the DNS server answered %s%s", dns_rcode_name(a->rcode),
		 a->rcode == 0 ? " with no address" : "");
	trace_line_result(&l, error, msg, "dns", 0, 0);
	trace_line_caller(&l, c, fd);
	json_str(&l.j, "name", a->name);
	json_str(&l.j, "qtype", dns_type_name(a->qtype));
	json_str(&l.j, "rcode", dns_rcode_name(a->rcode));
	if (server && trace_is_ip(server->sa_family)) {
		trace_endpoint_text(server, text);
		json_str(&l.j, "server", text);
	} else {
		json_null(&l.j, "server");
	}
	json_open_array(&l.j, "resolved");
	for (i = 0; i < a->n; i++) {
		memset(&ss, 0, sizeof(ss));
		ss.ss_family = (sa_family_t)a->addrs[i].family;
		if (ss.ss_family == AF_INET)
			memcpy(&((struct sockaddr_in *)&ss)->sin_addr, a->addrs[i].bytes, 4);
		else
			memcpy(&((struct sockaddr_in6 *)&ss)->sin6_addr, a->addrs[i].bytes, 16);
		trace_addr_text((const struct sockaddr *)&ss, seen[n]);
		resolved_once(&l, seen, &n);
	}
	json_close(&l.j);
	trace_line_emit(&l);
}
