/* probe_json.c: see probe_json.h. */
#include "probe_json.h"

#include <inttypes.h>
#include <string.h>

/* Appends @n bytes whole, or nothing and marks the record cut: a record keeps
 * only members that fit entirely, so it stays valid JSON. */
static void put(struct jbuf *j, const char *s, size_t n)
{
	/* keep 3 bytes for the closing "}\n" and the NUL */
	if (j->len + n + 3 > sizeof(j->buf)) {
		j->cut = true;
		return;
	}
	memcpy(j->buf + j->len, s, n);
	j->len += n;
	j->buf[j->len] = '\0';
}

size_t json_quote(char *out, size_t len, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	if (len < 3)
		return 0;
	out[o++] = '"';
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		char esc[7];
		size_t n;

		switch (*p) {
		case '"':  memcpy(esc, "\\\"", 2); n = 2; break;
		case '\\': memcpy(esc, "\\\\", 2); n = 2; break;
		case '\n': memcpy(esc, "\\n", 2); n = 2; break;
		case '\r': memcpy(esc, "\\r", 2); n = 2; break;
		case '\t': memcpy(esc, "\\t", 2); n = 2; break;
		default:
			if (*p < 0x20 || *p == 0x7f) {
				memcpy(esc, "\\u00", 4);
				esc[4] = hex[*p >> 4];
				esc[5] = hex[*p & 15];
				n = 6;
			} else {
				esc[0] = (char)*p;
				n = 1;
			}
		}
		if (o + n + 2 > len)	/* room for the closing quote and NUL */
			break;
		memcpy(out + o, esc, n);
		o += n;
	}
	out[o++] = '"';
	out[o] = '\0';
	return o;
}

/* Appends member "key":value (value already JSON text) whole, or not at all. */
static void member(struct jbuf *j, const char *k, const char *value, size_t vlen)
{
	char m[JBUF_SIZE];
	size_t n = 0;

	if (!j->first)
		m[n++] = ',';
	n += json_quote(m + n, 128, k);
	m[n++] = ':';
	if (n + vlen > sizeof(m)) {
		j->cut = true;
		return;
	}
	memcpy(m + n, value, vlen);
	n += vlen;
	put(j, m, n);
	if (!j->cut)
		j->first = false;
}

void jbuf_begin(struct jbuf *j)
{
	j->len = 0;
	j->first = true;
	j->cut = false;
	put(j, "{", 1);
}

void jbuf_str(struct jbuf *j, const char *k, const char *val)
{
	char q[1024];

	if (!val) {
		jbuf_null(j, k);
		return;
	}
	member(j, k, q, json_quote(q, sizeof(q), val));
}

void jbuf_int(struct jbuf *j, const char *k, int64_t val)
{
	char num[32];
	int n = snprintf(num, sizeof(num), "%" PRId64, val);

	member(j, k, num, (size_t)n);
}

void jbuf_bool(struct jbuf *j, const char *k, bool val)
{
	member(j, k, val ? "true" : "false", val ? 4 : 5);
}

void jbuf_null(struct jbuf *j, const char *k)
{
	member(j, k, "null", 4);
}

void jbuf_raw(struct jbuf *j, const char *k, const char *json)
{
	member(j, k, json, strlen(json));
}

const char *jbuf_finish(struct jbuf *j)
{
	/* put() always leaves room for these three bytes */
	j->buf[j->len++] = '}';
	j->buf[j->len++] = '\n';
	j->buf[j->len] = '\0';
	return j->buf;
}

int jbuf_put(struct jbuf *j, FILE *f)
{
	jbuf_finish(j);
	return fwrite(j->buf, 1, j->len, f) == j->len ? 0 : -1;
}

int jbuf_emit(struct jbuf *j, FILE *f)
{
	if (jbuf_put(j, f) < 0 || fflush(f) != 0)
		return -1;
	return 0;
}
