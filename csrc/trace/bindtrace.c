/*
 * bindtrace.c: libbindtrace.so, an LD_PRELOAD tracer for the socket calls that
 * decide which address a program gets: bind(), connect(), listen(), accept(),
 * accept4() (and getsockopt(SO_ERROR), to see how a non-blocking connect ended).
 *
 *   LD_PRELOAD=build/libbindtrace.so BINDTRACE_FILE=/tmp/trace.jsonl python3 app.py
 *
 * Every call on an IPv4/IPv6 socket appends one JSON line to $BINDTRACE_FILE, in
 * netprobe's record format (op, host, proto, family, addr, port, ok, errno, error,
 * message, call, elapsed_us) plus "pid", "tid", "fd" and "prog"; connect records
 * add "src", "sport", "local", "peer_host" (always null: the tracer does not read
 * the program's data), "timeout_ms" (null) and "phase"; accept records add "peer",
 * "local" and "accepted_fd".  AF_UNIX, netlink and other non-IP sockets are not recorded.
 *
 * A non-blocking connect() that returns EINPROGRESS is recorded as it returned
 * (ok false, error "EINPROGRESS", "phase":"call").  When the program later asks
 * getsockopt(SO_ERROR) how it ended, as Python with a timeout, asyncio, libuv and
 * Java NIO do, a second record for the same pid and fd says so ("phase":"done", the
 * real outcome, elapsed_us since the connect).  A program that asks a second
 * connect() instead gets that call recorded (0 once connected, or the error).  A
 * program that gives up (closes the socket after its own timeout) leaves only the
 * EINPROGRESS record.
 *
 * The rule above everything else: the traced program must not be able to tell.
 * Return values are passed through untouched, errno is saved on entry and after
 * the real call and restored before returning, a traced call allocates nothing,
 * no stdio stream is used, no lock is taken (the real functions are looked up once through
 * pthread_once; the rest is per-call stack data and atomics), and a record that
 * cannot be written is dropped.  The library's own symbols are hidden
 * (-fvisibility=hidden) except the interposed calls, so nothing else of it can
 * shadow a function of the traced program.
 *
 * Cost: every fact in a record is a system call (getsockopt, getsockname, fstat,
 * write), and on a VM a system call costs about a microsecond, so the tracer reads
 * only what a record needs: the pid and tid are cached (and refreshed in a forked
 * child by a pthread_atfork handler), the socket's family comes from the address
 * or from a getsockname() the record needs anyway.  bench/bench_tracer.py measures
 * what is left.
 *
 * Environment: BINDTRACE_FILE (no file, no tracing), NETPROBE_HOST, then
 * BINDTRACE_HOST, then the hostname, for "host"; BINDTRACE_REOPEN=1 to open the
 * file for every record instead of keeping a descriptor (trace_out.h);
 * BINDTRACE_OPTIONS=0 to skip reading a bound socket's options (4-5 getsockopt
 * calls per bind; "options" is then null).
 */
#include <dlfcn.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "probe_errno.h"
#include "probe_json.h"
#include "trace_addr.h"
#include "trace_out.h"

#define EXPORT __attribute__((visibility("default")))

/* One record being built: the writer and its buffer, on the caller's stack. */
struct trace_line {
	struct json_out j;
	char buf[TRACE_LINE_MAX];
};

typedef int (*bind_fn)(int, const struct sockaddr *, socklen_t);
typedef int (*listen_fn)(int, int);
typedef int (*accept_fn)(int, struct sockaddr *, socklen_t *);
typedef int (*accept4_fn)(int, struct sockaddr *, socklen_t *, int);
typedef int (*getsockopt_fn)(int, int, int, void *, socklen_t *);

/* The real functions, found once; never written after init. */
static struct {
	bind_fn bind;
	bind_fn connect;	/* same signature */
	listen_fn listen;
	accept_fn accept;
	accept4_fn accept4;
	getsockopt_fn getsockopt;
} real;

