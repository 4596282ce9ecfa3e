/*
 * test_text.c: unit tests of the UTF-8 reader and the human-text escaper
 * (lib/text.c) behind netprobe's stderr messages and `diagnose`'s text form.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "lib/text.h"

int run_text_tests(void);

/* The length utf8_char_len() gives for the character at the start of @s. */
static size_t len_of(const char *s)
{
	return utf8_char_len((const unsigned char *)s);
}

static void test_utf8_lengths(void **state)
{
	(void)state;
	assert_int_equal(len_of("a"), 1);
	assert_int_equal(len_of(""), 1);		/* the NUL itself: ASCII */
	assert_int_equal(len_of("\xc3\xa9"), 2);
	assert_int_equal(len_of("\xe2\x82\xac"), 3);
	assert_int_equal(len_of("\xf0\x9d\x84\x9e"), 4);
	assert_int_equal(len_of("\xf4\x8f\xbf\xbf"), 4);	/* U+10FFFF */
	assert_int_equal(len_of("\xed\x9f\xbf"), 3);		/* U+D7FF */
	assert_int_equal(len_of("\x80"), 0);
	assert_int_equal(len_of("\xc1\xbf"), 0);		/* overlong */
	assert_int_equal(len_of("\xe0\x9f\xbf"), 0);		/* overlong */
	assert_int_equal(len_of("\xf0\x8f\xbf\xbf"), 0);	/* overlong */
	assert_int_equal(len_of("\xed\xa0\x80"), 0);		/* surrogate */
	assert_int_equal(len_of("\xf4\x90\x80\x80"), 0);	/* above U+10FFFF */
	assert_int_equal(len_of("\xf5\x80\x80\x80"), 0);
	assert_int_equal(len_of("\xc3"), 0);			/* cut by the NUL */
	assert_int_equal(len_of("\xf0\x9d\x84"), 0);
	assert_int_equal(len_of("\xff"), 0);
}

/* Escapes @in into a buffer of @len and compares with @want. */
static void escaped_is(const char *in, size_t len, const char *want)
{
	char out[128];

	assert_true(len <= sizeof(out));
	assert_int_equal(text_escape(out, len, in), strlen(want));
	assert_string_equal(out, want);
}

static void test_escape_for_humans(void **state)
{
	char out[4];

	(void)state;
	escaped_is("fe80::1%eth0", 128, "fe80::1%eth0");
	escaped_is("\x1b[2J\n\t\x7f", 128, "\\x1b[2J\\x0a\\x09\\x7f");
	escaped_is("caf\xc3\xa9 \xe2\x82\xac", 128, "caf\xc3\xa9 \xe2\x82\xac");
	escaped_is("\xc2\x9b" "31m", 128, "\\xc2\\x9b31m");	/* CSI in its C1 form */
	escaped_is("h\xff\xc0\x80", 128, "h\\xff\\xc0\\x80");
	escaped_is("ab\x1b", 6, "ab");			/* an escape is never cut */
	escaped_is("a\xe2\x82\xac", 4, "a");			/* nor a character */
	out[0] = 'Z';
	assert_int_equal(text_escape(out, 0, "x"), 0);
	assert_int_equal(out[0], 'Z');
}

int run_text_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_utf8_lengths),
		cmocka_unit_test(test_escape_for_humans),
	};

	return cmocka_run_group_tests_name("text", tests, NULL, NULL);
}
