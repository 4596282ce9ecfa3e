/*
 * trace_record.h: THE records of both tracers, libbindtrace.so (inside the program)
 * and bindtrace-sys (ptrace, outside it), built here and appended through
 * trace_out.h, so that the same call gives the same record whichever tracer saw it.
 *
 * Every record: op, host, proto, family, addr, port, ok, errno, error, message,
 * call, elapsed_us (netprobe's format), then pid, tid, fd, prog, "tracer"
 * ("preload" or "syscall": the one field by which the two differ, besides timing)
 * and "mono_ns" (CLOCK_MONOTONIC in nanoseconds when the record was made, just after
 * the call returned: when it happened, on a clock every namespace shares; older
 * records lack it).
 * bind adds "options"; listen "backlog"; accept "peer", "local", "accepted_fd";
 * connect "src", "sport", "local", "peer_host" (null: the tracer does not read the
 * program's data), "timeout_ms" (null) and "phase":
 *   "call"     the connect() as it returned (EINPROGRESS for a non-blocking one);
 *   "done"     how a non-blocking connect ended, when the program read SO_ERROR
 *              (elapsed_us since the connect() began);
 * and a close() of a socket whose connect is still under way is an op "close"
 * record with the connect's destination, the close()'s own outcome, elapsed_us
 * since the connect() began, the connect members and "phase":"gave-up".
 *
 * A socket's facts (protocol, local address, options) are asked through @qfd
 * (trace_sock.h).  @qfd -1 means they cannot be asked (bindtrace-sys without
 * pidfd_getfd): the record then holds what the call's arguments tell, null for
 * the rest, and says "facts":"arguments".
 *
 * Nothing here allocates, locks or touches a stdio stream (the buffer is on the
 * caller's stack); a record that cannot be written is dropped.
 */
#ifndef TRACE_RECORD_H
#define TRACE_RECORD_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "lib/json.h"
#include "trace_addr.h"

/* Who made the call: the members every record ends with. */
struct trace_caller {
	const char *host;
	const char *prog;
	const char *tracer;	/* "preload" or "syscall" */
	long pid, tid;
	bool no_facts;		/* the socket could not be asked: "facts":"arguments" */
};

/* An IPv4 or IPv6 address, stored whole in a small space. */
union trace_ipaddr {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
};

/* A non-blocking connect under way: what its later records repeat. */
struct trace_connecting {
	uint64_t ino;		/* the socket's inode: a reused number is another socket */
	int proto;
	int64_t start_ns;
	union trace_ipaddr dest;
	union trace_ipaddr src;	/* what it was bound to before connect() */
	bool bound;
};

/* What to do with a socket's connect under way after trace_record_connect(). */
enum trace_next {
	TRACE_FORGET,	/* no connect under way (any more) */
	TRACE_ARM,	/* EINPROGRESS: remember *arm until SO_ERROR, a connect, a close */
	TRACE_KEEP,	/* EALREADY: whatever was under way still is */
};

/* Nanoseconds on the monotonic clock. */
int64_t trace_now_ns(void);

/* The "host" of the records into @buf (@len bytes): @given when not empty, else
 * $NETPROBE_HOST, then $BINDTRACE_HOST, then the host name. */
void trace_host_name(char *buf, size_t len, const char *given);

/* A bind(2) of @fd to @sa (NULL: the address could not be read) that failed with
 * @err (0: succeeded), with the options that decide it when @options.  Records
 * only an IPv4/IPv6 socket; returns true when it did. */
bool trace_record_bind(const struct trace_caller *c, int fd, int qfd,
		       const struct sockaddr *sa, bool options, int err, int64_t elapsed_ns);

/*
 * A connect(2) of @fd to @dest (NULL: unreadable) that failed with @err.  @before
 * is the socket's address before the call (getsockname(): it also says the socket
 * is an IP socket; NULL when it cannot be asked).  @start_ns, @end_ns: the call.
 * A dest of another family (AF_UNSPEC: a UDP socket dropping its peer) is not
 * recorded.  Returns what becomes of a connect under way on @fd; TRACE_ARM fills
 * *@arm.
 */
enum trace_next trace_record_connect(const struct trace_caller *c, int fd, int qfd,
				     const struct sockaddr *dest,
				     const struct sockaddr_storage *before, int err,
				     int64_t start_ns, int64_t end_ns,
				     struct trace_connecting *arm);

/* The connect @p of @fd ended with @soerr (the program read SO_ERROR): its "done"
 * record (check trace_pending_state() first). */
void trace_record_done(const struct trace_caller *c, int fd, int qfd,
		       const struct trace_connecting *p, int soerr);

/* The program closed @fd (close() failed with @err) while its connect @p was under
 * way; @local is the socket's address just before (NULL: none).  The "gave-up"
 * record. */
void trace_record_close(const struct trace_caller *c, int fd,
			const struct trace_connecting *p,
			const struct sockaddr_storage *local, int err);