/* What every record needs, read once from the environment. */
static struct {
	bool enabled;		/* $BINDTRACE_FILE is set and not empty */
	bool options;		/* read a bound socket's options ($BINDTRACE_OPTIONS) */
	char host[65];
} conf;

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

/* getpid() and gettid() are system calls; each thread asks once.  0 = not yet.
 * A forked child's only thread starts over (forget_ids, a pthread_atfork handler). */
static atomic_int cached_pid;
static __thread pid_t cached_tid __attribute__((tls_model("initial-exec")));

/* pthread_atfork child handler: the forked child has a new pid and tid. */
static void forget_ids(void)
{
	atomic_store_explicit(&cached_pid, 0, memory_order_relaxed);
	cached_tid = 0;
}

/* The caller's pid, asked of the kernel once per process. */
static pid_t my_pid(void)
{
	pid_t pid = atomic_load_explicit(&cached_pid, memory_order_relaxed);

	if (!pid) {
		pid = getpid();
		atomic_store_explicit(&cached_pid, pid, memory_order_relaxed);
	}
	return pid;
}

/* The caller's tid, asked of the kernel once per thread. */
static pid_t my_tid(void)
{
	if (!cached_tid)
		cached_tid = gettid();
	return cached_tid;
}

/* Looks @name up in the objects after this one (libc).  NULL when absent. */
static void *next_symbol(const char *name)
{
	return dlsym(RTLD_NEXT, name);
}

/* The one-time setup: real functions, output file, host name. */
static void init(void)
{
	const char *file = getenv("BINDTRACE_FILE");
	const char *host = getenv("NETPROBE_HOST");
	const char *reopen = getenv("BINDTRACE_REOPEN");
	const char *options = getenv("BINDTRACE_OPTIONS");
	struct utsname uts;

	real.bind = (bind_fn)next_symbol("bind");
	real.connect = (bind_fn)next_symbol("connect");
	real.listen = (listen_fn)next_symbol("listen");
	real.accept = (accept_fn)next_symbol("accept");
	real.accept4 = (accept4_fn)next_symbol("accept4");
	real.getsockopt = (getsockopt_fn)next_symbol("getsockopt");

	if (!host || !host[0])
		host = getenv("BINDTRACE_HOST");
	if ((!host || !host[0]) && uname(&uts) == 0)
		host = uts.nodename;
	snprintf(conf.host, sizeof(conf.host), "%s", host ? host : "");

	conf.options = !(options && strcmp(options, "0") == 0);
	if (file && file[0]) {
		trace_out_init(file, reopen && strcmp(reopen, "1") == 0);
		conf.enabled = true;
	}
	pthread_atfork(NULL, NULL, forget_ids);
}

/* Runs init() once, keeping errno as it was. */
static void ensure_init(void)
{
	int saved = errno;

	pthread_once(&init_once, init);
	errno = saved;
}

/* Load-time init, so the first traced call does not pay for dlsym(). */
__attribute__((constructor)) static void bindtrace_load(void)
{
	ensure_init();
}

/* Nanoseconds on the monotonic clock. */
static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* -------------------------------------------------------------------------- */
/* Facts about a socket, each one getsockopt()/getsockname() away.             */

/* An int socket option of @fd, or -1 when it cannot be read. */
static int sockopt_int(int fd, int level, int name)
{
	int val = 0;
	socklen_t len = sizeof(val);

	if (real.getsockopt(fd, level, name, &val, &len) < 0)
		return -1;
	return val;
}

/* True for AF_INET and AF_INET6, the families the tracer records. */
static bool is_ip(int family)
{
	return family == AF_INET || family == AF_INET6;
}

/* True for 0.0.0.0 and ::. */
static bool is_wildcard(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return ((const struct sockaddr_in *)sa)->sin_addr.s_addr == htonl(INADDR_ANY);
	if (sa->sa_family == AF_INET6)
		return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)sa)->sin6_addr);
	return false;
}

