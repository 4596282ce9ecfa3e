/* json.c: see json.h. */
#include "json.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "text.h"

/* What json_end() may add after the last member: ,"cut":true then "}\n" and the
 * NUL.  The closers of open nested levels come on top (see reserve()). */
static const char cut_marker[] = ",\"cut\":true";
#define END_RESERVE (sizeof(cut_marker) - 1 + 3)

/* A member that was not written: where it began is not a position. */
#define NO_MEMBER ((size_t)-1)

/* Writes the escaped form of byte @ch in a JSON string to @esc (at least 6 bytes).
 * Returns its length. */
static size_t escape_byte(unsigned char ch, char *esc)
{
	static const char hex[] = "0123456789abcdef";

	switch (ch) {
	case '"':  memcpy(esc, "\\\"", 2); return 2;
	case '\\': memcpy(esc, "\\\\", 2); return 2;
	case '\n': memcpy(esc, "\\n", 2); return 2;
	case '\r': memcpy(esc, "\\r", 2); return 2;
	case '\t': memcpy(esc, "\\t", 2); return 2;
	default:
		if (ch < 0x20 || ch == 0x7f) {
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[ch >> 4];
			esc[5] = hex[ch & 15];
			return 6;
		}
		esc[0] = (char)ch;
		return 1;
	}
}

/*
 * Writes @s as a quoted JSON string into @out, at most @room bytes (quotes
 * included, no NUL), shortened between two characters when it does not fit.
 * With @out NULL it only counts.  Returns the bytes written (or counted), 0 when
 * not even "" fits (@room < 2).
 */
static size_t quote_into(char *out, size_t room, const char *s)
{
	size_t o = 1;

	if (room < 2)
		return 0;
	if (out)
		out[0] = '"';
	for (const unsigned char *p = (const unsigned char *)s; *p;) {
		size_t chars = utf8_char_len(p), n;
		char esc[8];
		const char *text = esc;

		if (chars == 0) {		/* not UTF-8: U+FFFD REPLACEMENT CHARACTER */
			text = "\\ufffd";
			n = 6;
			chars = 1;
		} else if (chars == 1) {
			n = escape_byte(*p, esc);
		} else {			/* a whole multi-byte character, as it is */
			text = (const char *)p;
			n = chars;
		}
		if (o + n + 1 > room)	/* keep room for the closing quote */
			break;
		if (out)
			memcpy(out + o, text, n);
		o += n;
		p += chars;
	}
	if (out)
		out[o] = '"';
	return o + 1;
}

size_t json_quote(char *out, size_t len, const char *s)
{
	size_t n;

	if (len < 3)
		return 0;
	n = quote_into(out, len - 1, s);
	out[n] = '\0';
	return n;
}

void json_begin(struct json_out *j, char *buf, size_t size, size_t str_max)
{
	memset(j, 0, sizeof(*j));
	j->buf = buf;
	j->size = size >= JSON_OUT_MIN ? size : 0;
	j->str_max = str_max;
	j->depth = 1;
	j->level[0] = (struct json_level){ .close = '}', .first = true };
	if (j->size)
		j->buf[j->len++] = '{';
	else if (size)
		buf[0] = '\0';
}

/* The innermost open level. */
static struct json_level *top(struct json_out *j)
{
	return &j->level[j->depth - 1];
}

/* The bytes free for members now: the buffer less what is written and what must
 * stay free for the closers still to come and json_end()'s additions. */
static size_t room(const struct json_out *j)
{
	size_t used = j->len + (size_t)(j->depth - 1) + END_RESERVE;

	return j->size > used ? j->size - used : 0;
}

/* Notes that a member was left out, in its level and in the record. */
static void left_out(struct json_out *j)
{
	top(j)->cut = true;
	j->cut = true;
}

/*
 * Starts a member whose value takes @vlen bytes: a comma unless it is the level's
 * first, then "key": inside an object.  Returns where the member began, or
 * NO_MEMBER when it is left out: the buffer is unusable, the level is dead or too
 * deep, or the prefix and @vlen more bytes do not fit.  After a start the caller
 * writes exactly @vlen bytes and calls member_done().
 */
