/*
 * test_json.c: unit tests of the JSON writer (lib/json.c) and of the record
 * writer built on it (probe_record.c).  The harness reads stdout line by line with
 * a JSON parser, so every line must be one valid object, whatever the text inside
 * and whatever the size of the buffer it was written into.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <errno.h>

#include "json_valid.h"
#include "probe_connect.h"
#include "lib/json.h"
#include "probe_plan.h"
#include "probe_record.h"

int run_json_tests(void);

static void test_the_validator_itself(void **state)
{
	(void)state;
	assert_true(json_valid_object_line("{}"));
	assert_true(json_valid_object_line("{\"a\":1,\"b\":[\"x\",\"y\"],\"c\":null}\n"));
	assert_false(json_valid_object_line("{\"a\":1,}"));
	assert_false(json_valid_object_line("{\"a\":\"x}"));
	assert_false(json_valid_object_line("{\"a\":\"\\q\"}"));
	assert_false(json_valid_object_line("{\"a\":1}\n\n"));
	assert_false(json_valid_object_line("{\"a\":\"\x01\"}"));
}

/* Quotes @in and compares with @want. */
static void quote_is(const char *in, const char *want)
{
	char out[256];
	size_t n = json_quote(out, sizeof(out), in);

	assert_string_equal(out, want);
	assert_int_equal(n, strlen(want));
}

static void test_quote_escapes(void **state)
{
	(void)state;
	quote_is("", "\"\"");
	quote_is("h1", "\"h1\"");
	quote_is("say \"hi\"", "\"say \\\"hi\\\"\"");
	quote_is("a\\b", "\"a\\\\b\"");
	quote_is("l1\nl2\r\t", "\"l1\\nl2\\r\\t\"");
	quote_is("\x01\x1f\x7f", "\"\\u0001\\u001f\\u007f\"");
	quote_is("\x1b[31m", "\"\\u001b[31m\"");
	quote_is("caf\xc3\xa9", "\"caf\xc3\xa9\"");	/* UTF-8 passes through */
}