/* True for ::ffff:a.b.c.d. */
static bool is_v4mapped(const struct sockaddr *sa)
{
	return sa->sa_family == AF_INET6 &&
	       IN6_IS_ADDR_V4MAPPED(&((const struct sockaddr_in6 *)sa)->sin6_addr);
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

/*
 * Adds "options": the socket options that decide what bind() may do, as netprobe's
 * plan words in an array: reuseaddr, reuseport, freebind, v6only=1, dev=IF.  Read
 * after the call; v6only only where the call cannot have changed it (binding a
 * specific IPv6 address turns it on, and there it changes nothing anyway).
 */
static void bind_options(struct trace_line *l, int fd, const struct sockaddr *sa)
{
	char dev[IF_NAMESIZE + 1] = "";
	socklen_t dlen = sizeof(dev) - 1;
	bool v6 = sa->sa_family == AF_INET6;

	json_open_array(&l->j, "options");
	if (sockopt_int(fd, SOL_SOCKET, SO_REUSEADDR) > 0)
		json_str(&l->j, NULL, "reuseaddr");
	if (sockopt_int(fd, SOL_SOCKET, SO_REUSEPORT) > 0)
		json_str(&l->j, NULL, "reuseport");
	if (v6 ? sockopt_int(fd, IPPROTO_IPV6, IPV6_FREEBIND) > 0
	       : sockopt_int(fd, IPPROTO_IP, IP_FREEBIND) > 0)
		json_str(&l->j, NULL, "freebind");
	if (v6 && (is_wildcard(sa) || is_v4mapped(sa)) &&
	    sockopt_int(fd, IPPROTO_IPV6, IPV6_V6ONLY) > 0)
		json_str(&l->j, NULL, "v6only=1");
	if (real.getsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, dev, &dlen) == 0 && dev[0]) {
		char word[sizeof(dev) + 4];

		dev[sizeof(dev) - 1] = '\0';
		snprintf(word, sizeof(word), "dev=%s", dev);
		json_str(&l->j, NULL, word);
	}
	json_close(&l->j);
}

/*
 * Copies the caller's address into @ss, but only when the kernel itself read it
 * without trouble: not for EBADF/ENOTSOCK (the kernel looks the descriptor up
 * before it copies the address), not for EFAULT, not for a length the kernel
 * refuses before copying.  Reading a bad pointer here would crash a program that
 * the real call merely answered with an error.  Returns true when @ss holds it.
 */
static bool copy_addr(const struct sockaddr *addr, socklen_t len, int err,
		      struct sockaddr_storage *ss)
{
	if (!addr || len < sizeof(sa_family_t) || len > sizeof(*ss))
		return false;
	if (err == EBADF || err == ENOTSOCK || err == EFAULT)
		return false;
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, addr, len);
	return true;
}

/* getsockname() of @fd into @ss.  Returns true when it is an IPv4/IPv6 address
 * (which also says the socket is an IPv4/IPv6 socket). */
static bool local_addr(int fd, struct sockaddr_storage *ss)
{
	socklen_t len = sizeof(*ss);

	return getsockname(fd, (struct sockaddr *)ss, &len) == 0 && is_ip(ss->ss_family);
}

/* -------------------------------------------------------------------------- */
/* Records.                                                                     */

/* "inet", "inet6", or NULL (null in the record) for another family. */
static const char *family_name(int family)
{
	switch (family) {
	case AF_INET: return "inet";
	case AF_INET6: return "inet6";
	default: return NULL;
	}
}

/* op, host, proto, family, addr, port: the first members of every record.
 * @proto is an SO_PROTOCOL value; @sa may be NULL (addr and port null). */
static void record_head(struct trace_line *l, const char *op, int proto, int family,
			const struct sockaddr *sa)
{
	char num[16], addr[TRACE_ADDR_MAX];

	json_begin(&l->j, l->buf, sizeof(l->buf), TRACE_STR_MAX);
	json_str(&l->j, "op", op);
	json_str(&l->j, "host", conf.host);
	json_str(&l->j, "proto", proto_name(proto, num, sizeof(num)));
	json_str(&l->j, "family", family_name(family));
	if (sa && is_ip(sa->sa_family)) {
		trace_addr_text(sa, addr);
		json_str(&l->j, "addr", addr);
		json_int(&l->j, "port", trace_addr_port(sa));
	} else {
		json_null(&l->j, "addr");
		json_null(&l->j, "port");
	}
}