static size_t member_start(struct json_out *j, const char *key, size_t vlen)
{
	size_t start = j->len, need;
	char k[128];
	size_t klen = key ? json_quote(k, sizeof(k), key) : 0;

	if (!j->size || j->too_deep || top(j)->dead)
		return NO_MEMBER;
	need = (top(j)->first ? 0 : 1) + (key ? klen + 1 : 0) + vlen;
	if (need > room(j)) {
		left_out(j);
		return NO_MEMBER;
	}
	if (!top(j)->first)
		j->buf[j->len++] = ',';
	if (key) {
		memcpy(j->buf + j->len, k, klen);
		j->len += klen;
		j->buf[j->len++] = ':';
	}
	return start;
}

/* Ends a member begun with member_start(). */
static void member_done(struct json_out *j)
{
	top(j)->first = false;
}

/* Appends member @key with value @value (JSON text of @vlen bytes), whole or not
 * at all. */
static void member(struct json_out *j, const char *key, const char *value, size_t vlen)
{
	if (member_start(j, key, vlen) == NO_MEMBER)
		return;
	memcpy(j->buf + j->len, value, vlen);
	j->len += vlen;
	member_done(j);
}

void json_str(struct json_out *j, const char *key, const char *val)
{
	size_t n;

	if (!val) {
		json_null(j, key);
		return;
	}
	n = quote_into(NULL, (size_t)-1, val);
	if (j->str_max >= 2 && n > j->str_max)	/* the cap shortens; the buffer never does */
		n = j->str_max;
	if (member_start(j, key, n) == NO_MEMBER)
		return;
	j->len += quote_into(j->buf + j->len, n, val);
	member_done(j);
}

void json_int(struct json_out *j, const char *key, int64_t val)
{
	char num[24];
	int n = snprintf(num, sizeof(num), "%" PRId64, val);

	member(j, key, num, (size_t)n);
}

void json_bool(struct json_out *j, const char *key, bool val)
{
	member(j, key, val ? "true" : "false", val ? 4 : 5);
}

void json_null(struct json_out *j, const char *key)
{
	member(j, key, "null", 4);
}

void json_raw(struct json_out *j, const char *key, const char *json)
{
	member(j, key, json, strlen(json));
}

/* Opens a container written @open ... @close as member @key. */
static void open_level(struct json_out *j, const char *key, char open, char close)
{
	bool parent_first = top(j)->first;
	size_t start;

	if (j->too_deep || j->depth > JSON_DEPTH_MAX) {
		if (!j->too_deep && !top(j)->dead && j->size)
			left_out(j);
		j->too_deep++;
		return;
	}
	/* the opener now, and the closer that the new level adds to the reserve */
	start = member_start(j, key, 2);
	if (start != NO_MEMBER) {
		j->buf[j->len++] = open;
		member_done(j);
	}
	j->level[j->depth++] = (struct json_level){
		.close = close, .first = true, .dead = start == NO_MEMBER, .start = start,
		.parent_first = parent_first,
	};
}

void json_open_array(struct json_out *j, const char *key)
{
	open_level(j, key, '[', ']');
}

void json_open_object(struct json_out *j, const char *key)
{
	open_level(j, key, '{', '}');
}

void json_close(struct json_out *j)
{
	struct json_level l;

	if (j->too_deep) {
		j->too_deep--;
		return;
	}
	if (j->depth <= 1)	/* the record itself closes in json_end() */
		return;
	l = j->level[--j->depth];
	if (l.dead)
		return;
	if (l.cut && l.close == '}') {
		/* an object is never written half: take it back, its level was cut */
		j->len = l.start;
		top(j)->first = l.parent_first;
		left_out(j);
		return;
	}
	j->buf[j->len++] = l.close;	/* the reserve kept this byte */
}

size_t json_end(struct json_out *j)
{
	if (!j->size)
		return 0;
	while (j->too_deep || j->depth > 1)
		json_close(j);
	if (j->cut) {
		size_t n = sizeof(cut_marker) - 1;
		const char *m = cut_marker;

		if (top(j)->first) {	/* no member: no comma */
			m++;
			n--;
		}
		memcpy(j->buf + j->len, m, n);
		j->len += n;
	}
	j->buf[j->len++] = '}';
	j->buf[j->len++] = '\n';
	j->buf[j->len] = '\0';
	return j->len;
}
