/* trace_addr.c: see trace_addr.h. */
#include "trace_addr.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

void trace_addr_text(const struct sockaddr *sa, char *out)
{
	out[0] = '\0';
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;

		if (!inet_ntop(AF_INET, &sin->sin_addr, out, TRACE_IP_MAX))
			out[0] = '\0';
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
		size_t n;

		if (!inet_ntop(AF_INET6, &sin6->sin6_addr, out, TRACE_IP_MAX)) {
			out[0] = '\0';
			return;
		}
		n = strlen(out);
		if (sin6->sin6_scope_id)
			snprintf(out + n, TRACE_IP_MAX - n, "%%%" PRIu32,
				 (uint32_t)sin6->sin6_scope_id);
	}
}

unsigned trace_addr_port(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)sa)->sin_port);
	if (sa->sa_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	return 0;
}

void trace_endpoint_text(const struct sockaddr *sa, char *out)
{
	char host[TRACE_IP_MAX];

	trace_addr_text(sa, host);
	if (sa->sa_family == AF_INET6)
		snprintf(out, TRACE_ADDR_MAX, "[%s]:%u", host, trace_addr_port(sa));
	else if (sa->sa_family == AF_INET)
		snprintf(out, TRACE_ADDR_MAX, "%s:%u", host, trace_addr_port(sa));
	else
		out[0] = '\0';
}
