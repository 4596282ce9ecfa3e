/* addr.c: see addr.h. */
#include "addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int parse_ulong(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* Writes the printf-style message into @err of @errlen bytes; returns -1. */
__attribute__((format(printf, 3, 4)))
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* Copies the address text @s into @host (ADDR_TEXT_MAX bytes), without the
 * brackets of "[v6]".  Returns 0, or -1 with the message in @err. */
static int unbracket(const char *s, char *host, char *err, size_t errlen)
{
	size_t n = strlen(s);

	if (n == 0)
		return fail(err, errlen, "an empty address");
	if (n >= ADDR_TEXT_MAX)
		return fail(err, errlen, "'%.40s...' is too long for an address", s);
	if (s[0] == '[') {		/* [v6] as in URLs */
		if (s[n - 1] != ']')
			return fail(err, errlen, "'%s' has '[' without a closing ']'", s);
		memcpy(host, s + 1, n - 2);
		host[n - 2] = '\0';
	} else {
		memcpy(host, s, n + 1);
	}
	return 0;
}

/* Fills @out with the IPv6 address @v6 (its scope, when any, already in
 * out->scope: a number is taken as the index now).  Returns 0, or -1 with the
 * message in @err when @family asks for IPv4 (@s is the text as given). */
static int set_six(const char *s, int family, const struct in6_addr *v6,
		   struct parsed_addr *out, char *err, size_t errlen)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&out->ss;
	unsigned long idx;
	size_t t;

	if (family == AF_INET)
		return fail(err, errlen, "'%s' is an IPv6 address but IPv4 was asked for", s);
	sin6->sin6_family = AF_INET6;
	sin6->sin6_addr = *v6;
	out->len = sizeof(*sin6);
	out->family = AF_INET6;
	inet_ntop(AF_INET6, v6, out->text, sizeof(out->text));
	if (out->scope[0]) {
		t = strlen(out->text);
		snprintf(out->text + t, sizeof(out->text) - t, "%%%s", out->scope);
		if (parse_ulong(out->scope, 1, 0xffffffffUL, &idx) == 0) {
			sin6->sin6_scope_id = (uint32_t)idx;
			out->scope[0] = '\0';	/* numeric: nothing left to resolve */
		}
	}
	return 0;
}

/* Fills @out with the IPv4 address @v4, as ::ffff:a.b.c.d when @family is
 * AF_INET6 (an IPv6 socket).  Returns 0 (-1 only as set_six() can). */
static int set_four(const char *s, int family, struct in_addr v4, struct parsed_addr *out,
		    char *err, size_t errlen)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&out->ss;
	struct in6_addr v6;

	if (family == AF_INET6) {	/* v4-mapped on an IPv6 socket */
		memset(&v6, 0, sizeof(v6));
		v6.s6_addr[10] = 0xff;
		v6.s6_addr[11] = 0xff;
		memcpy(&v6.s6_addr[12], &v4, 4);
		out->mapped = true;
		return set_six(s, family, &v6, out, err, errlen);
	}
	sin->sin_family = AF_INET;
	sin->sin_addr = v4;
	out->len = sizeof(*sin);
	out->family = AF_INET;
	inet_ntop(AF_INET, &v4, out->text, sizeof(out->text));
	return 0;
}

int addr_parse(const char *s, int family, struct parsed_addr *out, char *err, size_t errlen)
{
	char host[ADDR_TEXT_MAX];
	char *pct;
	struct in_addr v4 = { .s_addr = htonl(INADDR_ANY) };
	struct in6_addr v6;

	memset(out, 0, sizeof(*out));
	if (unbracket(s, host, err, errlen) < 0)
		return -1;
	if (strcmp(host, "any") == 0 || strcmp(host, "*") == 0)
		return family == AF_INET6 ? set_six(s, family, &in6addr_any, out, err, errlen)
					  : set_four(s, family, v4, out, err, errlen);
	pct = strchr(host, '%');
	if (pct) {
		*pct++ = '\0';
		if (*pct == '\0' || strlen(pct) >= IF_NAMESIZE)
			return fail(err, errlen, "'%s' has an empty or too long scope after '%%'", s);
		memcpy(out->scope, pct, strlen(pct) + 1);
	}
	if (inet_pton(AF_INET6, host, &v6) == 1)
		return set_six(s, family, &v6, out, err, errlen);
	if (inet_pton(AF_INET, host, &v4) == 1) {
		if (out->scope[0])
			return fail(err, errlen, "'%s': a scope ('%%') is only for IPv6 addresses", s);
		return set_four(s, family, v4, out, err, errlen);
	}
	return fail(err, errlen, "'%s' is not a numeric IPv4 or IPv6 address", s);
}

void addr_set_port(struct parsed_addr *a, unsigned port)
{
	if (a->family == AF_INET)
		((struct sockaddr_in *)&a->ss)->sin_port = htons((uint16_t)port);
	else
		((struct sockaddr_in6 *)&a->ss)->sin6_port = htons((uint16_t)port);
}

int addr_resolve_scope(struct parsed_addr *a)
{
	unsigned idx;

	if (!a->scope[0] || a->family != AF_INET6)
		return 0;
	idx = if_nametoindex(a->scope);
	if (idx == 0) {
		errno = ENODEV;
		return -1;
	}
	((struct sockaddr_in6 *)&a->ss)->sin6_scope_id = idx;
	return 0;
}

bool addr_is_linklocal(const struct parsed_addr *a)
{
	const struct in6_addr *v6 = &((const struct sockaddr_in6 *)&a->ss)->sin6_addr;

	return a->family == AF_INET6 && IN6_IS_ADDR_LINKLOCAL(v6);
}

uint32_t addr_scope_id(const struct parsed_addr *a)
{
	return a->family == AF_INET6 ? ((const struct sockaddr_in6 *)&a->ss)->sin6_scope_id : 0;
}

void sockaddr_format(const struct sockaddr *sa, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN];
	char scope[IF_NAMESIZE + 2] = "";

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;

		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		snprintf(buf, len, "%s:%u", host, ntohs(sin->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
		char ifname[IF_NAMESIZE];

		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		if (sin6->sin6_scope_id) {
			if (if_indextoname(sin6->sin6_scope_id, ifname))
				snprintf(scope, sizeof(scope), "%%%s", ifname);
			else
				snprintf(scope, sizeof(scope), "%%%u", sin6->sin6_scope_id);
		}
		snprintf(buf, len, "[%s%s]:%u", host, scope, ntohs(sin6->sin6_port));
	} else {
		snprintf(buf, len, "(family %d)", sa->sa_family);
	}
}
