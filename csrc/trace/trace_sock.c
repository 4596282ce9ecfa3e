/* trace_sock.c: see trace_sock.h. */
#include "trace_sock.h"
#include "trace_sys.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/stat.h>

int trace_sockopt_int(int qfd, int level, int name)
{
	int val = 0;
	socklen_t len = sizeof(val);

	if (qfd < 0 || trace_sys_getsockopt(qfd, level, name, &val, &len) < 0)
		return -1;
	return val;
}

bool trace_is_ip(int family)
{
	return family == AF_INET || family == AF_INET6;
}

bool trace_is_wildcard(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return ((const struct sockaddr_in *)sa)->sin_addr.s_addr == htonl(INADDR_ANY);
	if (sa->sa_family == AF_INET6)
		return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)sa)->sin6_addr);
	return false;
}

bool trace_is_v4mapped(const struct sockaddr *sa)
{
	return sa->sa_family == AF_INET6 &&
	       IN6_IS_ADDR_V4MAPPED(&((const struct sockaddr_in6 *)sa)->sin6_addr);
}

bool trace_local_addr(int qfd, struct sockaddr_storage *ss)
{
	socklen_t len = sizeof(*ss);

	return qfd >= 0 && getsockname(qfd, (struct sockaddr *)ss, &len) == 0 &&
	       trace_is_ip(ss->ss_family);
}

uint64_t trace_sock_ino(int qfd)
{
	struct stat st;

	return qfd >= 0 && fstat(qfd, &st) == 0 ? (uint64_t)st.st_ino : 0;
}

bool trace_addr_usable(const void *addr, socklen_t len, int err)
{
	if (!addr || len < sizeof(sa_family_t) || len > sizeof(struct sockaddr_storage))
		return false;
	return err != EBADF && err != ENOTSOCK && err != EFAULT;
}

enum trace_pending_state trace_pending_state(int qfd, uint64_t ino, int soerr)
{
	struct sockaddr_storage peer;
	socklen_t plen = sizeof(peer);

	struct tcp_info ti;
	socklen_t tlen = sizeof(ti);

	if (trace_sock_ino(qfd) != ino)
		return TRACE_STALE;
	if (soerr < 0)
		return trace_sys_getsockopt(qfd, IPPROTO_TCP, TCP_INFO, &ti, &tlen) == 0 &&
		       tlen >= 1 && ti.tcpi_state == TCP_SYN_SENT ? TRACE_UNDER_WAY
								 : TRACE_SETTLED;
	if (soerr == 0 && getpeername(qfd, (struct sockaddr *)&peer, &plen) < 0 &&
	    errno == ENOTCONN)
		return TRACE_UNDER_WAY;
	return TRACE_SETTLED;
}
