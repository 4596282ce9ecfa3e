/* trace_record.c: see trace_record.h. */
#include "trace_record.h"

#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>

#include "lib/errnames.h"
#include "lib/json.h"
#include "trace_addr.h"
#include "trace_out.h"
#include "trace_sock.h"
#include "trace_sys.h"

int64_t trace_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void trace_host_name(char *buf, size_t len, const char *given)
{
	const char *host = given;
	struct utsname uts;

	if (!host || !host[0])
		host = getenv("NETPROBE_HOST");
	if (!host || !host[0])
		host = getenv("BINDTRACE_HOST");
	if ((!host || !host[0]) && uname(&uts) == 0)
		host = uts.nodename;
	snprintf(buf, len, "%s", host ? host : "");
}

/* "tcp", "udp", ... for an SO_PROTOCOL value (SO_TYPE cannot tell UDP from ICMP
 * ping sockets); digits in @buf for one without a name, NULL for -1 (unknown). */
static const char *proto_name(int proto, char *buf, size_t len)
{
	switch (proto) {
	case -1: return NULL;
	case IPPROTO_TCP: return "tcp";
	case IPPROTO_UDP: return "udp";
	case IPPROTO_UDPLITE: return "udplite";
	case IPPROTO_SCTP: return "sctp";
	case IPPROTO_ICMP: return "icmp";
	case IPPROTO_ICMPV6: return "icmpv6";
	case IPPROTO_RAW: return "raw";
	default:
		snprintf(buf, len, "%d", proto);
		return buf;
	}
}

/* "inet", "inet6", or NULL (null in the record) for another family. */
static const char *family_name(int family)
{
	switch (family) {
	case AF_INET: return "inet";
	case AF_INET6: return "inet6";
	default: return NULL;
	}
}

/* The SO_PROTOCOL of @qfd, -1 when it cannot be asked. */
static int proto_of(int qfd)
{
	return trace_sockopt_int(qfd, SOL_SOCKET, SO_PROTOCOL);
}

/* op, host, proto, family, addr, port: the first members of every record.
 * @proto is an SO_PROTOCOL value; @sa may be NULL (addr and port null). */
void trace_line_head(struct trace_line *l, const struct trace_caller *c, const char *op,
			int proto, int family, const struct sockaddr *sa)
{
	char num[16], addr[TRACE_ADDR_MAX];

	json_begin(&l->j, l->buf, sizeof(l->buf), TRACE_STR_MAX);
	json_str(&l->j, "op", op);
	json_str(&l->j, "host", c->host);
	json_str(&l->j, "proto", proto_name(proto, num, sizeof(num)));
	json_str(&l->j, "family", family_name(family));
	if (sa && trace_is_ip(sa->sa_family)) {
		trace_addr_text(sa, addr);
		json_str(&l->j, "addr", addr);
		json_int(&l->j, "port", trace_addr_port(sa));
	} else {
		json_null(&l->j, "addr");
		json_null(&l->j, "port");
	}
}

void trace_line_result(struct trace_line *l, const char *error, const char *msg,
		       const char *call, int err, int64_t elapsed_us)
{
	json_bool(&l->j, "ok", error == NULL);
	json_int(&l->j, "errno", err);
	if (error) {
		json_str(&l->j, "error", error);
		json_str(&l->j, "message", msg);
		json_str(&l->j, "call", call);
	} else {
		json_null(&l->j, "error");
		json_null(&l->j, "message");
		json_null(&l->j, "call");
	}
	json_int(&l->j, "elapsed_us", elapsed_us);
}

void trace_line_outcome(struct trace_line *l, int err, const char *call, int64_t elapsed_ns)
{
	char num[16], unknown[32];
	const char *msg = NULL;

	if (err) {
		/* strerror() would translate, and may allocate to do it */
		msg = strerrordesc_np(err);
		if (!msg) {
			snprintf(unknown, sizeof(unknown), "Unknown error %d", err);
			msg = unknown;
		}
	}
	trace_line_result(l, err ? errno_name_or_number(err, num, sizeof(num)) : NULL, msg,
			  call, err, elapsed_ns / 1000);
}

