/*
 * fuzz_json.c: libFuzzer target for the JSON writer (lib/json.c): any sequence
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

#include "json_valid.h"
#include "lib/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Applies the operation at @data[*@i] (of @size bytes) to @j, *@depth the
 * nesting it opened; moves *@i past the operation and its bytes. */
static void apply_op(struct json_out *j, const uint8_t *data, size_t size, size_t *i,
		     int *depth)
{
	uint8_t op = data[(*i)++];
	/* inside an array members have no key */
	bool in_array = *depth > 0 && j->depth > 1 && j->level[j->depth - 1].close == ']';
	const char *key = in_array ? NULL : "k";

	switch (op) {
	case 's': {
		size_t len = strnlen((const char *)data + *i, size - *i);
		char *s = malloc(len + 1);

		if (!s)
			break;
		memcpy(s, data + *i, len);
		s[len] = '\0';
		json_str(j, key, s);
		free(s);
		*i += len + 1;
		break;
	}
	case 'i': {
		int64_t v = 0;

		if (size - *i >= sizeof(v))
			memcpy(&v, data + *i, sizeof(v));
		*i += sizeof(v);
		json_int(j, key, v);
		break;
	}
	case 'a': json_open_array(j, key); (*depth)++; break;
	case 'o': json_open_object(j, key); (*depth)++; break;
	case 'c': json_close(j); *depth -= *depth > 0; break;
	case 'n': json_null(j, key); break;
	case 'b': json_bool(j, key, *i & 1); break;
	case 'r': json_raw(j, key, "[1]"); break;
	default: break;
	}
}

/* Traps unless the @n bytes in @buf (of @bufsize) are what the writer promises:
 * nothing below JSON_OUT_MIN, else one line of valid JSON within the buffer. */
static void check_output(const char *buf, size_t bufsize, size_t n)
{
	if (bufsize < JSON_OUT_MIN) {
		if (n != 0 || (bufsize && buf[0] != '\0'))
			__builtin_trap();
		return;
	}
	if (n >= bufsize || strlen(buf) != n || n < 3 || buf[n - 1] != '\n' ||
	    memchr(buf, '\n', n - 1))
		__builtin_trap();	/* not one line, or past the buffer */
	if (!json_valid_object_line(buf))
		__builtin_trap();	/* not valid JSON */
}

/* libFuzzer's entry point: one input, checked as the file's header says.  Traps
 * on a broken contract; returns 0 (inputs are never rejected). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_out j;
	size_t bufsize, i = 2;
	char *buf;
	int depth = 0;

	if (size < 2)
		return 0;
	bufsize = (size_t)data[0] * 8;	/* 0 .. 2040: below the minimum too */
	buf = malloc(bufsize + 1);
	if (!buf)
		return 0;
	json_begin(&j, buf, bufsize, data[1]);
	while (i < size)
		apply_op(&j, data, size, &i, &depth);
	check_output(buf, bufsize, json_end(&j));
	free(buf);
	return 0;
}
