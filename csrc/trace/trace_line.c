/* trace_line.c: see trace_line.h. */
#include "trace_line.h"
#include "probe_json.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

/* Room kept at the end for ,"cut":true}\n and the NUL. */
#define LINE_RESERVE (sizeof(",\"cut\":true}\n"))

/* Appends @n bytes of @s, or nothing when they do not fit.  Returns 0 or -1. */
static int put(struct trace_line *l, const char *s, size_t n)
{
	if (l->len + n + LINE_RESERVE > sizeof(l->buf))
		return -1;
	memcpy(l->buf + l->len, s, n);
	l->len += n;
	return 0;
}

/* Appends ,"key":value (or "key":value first) all or nothing. */
static void member(struct trace_line *l, const char *key, const char *val, size_t vlen)
{
	char k[64];
	size_t klen = json_quote(k, sizeof(k), key);
	size_t start = l->len;

	if ((!l->first && put(l, ",", 1) < 0) || put(l, k, klen) < 0 ||
	    put(l, ":", 1) < 0 || put(l, val, vlen) < 0) {
		l->len = start;
		l->cut = true;
		return;
	}
	l->first = false;
}

void line_begin(struct trace_line *l)
{
	l->buf[0] = '{';
	l->len = 1;
	l->first = true;
	l->cut = false;
}

void line_str(struct trace_line *l, const char *key, const char *val)
{
	char q[512];

	if (!val) {
		line_null(l, key);
		return;
	}
	member(l, key, q, json_quote(q, sizeof(q), val));
}

void line_int(struct trace_line *l, const char *key, int64_t val)
{
	char num[24];
	int n = snprintf(num, sizeof(num), "%" PRId64, val);

	member(l, key, num, (size_t)n);
}

void line_bool(struct trace_line *l, const char *key, bool val)
{
	member(l, key, val ? "true" : "false", val ? 4 : 5);
}

void line_null(struct trace_line *l, const char *key)
{
	member(l, key, "null", 4);
}

void line_raw(struct trace_line *l, const char *key, const char *json)
{
	member(l, key, json, strlen(json));
}

size_t line_end(struct trace_line *l)
{
	/* LINE_RESERVE guarantees the room for all of this */
	if (l->cut) {
		static const char cut[] = "\"cut\":true";
		size_t n = sizeof(cut) - 1;

		if (!l->first)
			l->buf[l->len++] = ',';
		memcpy(l->buf + l->len, cut, n);
		l->len += n;
	}
	l->buf[l->len++] = '}';
	l->buf[l->len++] = '\n';
	l->buf[l->len] = '\0';
	return l->len;
}

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