static void test_quote_replaces_invalid_utf8(void **state)
{
	(void)state;
	quote_is("h\xff", "\"h\\ufffd\"");			/* not UTF-8 at all */
	quote_is("\x80x", "\"\\ufffdx\"");			/* a stray continuation byte */
	quote_is("\xc3", "\"\\ufffd\"");			/* cut short by the end */
	quote_is("\xe2\x82x", "\"\\ufffd\\ufffdx\"");		/* cut short inside */
	quote_is("\xc0\x80", "\"\\ufffd\\ufffd\"");		/* an overlong NUL */
	quote_is("\xe0\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\"");	/* an overlong '/' */
	quote_is("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"");	/* a surrogate */
	quote_is("\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");	/* > U+10FFFF */
	quote_is("\xc3\xa9\xe2\x82\xac\xf0\x9d\x84\x9e", "\"\xc3\xa9\xe2\x82\xac\xf0\x9d\x84\x9e\"");
	quote_is("\xed\x9f\xbf\xf4\x8f\xbf\xbf", "\"\xed\x9f\xbf\xf4\x8f\xbf\xbf\"");	/* edges */
}

/* A multi-byte character is never cut in half: the string ends before it. */
static void test_quote_cuts_between_characters(void **state)
{
	char out[8];

	(void)state;
	assert_int_equal(json_quote(out, 6, "a\xe2\x82\xac"), 3);	/* "a" + 3 bytes won't fit */
	assert_string_equal(out, "\"a\"");
	assert_int_equal(json_quote(out, 7, "a\xe2\x82\xac"), 6);
	assert_string_equal(out, "\"a\xe2\x82\xac\"");
}

static void test_quote_cut_to_fit_stays_a_string(void **state)
{
	static const char nasty[] = "\"\\\n\x01x\"\x7f\\\\\"\x02yz";
	char out[64];

	(void)state;
	assert_int_equal(json_quote(out, 2, "x"), 0);
	for (size_t len = 3; len < sizeof(out); len++) {
		size_t n;

		memset(out, 'Z', sizeof(out));
		n = json_quote(out, len, nasty);
		assert_true(n < len);
		if (!json_valid_string(out, n))
			fail_msg("json_quote cut to %zu bytes gave an invalid string: %s", len,
				 out);
	}
}

static void test_writer_builds_one_line(void **state)
{
	char buf[RECORD_MAX];
	struct json_out j;
	size_t n;

	(void)state;
	json_begin(&j, buf, sizeof(buf), RECORD_STR_MAX);
	json_str(&j, "op", "bind");
	json_int(&j, "port", 6677);
	json_int(&j, "neg", -5);
	json_int(&j, "big", INT64_MIN);
	json_bool(&j, "ok", false);
	json_bool(&j, "yes", true);
	json_null(&j, "call");
	json_str(&j, "error", NULL);
	json_raw(&j, "options", "[\"reuseaddr\"]");
	n = json_end(&j);
	assert_string_equal(buf,
			    "{\"op\":\"bind\",\"port\":6677,\"neg\":-5,"
			    "\"big\":-9223372036854775808,\"ok\":false,\"yes\":true,"
			    "\"call\":null,\"error\":null,\"options\":[\"reuseaddr\"]}\n");
	assert_int_equal(n, strlen(buf));
	assert_false(j.cut);

	json_begin(&j, buf, sizeof(buf), 0);
	json_end(&j);
	assert_string_equal(buf, "{}\n");
}

static void test_writer_nests_arrays_and_objects(void **state)
{
	char buf[256];
	struct json_out j;

	(void)state;
	json_begin(&j, buf, sizeof(buf), 0);
	json_open_array(&j, "fixes");
	json_str(&j, NULL, "a");
	json_str(&j, NULL, "b");
	json_close(&j);
	json_open_array(&j, "none");
	json_close(&j);
	json_open_array(&j, "holders");
	json_open_object(&j, NULL);
	json_int(&j, "pid", 7);
	json_open_array(&j, "flags");
	json_str(&j, NULL, "x");
	json_close(&j);
	json_close(&j);
	json_open_object(&j, NULL);
	json_close(&j);
	json_close(&j);
	json_open_object(&j, "o");	/* left open: json_end() closes it */
	json_null(&j, "k");
	json_end(&j);
	assert_string_equal(buf, "{\"fixes\":[\"a\",\"b\"],\"none\":[],"
				 "\"holders\":[{\"pid\":7,\"flags\":[\"x\"]},{}],"
				 "\"o\":{\"k\":null}}\n");
	assert_false(j.cut);
}

static void test_too_much_stays_valid(void **state)
{
	char big[900], key[16], buf[RECORD_MAX];
	struct json_out j;
	size_t n;

	(void)state;
	memset(big, 'v', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	json_begin(&j, buf, sizeof(buf), RECORD_STR_MAX);
	for (int i = 0; i < 8; i++) {	/* 8 x 900 > RECORD_MAX */
		snprintf(key, sizeof(key), "k%d", i);
		json_str(&j, key, big);
	}
	n = json_end(&j);
	assert_true(j.cut);
	assert_true(n < RECORD_MAX);
	assert_int_equal(strlen(buf), n);
	assert_non_null(strstr(buf, ",\"cut\":true}\n"));
	/* lib/json.h: "the record stays valid JSON" */
	if (!json_valid_object_line(buf))
		fail_msg("a cut record is not valid JSON; it ends with: %s",
			 buf + (n > 60 ? n - 60 : 0));
}

static void test_a_cut_object_is_taken_back_whole(void **state)
{
	char buf[96], pad[64];
	struct json_out j;

	(void)state;
	memset(pad, 'p', sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = '\0';
	json_begin(&j, buf, sizeof(buf), 0);
	json_open_array(&j, "holders");
	json_open_object(&j, NULL);
	json_int(&j, "pid", 1);
	json_close(&j);
	json_open_object(&j, NULL);
	json_int(&j, "pid", 2);
	json_str(&j, "comm", pad);	/* does not fit: the second holder goes */
	json_close(&j);
	json_close(&j);
	json_int(&j, "after", 3);
	json_end(&j);
	assert_string_equal(buf, "{\"holders\":[{\"pid\":1}],\"after\":3,\"cut\":true}\n");
}

static void test_string_cap_and_depth_and_tiny_buffers(void **state)
{
	char buf[RECORD_MAX], small[JSON_OUT_MIN - 1];
	struct json_out j;

	(void)state;
	json_begin(&j, buf, sizeof(buf), 8);
	json_str(&j, "s", "abcdefghij");	/* 12 bytes quoted, capped at 8 */
	json_str(&j, "e", "\n\n\n\n");	/* an escape is never split */
	json_end(&j);
	assert_string_equal(buf, "{\"s\":\"abcdef\",\"e\":\"\\n\\n\\n\"}\n");
	assert_false(j.cut);

	json_begin(&j, buf, sizeof(buf), 0);
	for (int i = 0; i < JSON_DEPTH_MAX + 2; i++)
		json_open_array(&j, i ? NULL : "deep");
	json_int(&j, NULL, 1);
	for (int i = 0; i < JSON_DEPTH_MAX + 2; i++)
		json_close(&j);
	json_int(&j, "after", 2);
	json_end(&j);
	assert_true(j.cut);
	assert_true(json_valid_object_line(buf));
	assert_non_null(strstr(buf, "\"after\":2"));

	memset(small, 'Z', sizeof(small));
	json_begin(&j, small, sizeof(small), 0);
	json_str(&j, "k", "v");
	assert_int_equal(json_end(&j), 0);
	assert_int_equal(small[0], '\0');
}

/* Builds a record with every kind of member into @size bytes of @buf. */
static size_t build_everything(char *buf, size_t size)
{
	struct json_out j;

	json_begin(&j, buf, size, 64);
	json_str(&j, "id", "c1");
	json_str(&j, "nasty", "\"\\\n\x01x\"\x7f");
	json_int(&j, "n", -123456789);
	json_open_array(&j, "list");
	for (int i = 0; i < 5; i++)
		json_str(&j, NULL, "element");
	json_close(&j);
	json_open_array(&j, "objs");
	for (int i = 0; i < 3; i++) {
		json_open_object(&j, NULL);
		json_int(&j, "i", i);
		json_open_array(&j, "f");
		json_str(&j, NULL, "tentative");
		json_close(&j);
		json_close(&j);
	}
	json_close(&j);
	json_bool(&j, "ok", true);
	json_raw(&j, "raw", "[1,2]");
	return json_end(&j);
}

static void test_every_buffer_size_gives_valid_json(void **state)
{
	char whole[1024], buf[1024];
	size_t full = build_everything(whole, sizeof(whole));

	(void)state;
	assert_true(json_valid_object_line(whole));
	assert_null(strstr(whole, "cut"));
	for (size_t size = JSON_OUT_MIN; size <= full + 1; size++) {
		size_t n;

		memset(buf, 'Z', sizeof(buf));
		n = build_everything(buf, size);
		assert_true(n < size);
		assert_int_equal(strlen(buf), n);
		if (!json_valid_object_line(buf))
			fail_msg("buffer of %zu bytes gave invalid JSON: %s", size, buf);
		if (size <= full)
			assert_non_null(strstr(buf, "\"cut\":true}"));
	}
}

/* Writes the record of @c / @r for host @host into @out through a memory stream. */
static void record_text(char *out, size_t len, const char *host, const struct probe_case *c,
			const struct probe_result *r)
{
	FILE *f = fmemopen(out, len, "w");

	assert_non_null(f);
	assert_int_equal(record_write(f, host, c, r), 0);
	fclose(f);
	if (!json_valid_object_line(out))
		fail_msg("record is not one JSON object line: %s", out);
}

/* Parses a plan line that must be a case. */
static void plan_case(const char *line, struct probe_case *c)
{
	char err[256];

	if (plan_parse_line(line, 1, c, err, sizeof(err)) != 1)
		fail_msg("'%s' refused: %s", line, err);
}

static void test_bind_record_says_errno_99(void **state)
{
	struct probe_case c;
	struct probe_result r = { .err = EADDRNOTAVAIL, .call = "bind", .elapsed_us = 7 };
	char out[RECORD_MAX + 16];

	(void)state;
	plan_case("c1 bind tcp 10.0.0.1 6677 reuseaddr", &c);
	record_text(out, sizeof(out), "h2", &c, &r);
	assert_string_equal(out,
			    "{\"id\":\"c1\",\"op\":\"bind\",\"host\":\"h2\",\"proto\":\"tcp\","
			    "\"family\":\"inet\",\"addr\":\"10.0.0.1\",\"port\":6677,"
			    "\"options\":[\"reuseaddr\"],\"ok\":false,\"errno\":99,"
			    "\"error\":\"EADDRNOTAVAIL\","
			    "\"message\":\"Cannot assign requested address\",\"call\":\"bind\","
			    "\"elapsed_us\":7}\n");
}

static void test_ok_record_has_null_error(void **state)
{
	struct probe_case c;
	struct probe_result r = { .err = 0, .elapsed_us = 3 };
	char out[RECORD_MAX + 16];

	(void)state;
	plan_case("u1 bind udp ::1 53 v6only=1 freebind", &c);
	record_text(out, sizeof(out), "h1", &c, &r);
	assert_non_null(strstr(out, "\"ok\":true,\"errno\":0,\"error\":null,"
				    "\"message\":null,\"call\":null"));
	assert_non_null(strstr(out, "\"family\":\"inet6\""));
	assert_non_null(strstr(out, "\"proto\":\"udp\""));
	assert_non_null(strstr(out, "\"options\":[\"freebind\",\"v6only=1\"]"));
}

static void test_connect_record_fields(void **state)
{
	struct probe_case c;
	struct probe_result r = { .err = ETIMEDOUT, .call = "connect", .elapsed_us = 200123 };
	char out[RECORD_MAX + 16];

	(void)state;
	plan_case("t1 connect tcp 10.0.0.9 80 timeout=200", &c);
	record_text(out, sizeof(out), "h1", &c, &r);
	assert_non_null(strstr(out, "\"error\":\"ETIMEDOUT\""));
	assert_non_null(strstr(out, "\"src\":null,\"sport\":0,\"local\":null,"
				    "\"peer_host\":null,\"after\":null,\"timeout_ms\":200}\n"));

	plan_case("s1 connect tcp 10.0.0.1 6677 src=10.0.0.2 sport=4000 family=6", &c);
	r = (struct probe_result){ .err = 0, .elapsed_us = 60 };
	snprintf(r.local, sizeof(r.local), "[::ffff:10.0.0.2]:4000");
	snprintf(r.peer_host, sizeof(r.peer_host), "h1");
	r.after = AFTER_GREETING;
	record_text(out, sizeof(out), "h2", &c, &r);
	assert_non_null(strstr(out, "\"peer_host\":\"h1\",\"after\":\"greeting\""));
	assert_non_null(strstr(out, "\"addr\":\"::ffff:10.0.0.1\""));
	assert_non_null(strstr(out, "\"options\":[\"family=6\"]"));
	assert_non_null(strstr(out, "\"src\":\"::ffff:10.0.0.2\",\"sport\":4000,"
				    "\"local\":\"[::ffff:10.0.0.2]:4000\",\"peer_host\":\"h1\""));
}

/* "connected, then what": a proxy that accepts and closes is "eof", never an answer */
static void test_after_the_handshake(void **state)
{
	struct probe_case c;
	struct probe_result r = { .err = 0, .after = AFTER_EOF };
	char out[RECORD_MAX + 16];

	(void)state;
	assert_int_equal(after_classify("", 0, 0), AFTER_EOF);
	assert_int_equal(after_classify("netprobe c1\n", 12, 0), AFTER_GREETING);
	assert_int_equal(after_classify("HTTP/1.0 200\r\n", 15, 0), AFTER_DATA);
	assert_int_equal(after_classify("netprobe \n", 10, 0), AFTER_DATA);
	assert_int_equal(after_classify("", 0, ECONNRESET), AFTER_RESET);
	assert_int_equal(after_classify("", 0, ETIMEDOUT), AFTER_TIMEOUT);
	assert_int_equal(after_classify("", 0, ECONNREFUSED), AFTER_ERROR);
	assert_null(after_name(AFTER_UNKNOWN));
	assert_string_equal(after_name(AFTER_RESET), "reset");

	plan_case("p1 connect tcp 127.0.0.1 18180", &c);
	record_text(out, sizeof(out), "dockerhost", &c, &r);
	assert_non_null(strstr(out, "\"ok\":true,"));
	assert_non_null(strstr(out, "\"peer_host\":null,\"after\":\"eof\","));
	r = (struct probe_result){ .err = ECONNRESET, .call = "recv", .after = AFTER_RESET };
	record_text(out, sizeof(out), "dockerhost", &c, &r);
	assert_non_null(strstr(out, "\"error\":\"ECONNRESET\""));
	assert_non_null(strstr(out, "\"call\":\"recv\""));
	assert_non_null(strstr(out, "\"after\":\"reset\""));
}

static void test_record_with_unknown_errno_and_odd_host(void **state)
{
	struct probe_case c;
	struct probe_result r = { .err = 4000, .call = "connect", .elapsed_us = 1 };
	char out[RECORD_MAX + 16];

	(void)state;
	plan_case("x bind tcp 10.0.0.1 1", &c);
	record_text(out, sizeof(out), "h\"1\n\x01", &c, &r);
	assert_non_null(strstr(out, "\"errno\":4000,\"error\":\"4000\""));
	assert_non_null(strstr(out, "\"host\":\"h\\\"1\\n\\u0001\""));
	/* a connect whose server named itself with junk stays one line */
	plan_case("y connect tcp 10.0.0.1 1", &c);
	r = (struct probe_result){ .err = 0 };
	snprintf(r.peer_host, sizeof(r.peer_host), "evil\"}\n{\"ok\":true");
	record_text(out, sizeof(out), "h1", &c, &r);
	assert_int_equal(strchr(out, '\n') - out, (long)strlen(out) - 1);
}

int run_json_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_the_validator_itself),
		cmocka_unit_test(test_quote_escapes),
		cmocka_unit_test(test_quote_replaces_invalid_utf8),
		cmocka_unit_test(test_quote_cuts_between_characters),
		cmocka_unit_test(test_quote_cut_to_fit_stays_a_string),
		cmocka_unit_test(test_writer_builds_one_line),
		cmocka_unit_test(test_writer_nests_arrays_and_objects),
		cmocka_unit_test(test_too_much_stays_valid),
		cmocka_unit_test(test_a_cut_object_is_taken_back_whole),
		cmocka_unit_test(test_string_cap_and_depth_and_tiny_buffers),
		cmocka_unit_test(test_every_buffer_size_gives_valid_json),
		cmocka_unit_test(test_bind_record_says_errno_99),
		cmocka_unit_test(test_ok_record_has_null_error),
		cmocka_unit_test(test_connect_record_fields),
		cmocka_unit_test(test_after_the_handshake),
		cmocka_unit_test(test_record_with_unknown_errno_and_odd_host),
	};

	return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