/* ok, errno, error, message, call, elapsed_us: the outcome, as netprobe says it. */
static void record_outcome(struct trace_line *l, int err, const char *call, int64_t elapsed_ns)
{
	char num[16], unknown[32];
	const char *msg;

	json_bool(&l->j, "ok", err == 0);
	json_int(&l->j, "errno", err);
	if (err) {
		json_str(&l->j, "error", errno_name_or_number(err, num, sizeof(num)));
		/* strerror() would translate, and may allocate to do it */
		msg = strerrordesc_np(err);
		if (!msg) {
			snprintf(unknown, sizeof(unknown), "Unknown error %d", err);
			msg = unknown;
		}
		json_str(&l->j, "message", msg);
		json_str(&l->j, "call", call);
	} else {
		json_null(&l->j, "error");
		json_null(&l->j, "message");
		json_null(&l->j, "call");
	}
	json_int(&l->j, "elapsed_us", elapsed_ns / 1000);
}

/* pid, tid, fd, prog: who made the call. */
static void record_caller(struct trace_line *l, int fd)
{
	json_int(&l->j, "pid", my_pid());
	json_int(&l->j, "tid", my_tid());
	json_int(&l->j, "fd", fd);
	json_str(&l->j, "prog", program_invocation_short_name);
}

/* Finishes @l and appends it to the trace file; a failure drops the record. */
static void record_emit(struct trace_line *l)
{
	size_t n = json_end(&l->j);

	(void)trace_out_write(l->buf, n);
}

/* @key: the address the kernel gave @fd ("10.0.0.2:40312"), null while it has
 * no port. */
static void record_local(struct trace_line *l, const char *key, int fd)
{
	struct sockaddr_storage ss;
	char text[TRACE_ADDR_MAX];

	if (local_addr(fd, &ss) && trace_addr_port((struct sockaddr *)&ss)) {
		trace_endpoint_text((struct sockaddr *)&ss, text);
		json_str(&l->j, key, text);
	} else {
		json_null(&l->j, key);
	}
}

/* "src" and "sport": what the socket was bound to before connect(), like
 * netprobe's requested source (null / 0 when the program left it to the kernel). */
static void record_source(struct trace_line *l, bool bound, const struct sockaddr *sa)
{
	char text[TRACE_ADDR_MAX];

	if (bound && !is_wildcard(sa)) {
		trace_addr_text(sa, text);
		json_str(&l->j, "src", text);
	} else {
		json_null(&l->j, "src");
	}
	json_int(&l->j, "sport", bound ? trace_addr_port(sa) : 0);
}

/* The members after "phase" that every connect record has. */
static void record_connect_tail(struct trace_line *l, int fd, bool bound,
				const struct sockaddr *before, const char *phase)
{
	record_source(l, bound, before);
	record_local(l, "local", fd);
	json_null(&l->j, "peer_host");
	json_null(&l->j, "timeout_ms");
	json_str(&l->j, "phase", phase);
}

/* -------------------------------------------------------------------------- */
/* Non-blocking connects still in progress, per descriptor.                     */

#define PENDING_MAX 8192
enum { PENDING_NONE, PENDING_FILLING, PENDING_ARMED };

union ipaddr {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
};

/*
 * One slot per descriptor number below PENDING_MAX (a connect on a higher number
 * gets no "done" record).  "ino" is the socket's inode: a slot left armed by a
 * socket that was closed is ignored when the number comes back as another socket.
 * The slots cost address space only; a page is touched when its fds connect.
 */
