/*
 * bindtrace.c: libbindtrace.so, an LD_PRELOAD tracer for the socket calls that
 * decide which address a program gets: bind(), connect(), listen(), accept(),
 * accept4() (and getsockopt(SO_ERROR) and close(), to see how a non-blocking
 * connect ended).
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
 * program that gives up (closes the socket after its own timeout) gets its close()
 * recorded (op "close", "phase":"gave-up"); no other close() is recorded.  The
 * records are built by trace_record.h, which bindtrace-sys (the ptrace tracer for
 * the programs this library cannot reach) shares: the same call gives the same
 * record, "tracer":"preload" here.
 *
 * The rule above everything else: the traced program must not be able to tell.
 * Return values are passed through untouched, errno is saved on entry and after
 * the real call and restored before returning, a traced call allocates nothing,
 * no stdio stream is used, no lock is taken (the real functions are looked up once through
 * pthread_once; the rest is per-call stack data and atomics), and a record that
 * cannot be written is dropped.  The tracer's own close() and getsockopt() go to
 * the kernel (trace_sys.h), never back through the interposers below.  The
 * library's own symbols are hidden (-fvisibility=hidden) except the interposed
 * calls, so nothing else of it can shadow a function of the traced program.
 *
 * Cost: every fact in a record is a system call (getsockopt, getsockname, fstat,
 * write), each a trip into the kernel and back, so the tracer reads
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
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bindtrace.h"
#include "trace_out.h"
#include "trace_record.h"
#include "trace_sock.h"

#define EXPORT __attribute__((visibility("default")))

typedef int (*bind_fn)(int, const struct sockaddr *, socklen_t);
typedef int (*listen_fn)(int, int);
typedef int (*accept_fn)(int, struct sockaddr *, socklen_t *);
typedef int (*accept4_fn)(int, struct sockaddr *, socklen_t *, int);
typedef int (*getsockopt_fn)(int, int, int, void *, socklen_t *);
typedef int (*close_fn)(int);

/* The real functions, found once; never written after init. */
static struct {
	bind_fn bind;
	bind_fn connect;	/* same signature */
	listen_fn listen;
	accept_fn accept;
	accept4_fn accept4;
	getsockopt_fn getsockopt;
	close_fn close;
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
	const char *reopen = getenv("BINDTRACE_REOPEN");
	const char *options = getenv("BINDTRACE_OPTIONS");

	real.bind = (bind_fn)next_symbol("bind");
	real.connect = (bind_fn)next_symbol("connect");
	real.listen = (listen_fn)next_symbol("listen");
	real.accept = (accept_fn)next_symbol("accept");
	real.accept4 = (accept4_fn)next_symbol("accept4");
	real.getsockopt = (getsockopt_fn)next_symbol("getsockopt");
	real.close = (close_fn)next_symbol("close");

