/* probe_sock.c: see probe_sock.h. */
#include "probe_sock.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/*
 * Above any batch's connects in flight (--parallel, 256 by default): a smaller
 * accept queue drops SYNs under a burst, and the client sees a spurious
 * ETIMEDOUT.  The kernel caps it at net.core.somaxconn (4096 since Linux 5.4).
 */
#define LISTEN_BACKLOG 4096

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24	/* Linux 4.2 */
#endif
#ifndef IPV6_FREEBIND
#define IPV6_FREEBIND 78	/* Linux 4.15; older libc headers lack it */
#endif

int result_fail(struct probe_result *r, const char *call, int err)
{
	r->err = err;
	r->call = call;
	return -1;
}

bool result_no_descriptor(const struct probe_result *r)
{
	return (r->err == EMFILE || r->err == ENFILE) && r->call && strcmp(r->call, "socket") == 0;
}

/* setsockopt() of an int option.  Returns 0, or -1 with errno. */
static int set_int(int fd, int level, int name, int val)
{
	return setsockopt(fd, level, name, &val, sizeof(val));
}

int sock_open(const struct probe_case *c, bool nonblock, struct probe_result *r)
{
	const struct probe_opts *o = &c->opts;
	int family = c->addr.family;
	int type = (c->proto == PROTO_TCP ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC |
		   (nonblock ? SOCK_NONBLOCK : 0);
	const char *call;
	int fd;

	fd = socket(family, type, 0);
	if (fd < 0)
		return result_fail(r, "socket", errno);

	call = "setsockopt(SO_REUSEADDR)";
	if (o->reuseaddr && set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1) < 0)
		goto err;
	call = "setsockopt(SO_REUSEPORT)";
	if (o->reuseport && set_int(fd, SOL_SOCKET, SO_REUSEPORT, 1) < 0)
		goto err;
	if (o->freebind) {
		call = family == AF_INET6 ? "setsockopt(IPV6_FREEBIND)" : "setsockopt(IP_FREEBIND)";
		if (family == AF_INET6 ? set_int(fd, IPPROTO_IPV6, IPV6_FREEBIND, 1)
				       : set_int(fd, IPPROTO_IP, IP_FREEBIND, 1))
			goto err;
	}
	call = "setsockopt(IP_BIND_ADDRESS_NO_PORT)";
	if (o->bind_no_port && set_int(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1) < 0)
		goto err;
	call = "setsockopt(IPV6_V6ONLY)";
	if (o->v6only >= 0 && set_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, o->v6only) < 0)
		goto err;
	call = "setsockopt(SO_BINDTODEVICE)";
	if (o->dev[0] &&
	    setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, o->dev, (socklen_t)strlen(o->dev)) < 0)
		goto err;
	if (c->op == OP_CONNECT && c->proto == PROTO_UDP) {
		/* turn ICMP errors (port unreachable -> ECONNREFUSED) into socket errors */
		call = "setsockopt(IP_RECVERR)";
		if (family == AF_INET6 ? set_int(fd, IPPROTO_IPV6, IPV6_RECVERR, 1)
				       : set_int(fd, IPPROTO_IP, IP_RECVERR, 1))
			goto err;
	}
	return fd;

err:
	result_fail(r, call, errno);
	close(fd);
	return -1;
}

int probe_bind(const struct probe_case *c, struct probe_result *r)
{
	struct probe_case local = *c;	/* the scope is resolved here, in this namespace */
	int64_t t0 = now_us();
	int fd = -1;

	memset(r, 0, sizeof(*r));
	if (addr_resolve_scope(&local.addr) < 0) {
		result_fail(r, "if_nametoindex", errno);
		goto out;
	}
	fd = sock_open(&local, false, r);
	if (fd < 0)
		goto out;
	if (bind(fd, (struct sockaddr *)&local.addr.ss, local.addr.len) < 0) {
		result_fail(r, "bind", errno);
		goto close;
	}
	if (c->proto == PROTO_TCP && c->opts.listen && listen(fd, LISTEN_BACKLOG) < 0) {
		result_fail(r, "listen", errno);
		goto close;
	}
	goto out;

close:
	close(fd);
	fd = -1;
out:
	r->elapsed_us = now_us() - t0;
	return fd;
}
