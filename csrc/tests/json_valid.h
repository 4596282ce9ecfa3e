/*
 * json_valid.h: a strict JSON checker for the tests of the writer: the unit tests
 * (test_json.c) and the fuzz target (csrc/fuzz/fuzz_json.c) hold its output to
 * what Python's json.loads accepts on bytes decoded as strict UTF-8.
 */
#ifndef JSON_VALID_H
#define JSON_VALID_H

#include <stdbool.h>
#include <stddef.h>

/* True when @s is exactly one JSON object, then at most one '\n', then the NUL:
 * escapes well-formed, no raw control byte in a string, every other byte of a
 * string part of a well-formed UTF-8 character. */
bool json_valid_object_line(const char *s);

/* True when the @n bytes at @s are exactly one such JSON string literal (and
 * s[n] is the NUL). */
bool json_valid_string(const char *s, size_t n);

#endif