static struct pending {
	atomic_int state;
	int proto;
	uint64_t ino;
	int64_t start_ns;
	union ipaddr dest;
	union ipaddr src;
	bool bound;
} pending[PENDING_MAX];

/* The inode of what @fd names (a socket's identity), 0 when fstat() fails. */
static uint64_t sock_ino(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 ? (uint64_t)st.st_ino : 0;
}

/* Copies the IPv4/IPv6 address in @ss into @a. */
static void ipaddr_set(union ipaddr *a, const struct sockaddr_storage *ss)
{
	memset(a, 0, sizeof(*a));
	memcpy(a, ss, ss->ss_family == AF_INET6 ? sizeof(a->in6) : sizeof(a->in));
}

/* Remembers the EINPROGRESS connect of @fd to @dest that started at @start_ns. */
static void pending_arm(int fd, int proto, const struct sockaddr_storage *dest, bool bound,
			const struct sockaddr_storage *src, int64_t start_ns)
{
	struct pending *p;
	uint64_t ino;

	if (fd < 0 || fd >= PENDING_MAX || !(ino = sock_ino(fd)))
		return;
	p = &pending[fd];
	atomic_store_explicit(&p->state, PENDING_FILLING, memory_order_relaxed);
	p->proto = proto;
	p->ino = ino;
	p->start_ns = start_ns;
	ipaddr_set(&p->dest, dest);
	ipaddr_set(&p->src, src);
	p->bound = bound;
	atomic_store_explicit(&p->state, PENDING_ARMED, memory_order_release);
}

/* Forgets what was pending on @fd: a new call on it starts a new story. */
static void pending_clear(int fd)
{
	if (fd >= 0 && fd < PENDING_MAX &&
	    atomic_load_explicit(&pending[fd].state, memory_order_relaxed) != PENDING_NONE)
		atomic_store_explicit(&pending[fd].state, PENDING_NONE, memory_order_relaxed);
}

/*
 * The program read SO_ERROR == @soerr on @fd.  When a connect of @fd was pending,
 * this is its outcome: record it ("phase":"done").  SO_ERROR 0 while the socket has
 * no peer yet means "still connecting": the slot stays armed.
 */
static void connect_done(int fd, int soerr)
{
	struct pending *p = &pending[fd];
	struct pending copy;
	struct sockaddr_storage peer;
	socklen_t plen = sizeof(peer);
	struct trace_line l;
	int armed = PENDING_ARMED;

	if (atomic_load_explicit(&p->state, memory_order_acquire) != PENDING_ARMED)
		return;
	if (sock_ino(fd) != p->ino) {
		atomic_compare_exchange_strong(&p->state, &armed, PENDING_NONE);
		return;
	}
	if (soerr == 0 && getpeername(fd, (struct sockaddr *)&peer, &plen) < 0 &&
	    errno == ENOTCONN)
		return;
	copy.proto = p->proto;
	copy.start_ns = p->start_ns;
	copy.dest = p->dest;
	copy.src = p->src;
	copy.bound = p->bound;
	if (!atomic_compare_exchange_strong(&p->state, &armed, PENDING_NONE))
		return;	/* another thread reported it */

	record_head(&l, "connect", copy.proto, copy.dest.sa.sa_family, &copy.dest.sa);
	record_outcome(&l, soerr, "connect", now_ns() - copy.start_ns);
	record_caller(&l, fd);
	record_connect_tail(&l, fd, copy.bound, &copy.src.sa, "done");
	record_emit(&l);
}

/* -------------------------------------------------------------------------- */
/* The interposed calls.  Each: errno saved, real call timed, errno saved again,  */
/* record written, errno restored.                                              */

/* bind(2), unchanged; records a "bind" with the address asked for and, unless
 * BINDTRACE_OPTIONS=0, the options that decide whether it may succeed. */