/* pid, tid, fd, prog, tracer, mono_ns (and "facts" without facts): who made the
 * call, and when: mono_ns is CLOCK_MONOTONIC as the record is made, just after the
 * call returned (every namespace of the machine shares that clock, so a reader
 * places the call on its own clock: the harness's timeline). */
void trace_line_caller(struct trace_line *l, const struct trace_caller *c, int fd)
{
	json_int(&l->j, "pid", c->pid);
	json_int(&l->j, "tid", c->tid);
	json_int(&l->j, "fd", fd);
	json_str(&l->j, "prog", c->prog);
	json_str(&l->j, "tracer", c->tracer);
	json_int(&l->j, "mono_ns", trace_now_ns());
	if (c->no_facts)
		json_str(&l->j, "facts", "arguments");
}

/* Finishes @l and appends it to the trace file; a failure drops the record. */
void trace_line_emit(struct trace_line *l)
{
	size_t n = json_end(&l->j);

	(void)trace_out_write(l->buf, n);
}

/* @key: the address @ss ("10.0.0.2:40312"), null when NULL or without a port. */
static void record_endpoint(struct trace_line *l, const char *key,
			    const struct sockaddr_storage *ss)
{
	char text[TRACE_ADDR_MAX];

	if (ss && trace_addr_port((const struct sockaddr *)ss)) {
		trace_endpoint_text((const struct sockaddr *)ss, text);
		json_str(&l->j, key, text);
	} else {
		json_null(&l->j, key);
	}
}

/* @key: the address the kernel gave the socket of @qfd, null while it has no port. */
static void record_local(struct trace_line *l, const char *key, int qfd)
{
	struct sockaddr_storage ss;

	record_endpoint(l, key, trace_local_addr(qfd, &ss) ? &ss : NULL);
}

/*
 * Adds "options": the socket options that decide what bind() may do, as netprobe's
 * plan words in an array: reuseaddr, reuseport, freebind, v6only=1, dev=IF.  Read
 * after the call; v6only only where the call cannot have changed it (binding a
 * specific IPv6 address turns it on, and there it changes nothing anyway).
 */
static void bind_options(struct trace_line *l, int qfd, const struct sockaddr *sa)
{
	char dev[IF_NAMESIZE + 1] = "";
	socklen_t dlen = sizeof(dev) - 1;
	bool v6 = sa->sa_family == AF_INET6;

	json_open_array(&l->j, "options");
	if (trace_sockopt_int(qfd, SOL_SOCKET, SO_REUSEADDR) > 0)
		json_str(&l->j, NULL, "reuseaddr");
	if (trace_sockopt_int(qfd, SOL_SOCKET, SO_REUSEPORT) > 0)
		json_str(&l->j, NULL, "reuseport");
	if (v6 ? trace_sockopt_int(qfd, IPPROTO_IPV6, IPV6_FREEBIND) > 0
	       : trace_sockopt_int(qfd, IPPROTO_IP, IP_FREEBIND) > 0)
		json_str(&l->j, NULL, "freebind");
	if (v6 && (trace_is_wildcard(sa) || trace_is_v4mapped(sa)) &&
	    trace_sockopt_int(qfd, IPPROTO_IPV6, IPV6_V6ONLY) > 0)
		json_str(&l->j, NULL, "v6only=1");
	if (trace_sys_getsockopt(qfd, SOL_SOCKET, SO_BINDTODEVICE, dev, &dlen) == 0 && dev[0]) {
		char word[sizeof(dev) + 4];

		dev[sizeof(dev) - 1] = '\0';
		snprintf(word, sizeof(word), "dev=%s", dev);
		json_str(&l->j, NULL, word);
	}
	json_close(&l->j);
}

bool trace_record_bind(const struct trace_caller *c, int fd, int qfd,
		       const struct sockaddr *sa, bool options, int err, int64_t elapsed_ns)
{
	struct trace_line l;
	int family, proto;

	/* an IP socket: the address says so, or (when it could not be read) the
	 * socket does; SO_PROTOCOL 0 is a non-IP socket handed an IP address */
	family = sa ? sa->sa_family : trace_sockopt_int(qfd, SOL_SOCKET, SO_DOMAIN);
	proto = trace_is_ip(family) ? proto_of(qfd) : 0;
	if (!trace_is_ip(family) || (proto <= 0 && qfd >= 0))
		return false;
	trace_line_head(&l, c, "bind", proto, family, sa);
	if (options && sa && qfd >= 0)
		bind_options(&l, qfd, sa);
	else
		json_null(&l.j, "options");
	trace_line_outcome(&l, err, "bind", elapsed_ns);
	trace_line_caller(&l, c, fd);
	trace_line_emit(&l);
	return true;
}