	trace_host_name(conf.host, sizeof(conf.host), NULL);
	conf.options = !(options && strcmp(options, "0") == 0);
	if (file && file[0] && real.getsockopt) {
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

/* The calling thread as the records name it. */
static struct trace_caller caller(void)
{
	return (struct trace_caller){ .host = conf.host, .prog = program_invocation_short_name,
				      .tracer = "preload", .pid = my_pid(), .tid = my_tid() };
}

/* -------------------------------------------------------------------------- */
/* Non-blocking connects still in progress, per descriptor.                     */

#define PENDING_MAX 8192
enum { PENDING_NONE, PENDING_FILLING, PENDING_ARMED };

/*
 * One slot per descriptor number below PENDING_MAX (a connect on a higher number
 * gets no "done" record).  "c.ino" is the socket's inode: a slot left armed by a
 * socket that was closed is ignored when the number comes back as another socket.
 * The slots cost address space only; a page is touched when its fds connect.
 */
static struct pending {
	atomic_int state;
	struct trace_connecting c;
} pending[PENDING_MAX];

/* Remembers the EINPROGRESS connect @c of @fd. */
static void pending_arm(int fd, const struct trace_connecting *c)
{
	struct pending *p;

	if (fd < 0 || fd >= PENDING_MAX)
		return;
	p = &pending[fd];
	atomic_store_explicit(&p->state, PENDING_FILLING, memory_order_relaxed);
	p->c = *c;
	atomic_store_explicit(&p->state, PENDING_ARMED, memory_order_release);
}

/* Forgets what was pending on @fd: a new call on it starts a new story. */
static void pending_clear(int fd)
{
	if (fd >= 0 && fd < PENDING_MAX &&
	    atomic_load_explicit(&pending[fd].state, memory_order_relaxed) != PENDING_NONE)
		atomic_store_explicit(&pending[fd].state, PENDING_NONE, memory_order_relaxed);
}

/* Where the connect pending on @fd stands (trace_pending_state(); @soerr as
 * there), TRACE_STALE when none is.  A stale slot is emptied. */
static enum trace_pending_state pending_state(int fd, int soerr)
{
	struct pending *p;
	int armed = PENDING_ARMED;
	enum trace_pending_state st;

	if (fd < 0 || fd >= PENDING_MAX)
		return TRACE_STALE;
	p = &pending[fd];
	if (atomic_load_explicit(&p->state, memory_order_acquire) != PENDING_ARMED)
		return TRACE_STALE;
	st = trace_pending_state(fd, p->c.ino, soerr);
	if (st == TRACE_STALE)
		atomic_compare_exchange_strong(&p->state, &armed, PENDING_NONE);
	return st;
}

/* Empties the slot of @fd (below PENDING_MAX) into @copy, so that only one thread
 * reports its connect.  Returns false when another thread took it first. */
static bool pending_claim(int fd, struct trace_connecting *copy)
{
	int armed = PENDING_ARMED;

	*copy = pending[fd].c;
	return atomic_compare_exchange_strong(&pending[fd].state, &armed, PENDING_NONE);
}

/* -------------------------------------------------------------------------- */
/* The interposed calls.  Each: errno saved, real call timed, errno saved again,  */
/* record written, errno restored.                                              */

/* bind(2), unchanged; records a "bind" with the address asked for and, unless
 * BINDTRACE_OPTIONS=0, the options that decide whether it may succeed. */
EXPORT int bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	int saved = errno, after, ret, err;
	int64_t t0, t1;
	struct sockaddr_storage ss;
	struct trace_caller c;
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
	t0 = trace_now_ns();
	errno = saved;
	ret = real.bind(fd, addr, len);
	after = errno;
	t1 = trace_now_ns();
	err = ret < 0 ? after : 0;

	have = trace_addr_usable(addr, len, err);
	if (have) {
		memset(&ss, 0, sizeof(ss));
		memcpy(&ss, addr, len);
	}
	c = caller();
	if (trace_record_bind(&c, fd, fd, have ? (struct sockaddr *)&ss : NULL, conf.options,
			      err, t1 - t0))
		pending_clear(fd);
	errno = after;
	return ret;
}

/* connect(2), unchanged; records a "connect" ("phase":"call") with the source the
 * socket was bound to and the local address the kernel used, and arms the
 * "done" record of an EINPROGRESS. */
EXPORT int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	int saved = errno, after, ret, err;
	int64_t t0, t1;
	struct sockaddr_storage ss, before;
	struct trace_connecting arm;
	struct trace_caller c;
	bool have;

	ensure_init();
	if (!real.connect) {
		errno = ENOSYS;
		return -1;
	}
	/* what the socket is bound to before the kernel picks a port; this also
	 * says whether it is an IP socket at all */
	if (!conf.enabled || !trace_local_addr(fd, &before)) {
		errno = saved;
		return real.connect(fd, addr, len);
	}
	t0 = trace_now_ns();
	errno = saved;
	ret = real.connect(fd, addr, len);
	after = errno;
	t1 = trace_now_ns();
	err = ret < 0 ? after : 0;

	have = trace_addr_usable(addr, len, err);
	if (have) {
		memset(&ss, 0, sizeof(ss));
		memcpy(&ss, addr, len);
	}
	c = caller();
	switch (trace_record_connect(&c, fd, fd, have ? (struct sockaddr *)&ss : NULL, &before,
				     err, t0, t1, &arm)) {
	case TRACE_ARM:
		pending_arm(fd, &arm);
		break;
	case TRACE_FORGET:
		pending_clear(fd);
		break;
	case TRACE_KEEP:
		break;
	}
	errno = after;
	return ret;
}

/* listen(2), unchanged; records a "listen" with the address listened on. */
EXPORT int listen(int fd, int backlog)
{
	int saved = errno, after, ret, err;
	int64_t t0, t1;
	struct trace_caller c;

	ensure_init();
	if (!real.listen) {
		errno = ENOSYS;
		return -1;
	}
	if (!conf.enabled) {
		errno = saved;
		return real.listen(fd, backlog);
	}
	t0 = trace_now_ns();
	errno = saved;
	ret = real.listen(fd, backlog);
	after = errno;
	t1 = trace_now_ns();
	err = ret < 0 ? after : 0;

	c = caller();
	if (trace_record_listen(&c, fd, fd, backlog, err, t1 - t0))
		pending_clear(fd);
	errno = after;
	return ret;
}