EXPORT int bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	int saved = errno, after, ret, err, family, proto;
	int64_t t0, t1;
	struct sockaddr_storage ss;
	struct trace_line l;
	bool have;

	ensure_init();
	if (!real.bind) {
		errno = ENOSYS;
		return -1;
	}
	if (!conf.enabled) {
		errno = saved;
		return real.bind(fd, addr, len);
	}
	t0 = now_ns();
	errno = saved;
	ret = real.bind(fd, addr, len);
	after = errno;
	t1 = now_ns();
	err = ret < 0 ? after : 0;

	/* an IP socket: the address says so, or (when it could not be read) the
	 * socket does; SO_PROTOCOL 0 is a non-IP socket handed an IP address */
	have = copy_addr(addr, len, err, &ss);
	family = have ? ss.ss_family : sockopt_int(fd, SOL_SOCKET, SO_DOMAIN);
	proto = is_ip(family) ? sockopt_int(fd, SOL_SOCKET, SO_PROTOCOL) : 0;
	if (is_ip(family) && proto > 0) {
		pending_clear(fd);
		record_head(&l, "bind", proto, family, have ? (struct sockaddr *)&ss : NULL);
		if (conf.options && have) {
			bind_options(&l, fd, (struct sockaddr *)&ss);
		} else {
			json_null(&l.j, "options");
		}
		record_outcome(&l, err, "bind", t1 - t0);
		record_caller(&l, fd);
		record_emit(&l);
	}
	errno = after;
	return ret;
}

/* connect(2), unchanged; records a "connect" ("phase":"call") with the source the
 * socket was bound to and the local address the kernel used, and arms the
 * "done" record of an EINPROGRESS. */
EXPORT int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	int saved = errno, after, ret, err, proto;
	int64_t t0, t1;
	struct sockaddr_storage ss, before;
	struct trace_line l;
	bool have, bound;

	ensure_init();
	if (!real.connect) {
		errno = ENOSYS;
		return -1;
	}
	/* what the socket is bound to before the kernel picks a port; this also
	 * says whether it is an IP socket at all */
	if (!conf.enabled || !local_addr(fd, &before)) {
		errno = saved;
		return real.connect(fd, addr, len);
	}
	t0 = now_ns();
	errno = saved;
	ret = real.connect(fd, addr, len);
	after = errno;
	t1 = now_ns();
	err = ret < 0 ? after : 0;

	have = copy_addr(addr, len, err, &ss);
	if (have && !is_ip(ss.ss_family)) {
		/* AF_UNSPEC: a UDP socket dropping its peer; nothing to record */
		pending_clear(fd);
		errno = after;
		return ret;
	}
	proto = sockopt_int(fd, SOL_SOCKET, SO_PROTOCOL);
	bound = !is_wildcard((struct sockaddr *)&before) ||
		trace_addr_port((struct sockaddr *)&before);
	record_head(&l, "connect", proto, have ? ss.ss_family : before.ss_family,
		    have ? (struct sockaddr *)&ss : NULL);
	record_outcome(&l, err, "connect", t1 - t0);
	record_caller(&l, fd);
	record_connect_tail(&l, fd, bound, (struct sockaddr *)&before, "call");
	record_emit(&l);
	if (err == EINPROGRESS && have)
		pending_arm(fd, proto, &ss, bound, &before, t0);
	else if (err != EALREADY)	/* EALREADY: still connecting */
		pending_clear(fd);
	errno = after;
	return ret;
}

/* listen(2), unchanged; records a "listen" with the address listened on. */
EXPORT int listen(int fd, int backlog)
{
	int saved = errno, after, ret, err;
	int64_t t0, t1;
	struct sockaddr_storage ss;
	struct trace_line l;

	ensure_init();
	if (!real.listen) {
		errno = ENOSYS;
		return -1;
	}
	if (!conf.enabled) {
		errno = saved;
		return real.listen(fd, backlog);
	}
	t0 = now_ns();
	errno = saved;
	ret = real.listen(fd, backlog);
	after = errno;
	t1 = now_ns();
	err = ret < 0 ? after : 0;

	/* the address it listens on (listen() picks a port for an unbound socket) */
	if (local_addr(fd, &ss)) {
		pending_clear(fd);
		record_head(&l, "listen", sockopt_int(fd, SOL_SOCKET, SO_PROTOCOL),
			    ss.ss_family, (struct sockaddr *)&ss);
		record_outcome(&l, err, "listen", t1 - t0);
		record_caller(&l, fd);
		json_int(&l.j, "backlog", backlog);
		record_emit(&l);
	}
	errno = after;
	return ret;
}