/* "src" and "sport": what the socket was bound to before connect(), like
 * netprobe's requested source (null / 0 when the program left it to the kernel;
 * null / null when it could not be asked). */
static void record_source(struct trace_line *l, bool bound, const struct sockaddr *sa)
{
	char text[TRACE_ADDR_MAX];

	if (sa && bound && !trace_is_wildcard(sa)) {
		trace_addr_text(sa, text);
		json_str(&l->j, "src", text);
	} else {
		json_null(&l->j, "src");
	}
	if (sa)
		json_int(&l->j, "sport", bound ? trace_addr_port(sa) : 0);
	else
		json_null(&l->j, "sport");
}

/* The members after "call" that every connect record has: src, sport, local,
 * peer_host, timeout_ms, phase.  @local is the socket's address (NULL: none). */
static void record_connect_tail(struct trace_line *l, bool bound, const struct sockaddr *before,
				const struct sockaddr_storage *local, const char *phase)
{
	record_source(l, bound, before);
	record_endpoint(l, "local", local);
	json_null(&l->j, "peer_host");
	json_null(&l->j, "timeout_ms");
	json_str(&l->j, "phase", phase);
}

/* Copies the IPv4/IPv6 address in @sa into @a. */
static void ipaddr_set(union trace_ipaddr *a, const struct sockaddr *sa)
{
	memset(a, 0, sizeof(*a));
	memcpy(a, sa, sa->sa_family == AF_INET6 ? sizeof(a->in6) : sizeof(a->in));
}

enum trace_next trace_record_connect(const struct trace_caller *c, int fd, int qfd,
				     const struct sockaddr *dest,
				     const struct sockaddr_storage *before, int err,
				     int64_t start_ns, int64_t end_ns,
				     struct trace_connecting *arm)
{
	const struct sockaddr *bsa = (const struct sockaddr *)before;
	struct sockaddr_storage local;
	struct trace_line l;
	bool bound;
	int proto, family;

	if (dest && !trace_is_ip(dest->sa_family))
		return TRACE_FORGET;	/* AF_UNSPEC: a UDP socket dropping its peer */
	family = dest ? dest->sa_family : before ? before->ss_family : AF_UNSPEC;
	if (!trace_is_ip(family))
		return TRACE_FORGET;	/* without facts or address: nothing to say */
	proto = proto_of(qfd);
	bound = before && (!trace_is_wildcard(bsa) || trace_addr_port(bsa));
	trace_line_head(&l, c, "connect", proto, family, dest);
	trace_line_outcome(&l, err, "connect", end_ns - start_ns);
	trace_line_caller(&l, c, fd);
	record_connect_tail(&l, bound, bsa, trace_local_addr(qfd, &local) ? &local : NULL,
			    "call");
	trace_line_emit(&l);
	if (err == EINPROGRESS && dest) {
		arm->ino = trace_sock_ino(qfd);
		if (!arm->ino && qfd >= 0)
			return TRACE_FORGET;	/* closed meanwhile */
		arm->proto = proto;
		arm->start_ns = start_ns;
		ipaddr_set(&arm->dest, dest);
		if (before)
			ipaddr_set(&arm->src, bsa);
		else
			memset(&arm->src, 0, sizeof(arm->src));
		arm->bound = bound;
		return TRACE_ARM;
	}
	return err == EALREADY ? TRACE_KEEP : TRACE_FORGET;	/* EALREADY: still connecting */
}

/* The source a connect under way was recorded with (NULL: it was not known). */
static const struct sockaddr *connecting_src(const struct trace_connecting *p)
{
	return trace_is_ip(p->src.sa.sa_family) ? &p->src.sa : NULL;
}

