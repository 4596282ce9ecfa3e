/*
 * bindtrace_gai.c: libbindtrace.so's getaddrinfo(), so that a program's cell can say
 * which name it resolved, to what, or why not (docs/netprobe.md, "Names").
 *
 * A getaddrinfo() of a name (not NULL, not a numeric IPv4 or IPv6 address: those
 * are no resolution, and Python asks one for every numeric connect) appends one
 * "resolve" record (trace_record.h) to $BINDTRACE_FILE: the name, the service, the
 * hints, the outcome (an EAI_ name when it failed) and every address, in order.
 * The same rule as bindtrace.c's: the program must not be able to tell.  The
 * result, the list and errno are passed back untouched; nothing is allocated (the
 * record is built on the stack), no lock is taken (the real function is found once
 * through pthread_once) and a record that cannot be written is dropped.
 * getaddrinfo() is interposed by name only: a program that resolves another way
 * (gethostbyname, its own DNS client, Go's pure resolver) is not seen here.
 */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "trace_record.h"

#define EXPORT __attribute__((visibility("default")))

typedef int (*getaddrinfo_fn)(const char *, const char *, const struct addrinfo *,
			      struct addrinfo **);

static getaddrinfo_fn real_getaddrinfo;
static bool enabled;		/* $BINDTRACE_FILE is set and not empty */
static char host[65];
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* The one-time setup (libbindtrace.so's own constructor opened the trace file). */
static void gai_init(void)
{
	const char *file = getenv("BINDTRACE_FILE");

	real_getaddrinfo = (getaddrinfo_fn)dlsym(RTLD_NEXT, "getaddrinfo");
	enabled = file && file[0];
	trace_host_name(host, sizeof(host), NULL);
}

/* True when @node is a numeric IPv4 or IPv6 address (with a %scope: IPv6). */
static bool numeric(const char *node)
{
	unsigned char buf[sizeof(struct in6_addr)];
	char v6[INET6_ADDRSTRLEN];
	size_t n = 0;

	if (inet_pton(AF_INET, node, buf) == 1)
		return true;
	while (node[n] && node[n] != '%' && n < sizeof(v6) - 1) {
		v6[n] = node[n];
		n++;
	}
	v6[n] = '\0';
	return inet_pton(AF_INET6, v6, buf) == 1;
}

/* getaddrinfo(3), unchanged; a name's resolution is recorded (file header). */
EXPORT int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
		       struct addrinfo **res)
{
	int saved = errno, after, ret;
	int64_t t0, t1;
	struct trace_caller c;

	pthread_once(&once, gai_init);
	errno = saved;
	if (!real_getaddrinfo) {
		errno = ENOSYS;
		return EAI_SYSTEM;
	}
	if (!enabled || !node || numeric(node))
		return real_getaddrinfo(node, service, hints, res);
	t0 = trace_now_ns();
	ret = real_getaddrinfo(node, service, hints, res);
	after = errno;
	t1 = trace_now_ns();
	c = (struct trace_caller){ .host = host, .prog = program_invocation_short_name,
				   .tracer = "preload", .pid = getpid(), .tid = gettid() };
	trace_record_resolve(&c, node, service, hints, ret, ret == EAI_SYSTEM ? after : 0,
			     ret == 0 && res ? *res : NULL, t1 - t0);
	errno = after;
	return ret;
}