/* A listen(2) of @fd with @backlog that failed with @err.  Records only an IP
 * socket; returns true when it did. */
bool trace_record_listen(const struct trace_caller *c, int fd, int qfd, int backlog,
			 int err, int64_t elapsed_ns);

/* An accept(2)/accept4(2) (@call) on @fd that returned @newfd (asked through
 * @newqfd) or failed with @err.  Records only an IP listener; returns true when it
 * did. */
bool trace_record_accept(const struct trace_caller *c, int fd, int qfd, const char *call,
			 int newfd, int newqfd, int err, int64_t elapsed_ns);

/* bindtrace-sys could not trace the program (@call failed with @err, @why says
 * what it means) and runs it untraced: the first and only record of the file,
 * op "untraced", so that a reader knows to judge the program otherwise. */
void trace_record_untraced(const struct trace_caller *c, const char *call, int err,
			   const char *why);

/*
 * The record of another call (trace_udpcalls.h): the members every record has
 * (op @op; proto of @qfd; family @family; addr and port of @sa, null for NULL; the
 * outcome @err of @call, @elapsed_ns; the caller), then @more adds its own members
 * to @j with @arg, then it is written.
 */
struct json_out;
typedef void (*trace_more_fn)(struct json_out *j, const void *arg);
void trace_record_other(const struct trace_caller *c, const char *op, int fd, int qfd,
			int family, const struct sockaddr *sa, int err, const char *call,
			int64_t elapsed_ns, trace_more_fn more, const void *arg);

/* How many addresses a resolve record lists. */
#define TRACE_RESOLVED_MAX 16

struct addrinfo;

/*
 * A getaddrinfo() of @name (never NULL) and @service (may be NULL) with @hints (may
 * be NULL) that returned @gai (0, or an EAI_ code; @gai_errno: errno after
 * EAI_SYSTEM) and, when 0, the list @res; @elapsed_ns: the call.  The record: op
 * "resolve", proto and family from the hints, addr and port null, the outcome as
 * netprobe's name records say it (error the EAI_ name, call "getaddrinfo", errno 0
 * or EAI_SYSTEM's), then "name", "service", "ai_flags" and "resolved" (each
 * address once, in order).  libbindtrace.so only (bindtrace-sys sees syscalls).
 */
void trace_record_resolve(const struct trace_caller *c, const char *name, const char *service,
			  const struct addrinfo *hints, int gai, int gai_errno,
			  const struct addrinfo *res, int64_t elapsed_ns);

/*
 * bindtrace-sys only: a program opened one of the resolver's files (@path:
 * /etc/hosts, /etc/resolv.conf, /etc/gai.conf, /etc/nsswitch.conf) with @call
 * ("open", "openat"), giving @fd or failing with @err.  op "resolver-file", the
 * outcome as any call's, "path".
 */
void trace_record_resolver_file(const struct trace_caller *c, const char *call, const char *path,
				int fd, int err, int64_t elapsed_ns);

struct dns_answer;
/*
 * bindtrace-sys only: a DNS answer @a the program read on @fd (@proto: IPPROTO_UDP
 * or _TCP) from @server (may be NULL).  op "resolve" as trace_record_resolve()'s,
 * family from the question's type, "call" "dns" when it failed: error EAI_NONAME
 * (NXDOMAIN), EAI_NODATA (NOERROR, no address), EAI_AGAIN (any other code); then
 * "name" (the question's), "qtype" ("A", "AAAA", null), "rcode" ("NOERROR" ...),
 * "server" ("10.0.0.3:53") and "resolved" (the A/AAAA addresses, once each).
 */
void trace_record_dns(const struct trace_caller *c, int fd, int proto,
		      const struct sockaddr *server, const struct dns_answer *a);

/* For the files that write records (trace_record.c, trace_resolve.c), not for the
 * tracers: */

/* One record being built: the writer and its buffer, on the caller's stack. */
struct trace_line {
	struct json_out j;
	char buf[TRACE_LINE_MAX];
};

/* op, host, proto, family, addr, port: what the call was about. */
void trace_line_head(struct trace_line *l, const struct trace_caller *c, const char *op,
		     int proto, int family, const struct sockaddr *sa);
/* ok, errno, error, message, call, elapsed_us: the outcome, as netprobe says it:
 * @error (an errno or EAI_ word) with @msg from @call, or NULL when the call worked;
 * @err the errno (0 where the outcome has none). */
void trace_line_result(struct trace_line *l, const char *error, const char *msg,
		       const char *call, int err, int64_t elapsed_us);
/* trace_line_result of a system call's outcome: @err its errno, 0 when it worked. */
void trace_line_outcome(struct trace_line *l, int err, const char *call, int64_t elapsed_ns);
/* pid, tid, fd, prog, tracer, mono_ns: who made the call, and when. */
void trace_line_caller(struct trace_line *l, const struct trace_caller *c, int fd);
/* Finishes @l and appends it to the trace file; a failure drops the record. */
void trace_line_emit(struct trace_line *l);

#endif