/*
 * accept() and accept4() share this: @call names the one the program used.  The
 * record's addr/port are the listening socket's own address (0.0.0.0 for a
 * wildcard listener); "local" is the address the connection arrived at (which of
 * the host's addresses the client used) and "peer" the client's, both asked of the
 * new socket (the program's addr buffer is left alone: its size before the call is
 * not ours to read).  A non-blocking accept with nothing
 * to take is recorded too (error "EAGAIN"), as every call is.
 */
static int accept_common(const char *call, int fd, struct sockaddr *addr,
			 socklen_t *lenp, int flags, bool four)
{
	int saved = errno, after, ret, err;
	int64_t t0, t1;
	struct sockaddr_storage ss, peer;
	socklen_t plen = sizeof(peer);
	struct trace_line l;
	char text[TRACE_ADDR_MAX];

	ensure_init();
	if (four ? !real.accept4 : !real.accept) {
		errno = ENOSYS;
		return -1;
	}
	if (!conf.enabled) {
		errno = saved;
		return four ? real.accept4(fd, addr, lenp, flags) : real.accept(fd, addr, lenp);
	}
	t0 = now_ns();
	errno = saved;
	ret = four ? real.accept4(fd, addr, lenp, flags) : real.accept(fd, addr, lenp);
	after = errno;
	t1 = now_ns();
	err = ret < 0 ? after : 0;

	if (local_addr(fd, &ss)) {
		pending_clear(ret);
		record_head(&l, "accept", sockopt_int(fd, SOL_SOCKET, SO_PROTOCOL),
			    ss.ss_family, (struct sockaddr *)&ss);
		record_outcome(&l, err, call, t1 - t0);
		record_caller(&l, fd);
		if (ret >= 0 && getpeername(ret, (struct sockaddr *)&peer, &plen) == 0 &&
		    is_ip(peer.ss_family)) {
			trace_endpoint_text((struct sockaddr *)&peer, text);
			json_str(&l.j, "peer", text);
		} else {
			json_null(&l.j, "peer");
		}
		if (ret >= 0) {
			record_local(&l, "local", ret);
			json_int(&l.j, "accepted_fd", ret);
		} else {
			json_null(&l.j, "local");
			json_null(&l.j, "accepted_fd");
		}
		record_emit(&l);
	}
	errno = after;
	return ret;
}

/* accept(2) and accept4(2), unchanged; see accept_common(). */
EXPORT int accept(int fd, struct sockaddr *addr, socklen_t *lenp)
{
	return accept_common("accept", fd, addr, lenp, 0, false);
}

/* accept4(2), the same as accept() above. */
EXPORT int accept4(int fd, struct sockaddr *addr, socklen_t *lenp, int flags)
{
	return accept_common("accept4", fd, addr, lenp, flags, true);
}

/* Passed through; SO_ERROR on a socket with a pending connect gives its outcome. */
EXPORT int getsockopt(int fd, int level, int name, void *val, socklen_t *lenp)
{
	int saved = errno, after, ret;

	ensure_init();
	if (!real.getsockopt) {
		errno = ENOSYS;
		return -1;
	}
	errno = saved;
	ret = real.getsockopt(fd, level, name, val, lenp);
	after = errno;
	if (ret == 0 && conf.enabled && level == SOL_SOCKET && name == SO_ERROR &&
	    fd >= 0 && fd < PENDING_MAX && val && lenp && *lenp >= sizeof(int)) {
		int soerr;

		memcpy(&soerr, val, sizeof(soerr));
		connect_done(fd, soerr);
	}
	errno = after;
	return ret;
}