void trace_record_done(const struct trace_caller *c, int fd, int qfd,
		       const struct trace_connecting *p, int soerr)
{
	struct sockaddr_storage local;
	struct trace_line l;

	trace_line_head(&l, c, "connect", p->proto, p->dest.sa.sa_family, &p->dest.sa);
	trace_line_outcome(&l, soerr, "connect", trace_now_ns() - p->start_ns);
	trace_line_caller(&l, c, fd);
	record_connect_tail(&l, p->bound, connecting_src(p),
			    trace_local_addr(qfd, &local) ? &local : NULL, "done");
	trace_line_emit(&l);
}

void trace_record_close(const struct trace_caller *c, int fd,
			const struct trace_connecting *p,
			const struct sockaddr_storage *local, int err)
{
	struct trace_line l;

	trace_line_head(&l, c, "close", p->proto, p->dest.sa.sa_family, &p->dest.sa);
	trace_line_outcome(&l, err, "close", trace_now_ns() - p->start_ns);
	trace_line_caller(&l, c, fd);
	record_connect_tail(&l, p->bound, connecting_src(p), local, "gave-up");
	trace_line_emit(&l);
}

bool trace_record_listen(const struct trace_caller *c, int fd, int qfd, int backlog,
			 int err, int64_t elapsed_ns)
{
	struct sockaddr_storage ss;
	struct trace_line l;
	bool have = trace_local_addr(qfd, &ss);

	/* the address it listens on (listen() picks a port for an unbound socket) */
	if (!have && qfd >= 0)
		return false;
	trace_line_head(&l, c, "listen", proto_of(qfd), have ? ss.ss_family : AF_UNSPEC,
		    have ? (struct sockaddr *)&ss : NULL);
	trace_line_outcome(&l, err, "listen", elapsed_ns);
	trace_line_caller(&l, c, fd);
	json_int(&l.j, "backlog", backlog);
	trace_line_emit(&l);
	return true;
}

/*
 * The record's addr/port are the listening socket's own address (0.0.0.0 for a
 * wildcard listener); "local" is the address the connection arrived at (which of
 * the host's addresses the client used) and "peer" the client's, both asked of the
 * new socket (the program's addr buffer is left alone: its size before the call is
 * not ours to read).  A non-blocking accept with nothing to take is recorded too
 * (error "EAGAIN"), as every call is.
 */
bool trace_record_accept(const struct trace_caller *c, int fd, int qfd, const char *call,
			 int newfd, int newqfd, int err, int64_t elapsed_ns)
{
	struct sockaddr_storage ss, peer;
	socklen_t plen = sizeof(peer);
	struct trace_line l;
	bool have = trace_local_addr(qfd, &ss);
	bool peer_ok;

	if (!have && qfd >= 0)
		return false;
	trace_line_head(&l, c, "accept", proto_of(qfd), have ? ss.ss_family : AF_UNSPEC,
		    have ? (struct sockaddr *)&ss : NULL);
	trace_line_outcome(&l, err, call, elapsed_ns);
	trace_line_caller(&l, c, fd);
	peer_ok = newfd >= 0 && newqfd >= 0 &&
		  getpeername(newqfd, (struct sockaddr *)&peer, &plen) == 0 &&
		  trace_is_ip(peer.ss_family);
	record_endpoint(&l, "peer", peer_ok ? &peer : NULL);
	if (newfd >= 0) {
		record_local(&l, "local", newqfd);
		json_int(&l.j, "accepted_fd", newfd);
	} else {
		json_null(&l.j, "local");
		json_null(&l.j, "accepted_fd");
	}
	trace_line_emit(&l);
	return true;
}

void trace_record_untraced(const struct trace_caller *c, const char *call, int err,
			   const char *why)
{
	struct trace_line l;

	trace_line_head(&l, c, "untraced", -1, AF_UNSPEC, NULL);
	trace_line_outcome(&l, err, call, 0);
	trace_line_caller(&l, c, -1);
	json_str(&l.j, "reason", why);
	trace_line_emit(&l);
}

void trace_record_other(const struct trace_caller *c, const char *op, int fd, int qfd,
			int family, const struct sockaddr *sa, int err, const char *call,
			int64_t elapsed_ns, trace_more_fn more, const void *arg)
{
	struct trace_line l;

	trace_line_head(&l, c, op, proto_of(qfd), family, sa);
	trace_line_outcome(&l, err, call, elapsed_ns);
	trace_line_caller(&l, c, fd);
	if (more)
		more(&l.j, arg);
	trace_line_emit(&l);
}
