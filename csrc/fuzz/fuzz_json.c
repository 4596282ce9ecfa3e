/*
 * fuzz_json.c: libFuzzer target for the JSON writer (probe_json.c): any sequence
 * of members, nesting and string bytes, into a buffer of any size, must give one
 * line of valid JSON in strict UTF-8 that a strict decoder accepts, within the
 * buffer, and nothing at all in a buffer below JSON_OUT_MIN.
 *
 * Input: byte 0 picks the buffer size, byte 1 the string cap, then operations:
 * 's' a string (the bytes up to the next NUL), 'i' an integer (8 bytes), 'a'/'o'
 * open an array/object, 'c' close, 'n' null, 'b' a boolean, 'r' raw "[1]".
 *
 * Built and run by `make fuzz` (clang -fsanitize=fuzzer,address,undefined).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "probe_json.h"
#include "probe_text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool value(const char **p, int depth);

/* Skips a JSON string at *@p: escapes well-formed, no raw control byte, every
 * other byte part of a well-formed UTF-8 character. */
static bool string(const char **p)
{
	const unsigned char *s = (const unsigned char *)*p;

	if (*s++ != '"')
		return false;
	while (*s != '"') {
		size_t n;

		if (*s < 0x20)
			return false;
		if (*s == '\\') {
			s++;
			if (*s == 'u') {
				for (int i = 1; i <= 4; i++)
					if (!s[i] || !strchr("0123456789abcdef", s[i]))
						return false;
				s += 5;
				continue;
			}
			if (!*s || !strchr("\"\\/bfnrt", *s))
				return false;
			s++;
			continue;
		}
		n = utf8_char_len(s);
		if (n == 0)
			return false;
		s += n;
	}
	*p = (const char *)s + 1;
	return true;
}

/* Skips the members of an array (@close ']') or object (@close '}') at *@p, the
 * opener already skipped. */
static bool members(const char **p, char close, int depth)
{
	if (**p == close) {
		(*p)++;
		return true;
	}
	for (;;) {
		if (close == '}' && (!string(p) || *(*p)++ != ':'))
			return false;
		if (!value(p, depth + 1))
			return false;
		if (**p == close) {
			(*p)++;
			return true;
		}
		if (*(*p)++ != ',')
			return false;
	}
}

/* Skips one JSON value at *@p. */
static bool value(const char **p, int depth)
{
	const char *s = *p;

	if (depth > JSON_DEPTH_MAX + 2)	/* the levels, and the array json_raw() adds */
		return false;
	if (*s == '"')
		return string(p);
	if (*s == '[' || *s == '{') {
		(*p)++;
		return members(p, *s == '[' ? ']' : '}', depth);
	}
	for (const char *const *w = (const char *const[]){ "true", "false", "null", NULL }; *w;
	     w++) {
		if (strncmp(s, *w, strlen(*w)) == 0) {
			*p = s + strlen(*w);
			return true;
		}
	}
	if (*s == '-')
		s++;
	if (*s < '0' || *s > '9')
		return false;
	while (*s >= '0' && *s <= '9')
		s++;
	*p = s;
	return true;
}

/* libFuzzer's entry point: one input, checked as the file's header says.  Traps
 * on a broken contract; returns 0 (inputs are never rejected). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_out j;
	size_t bufsize, n, i = 2;
	char *buf;
	const char *p;
	int depth = 0;

	if (size < 2)
		return 0;
	bufsize = (size_t)data[0] * 8;	/* 0 .. 2040: below the minimum too */
	buf = malloc(bufsize + 1);
	if (!buf)
		return 0;
	json_begin(&j, buf, bufsize, data[1]);
	while (i < size) {
		uint8_t op = data[i++];
		/* inside an array members have no key */
		bool in_array = depth > 0 && j.depth > 1 && j.level[j.depth - 1].close == ']';
		const char *key = in_array ? NULL : "k";

		switch (op) {
		case 's': {
			size_t len = strnlen((const char *)data + i, size - i);
			char *s = malloc(len + 1);

			if (!s)
				break;
			memcpy(s, data + i, len);
			s[len] = '\0';
			json_str(&j, key, s);
			free(s);
			i += len + 1;
			break;
		}
		case 'i': {
			int64_t v = 0;

			if (size - i >= sizeof(v))
				memcpy(&v, data + i, sizeof(v));
			i += sizeof(v);
			json_int(&j, key, v);
			break;
		}
		case 'a': json_open_array(&j, key); depth++; break;
		case 'o': json_open_object(&j, key); depth++; break;
		case 'c': json_close(&j); depth -= depth > 0; break;
		case 'n': json_null(&j, key); break;
		case 'b': json_bool(&j, key, i & 1); break;
		case 'r': json_raw(&j, key, "[1]"); break;
		default: break;
		}
	}
	n = json_end(&j);
	if (bufsize < JSON_OUT_MIN) {
		if (n != 0 || (bufsize && buf[0] != '\0'))
			__builtin_trap();
		free(buf);
		return 0;
	}
	if (n >= bufsize || strlen(buf) != n || n < 3 || buf[n - 1] != '\n' ||
	    memchr(buf, '\n', n - 1))
		__builtin_trap();	/* not one line, or past the buffer */
	p = buf;
	if (*p != '{' || !value(&p, 0) || *p != '\n')
		__builtin_trap();	/* not valid JSON */
	free(buf);
	return 0;
}