/* accept() and accept4() share this: @call names the one the program used; the
 * record is trace_record_accept()'s. */
static int accept_common(const char *call, int fd, struct sockaddr *addr,
			 socklen_t *lenp, int flags, bool four)
{
	int saved = errno, after, ret, err;
	int64_t t0, t1;
	struct trace_caller c;

	ensure_init();
	if (four ? !real.accept4 : !real.accept) {
		errno = ENOSYS;
		return -1;
	}
	if (!conf.enabled) {
		errno = saved;
		return four ? real.accept4(fd, addr, lenp, flags) : real.accept(fd, addr, lenp);
	}
	t0 = trace_now_ns();
	errno = saved;
	ret = four ? real.accept4(fd, addr, lenp, flags) : real.accept(fd, addr, lenp);
	after = errno;
	t1 = trace_now_ns();
	err = ret < 0 ? after : 0;

	c = caller();
	if (trace_record_accept(&c, fd, fd, call, ret, ret, err, t1 - t0))
		pending_clear(ret);
	errno = after;
	return ret;
}

/* accept(2), unchanged; see accept_common(). */
EXPORT int accept(int fd, struct sockaddr *addr, socklen_t *lenp)
{
	return accept_common("accept", fd, addr, lenp, 0, false);
}

/* accept4(2), the same as accept() above. */
EXPORT int accept4(int fd, struct sockaddr *addr, socklen_t *lenp, int flags)
{
	return accept_common("accept4", fd, addr, lenp, flags, true);
}

/* Passed through; SO_ERROR on a socket with a pending connect gives its outcome
 * (a "done" record; SO_ERROR 0 while it has no peer yet: still connecting). */
EXPORT int getsockopt(int fd, int level, int name, void *val, socklen_t *lenp)
{
	int saved = errno, after, ret, soerr;
	struct trace_connecting copy;
	struct trace_caller c;

	ensure_init();
	if (!real.getsockopt) {
		errno = ENOSYS;
		return -1;
	}
	errno = saved;
	ret = real.getsockopt(fd, level, name, val, lenp);
	after = errno;
	if (ret == 0 && conf.enabled && level == SOL_SOCKET && name == SO_ERROR &&
	    val && lenp && *lenp >= sizeof(int)) {
		memcpy(&soerr, val, sizeof(soerr));
		if (pending_state(fd, soerr) == TRACE_SETTLED && pending_claim(fd, &copy)) {
			c = caller();
			trace_record_done(&c, fd, fd, &copy, soerr);
		}
	}
	errno = after;
	return ret;
}

/* close(2), unchanged.  Only a socket whose non-blocking connect is still under way
 * is recorded (the program gave up on it: "phase":"gave-up"); one whose connect
 * ended unasked is forgotten silently; every other close() costs one look at its
 * slot. */
EXPORT int close(int fd)
{
	int saved = errno, after, ret;
	struct trace_connecting copy;
	struct sockaddr_storage local;
	struct trace_caller c;
	enum trace_pending_state st;
	bool have;

	ensure_init();
	if (!real.close) {
		errno = ENOSYS;
		return -1;
	}
	if (!conf.enabled || fd < 0 || fd >= PENDING_MAX ||
	    atomic_load_explicit(&pending[fd].state, memory_order_relaxed) == PENDING_NONE) {
		errno = saved;
		return real.close(fd);
	}
	st = pending_state(fd, -1);
	if (st == TRACE_STALE || !pending_claim(fd, &copy) || st == TRACE_SETTLED) {
		errno = saved;
		return real.close(fd);
	}
	have = trace_local_addr(fd, &local);
	errno = saved;
	ret = real.close(fd);
	after = errno;
	c = caller();
	trace_record_close(&c, fd, &copy, have ? &local : NULL, ret < 0 ? after : 0);
	errno = after;
	return ret;
}

/* For bindtrace_udp.c's interposers (bindtrace.h). */
bool bindtrace_enabled(void)
{
	ensure_init();
	return conf.enabled;
}

struct trace_caller bindtrace_caller(void)
{
	return caller();
}
