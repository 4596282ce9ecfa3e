/*
 * test_plan.c: unit tests of the plan parser (probe_plan.c), the format read by
 * `netprobe batch`, one line at a time (the whole plan: test_planread.c).  A user
 * writes these lines by hand, so every malformed line must be refused with a
 * message that names the line number and the field.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>

#include "probe_plan.h"

int run_plan_tests(void);

struct parsed {
	struct probe_case c;
	char err[256];
	int rc;
};

/* Parses @line as line @lineno into @p (err starts empty). */
static void parse_at(struct parsed *p, const char *line, size_t lineno)
{
	memset(p, 0, sizeof(*p));
	p->rc = plan_parse_line(line, lineno, &p->c, p->err, sizeof(p->err));
}

/* Parses @line, expects a case, and fails the test with the parser's message if not. */
static void parse_ok(struct parsed *p, const char *line)
{
	parse_at(p, line, 1);
	if (p->rc != 1)
		fail_msg("'%s' was refused: %s", line, p->err);
}

/* Parses @line as line 7 and expects it refused with a message that starts with
 * "plan line 7: " and contains @what (the field or option it must name). */
static void parse_bad(const char *line, const char *what)
{
	struct parsed p;

	parse_at(&p, line, 7);
	if (p.rc != -1)
		fail_msg("'%s' was accepted (rc %d), expected an error naming %s", line, p.rc,
			 what);
	if (strncmp(p.err, "plan line 7: ", 13) != 0)
		fail_msg("'%s': message does not start with the line number: '%s'", line, p.err);
	if (!strstr(p.err, what))
		fail_msg("'%s': message does not name %s: '%s'", line, what, p.err);
	assert_null(strchr(p.err, '\n'));
}

static void test_minimal_bind_case(void **state)
{
	struct parsed p;
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&p.c.addr.ss;

	(void)state;
	parse_ok(&p, "b1 bind tcp 10.0.0.1 6677");
	assert_string_equal(p.c.id, "b1");
	assert_int_equal(p.c.op, OP_BIND);
	assert_int_equal(p.c.proto, PROTO_TCP);
	assert_int_equal(p.c.port, 6677);
	assert_int_equal(p.c.addr.family, AF_INET);
	assert_false(p.c.addr.mapped);
	assert_string_equal(p.c.addr.text, "10.0.0.1");
	assert_int_equal(sin->sin_family, AF_INET);
	assert_int_equal(ntohs(sin->sin_port), 6677);
	assert_int_equal(ntohl(sin->sin_addr.s_addr), 0x0a000001);
	/* the defaults of probe_opts_default() */
	assert_true(p.c.opts.listen);
	assert_true(p.c.opts.greet);
	assert_false(p.c.opts.hold);
	assert_false(p.c.opts.has_src);
	assert_int_equal(p.c.opts.v6only, -1);
	assert_int_equal(p.c.opts.timeout_ms, DEFAULT_TIMEOUT_MS);
	assert_string_equal(p.c.opts.dev, "");
}

static void test_blank_and_comment_lines_are_skipped(void **state)
{
	static const char *skipped[] = {
		"", " ", "\t \t", "#", "# a comment", "   # indented comment",
		"\t#x bind tcp 1.2.3.4 5", "\r", "  \r",
	};
	struct parsed p;

	(void)state;
	for (size_t i = 0; i < sizeof(skipped) / sizeof(skipped[0]); i++) {
		parse_at(&p, skipped[i], 3);
		if (p.rc != 0)
			fail_msg("line %zu '%s' gave %d (%s), expected 0 (skipped)", i,
				 skipped[i], p.rc, p.err);
	}
}

static void test_fields_split_on_tabs_and_runs_of_spaces(void **state)
{
	struct parsed p;

	(void)state;
	parse_ok(&p, "  x.y:z/1@a+b-c \t connect\tudp   ::1  53\thold ");
	assert_string_equal(p.c.id, "x.y:z/1@a+b-c");
	assert_int_equal(p.c.op, OP_CONNECT);
	assert_int_equal(p.c.proto, PROTO_UDP);
	assert_int_equal(p.c.addr.family, AF_INET6);
	assert_int_equal(p.c.port, 53);
	assert_true(p.c.opts.hold);
}

static void test_crlf_line_end_is_accepted(void **state)
{
	struct parsed p;

	(void)state;
	parse_ok(&p, "w1 bind udp 10.0.0.2 5353\r");
	assert_int_equal(p.c.port, 5353);
	parse_ok(&p, "w2 connect tcp 10.0.0.2 80 nogreet\r");
	assert_false(p.c.opts.greet);
}

static void test_every_option_is_applied(void **state)
{
	struct parsed p;
	const struct sockaddr_in *src = (const struct sockaddr_in *)&p.c.opts.src.ss;

	(void)state;
	parse_ok(&p, "c1 connect tcp 10.0.0.2 80 src=10.0.0.1 sport=4000 timeout=200 "
		     "nogreet freebind dev=h1-eth0 hold reuseaddr reuseport");
	assert_true(p.c.opts.has_src);
	assert_string_equal(p.c.opts.src.text, "10.0.0.1");
	assert_int_equal(src->sin_family, AF_INET);
	assert_int_equal(p.c.opts.sport, 4000);
	assert_int_equal(p.c.opts.timeout_ms, 200);
	assert_false(p.c.opts.greet);
	assert_true(p.c.opts.freebind);
	assert_string_equal(p.c.opts.dev, "h1-eth0");
	assert_true(p.c.opts.hold);
	assert_true(p.c.opts.reuseaddr);
	assert_true(p.c.opts.reuseport);

	parse_ok(&p, "b1 bind tcp ::1 80 nolisten v6only=0");
	assert_false(p.c.opts.listen);
	assert_int_equal(p.c.opts.v6only, 0);
	parse_ok(&p, "b2 bind tcp :: 80 v6only=1");
	assert_int_equal(p.c.opts.v6only, 1);
	parse_ok(&p, "b3 bind tcp :: 80 v6only");
	assert_int_equal(p.c.opts.v6only, 1);
	/* the edges of the ranges */
	parse_ok(&p, "c2 connect udp 10.0.0.2 65535 sport=65535 timeout=1");
	assert_int_equal(p.c.port, 65535);
	assert_int_equal(p.c.opts.sport, 65535);
	assert_int_equal(p.c.opts.timeout_ms, 1);
	parse_ok(&p, "c3 connect tcp 10.0.0.2 1 timeout=3600000 dev=abcdefghijklmno");
	assert_int_equal(p.c.opts.timeout_ms, 3600000);
	assert_string_equal(p.c.opts.dev, "abcdefghijklmno");
}

static void test_family_6_maps_ipv4_addresses(void **state)
{
	struct parsed p;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&p.c.addr.ss;
	static const unsigned char mapped[16] = { 0, 0, 0, 0, 0, 0, 0, 0,
						  0, 0, 0xff, 0xff, 10, 0, 0, 1 };

	(void)state;
	parse_ok(&p, "m1 bind tcp 10.0.0.1 6677 family=6");
	assert_int_equal(p.c.addr.family, AF_INET6);
	assert_true(p.c.addr.mapped);
	assert_string_equal(p.c.addr.text, "::ffff:10.0.0.1");
	assert_int_equal(sin6->sin6_family, AF_INET6);
	assert_int_equal(ntohs(sin6->sin6_port), 6677);
	assert_memory_equal(sin6->sin6_addr.s6_addr, mapped, 16);
	assert_int_equal(p.c.addr.len, sizeof(struct sockaddr_in6));

	/* the source of a mapped connect is mapped too, so both fit one IPv6 socket */
	parse_ok(&p, "m2 connect tcp 10.0.0.2 80 src=10.0.0.1 family=6");
	assert_true(p.c.opts.src.mapped);
	assert_int_equal(p.c.opts.src.family, AF_INET6);

	/* v6only=0 is what makes a mapped address usable, so it is allowed */
	parse_ok(&p, "m3 bind tcp 10.0.0.1 80 family=6 v6only=0");
	assert_int_equal(p.c.opts.v6only, 0);

	parse_ok(&p, "m4 bind tcp any 80 family=6");
	assert_int_equal(p.c.addr.family, AF_INET6);
	assert_string_equal(p.c.addr.text, "::");

	parse_ok(&p, "m5 bind tcp 10.0.0.1 80 family=4");
	assert_int_equal(p.c.addr.family, AF_INET);
	assert_false(p.c.addr.mapped);
}

static void test_wildcard_and_scoped_addresses(void **state)
{
	struct parsed p;

	(void)state;
	parse_ok(&p, "a1 bind tcp any 0");
	assert_int_equal(p.c.addr.family, AF_INET);
	assert_string_equal(p.c.addr.text, "0.0.0.0");
	assert_int_equal(p.c.port, 0);
	parse_ok(&p, "a2 bind udp * 9");
	assert_string_equal(p.c.addr.text, "0.0.0.0");
	parse_ok(&p, "a3 bind tcp [::1] 9");
	assert_string_equal(p.c.addr.text, "::1");
	/* a scope by name is kept for the namespace where the socket is made */
	parse_ok(&p, "a4 bind tcp fe80::1%h1-eth0 9");
	assert_string_equal(p.c.addr.scope, "h1-eth0");
	assert_string_equal(p.c.addr.text, "fe80::1%h1-eth0");
}

static void test_lines_with_a_missing_field(void **state)
{
	(void)state;
	parse_bad("b1", "field 'op'");
	parse_bad("b1 bind", "field 'proto'");
	parse_bad("b1 bind tcp", "field 'addr'");
	parse_bad("b1 bind tcp 10.0.0.1", "field 'port'");
}

static void test_each_bad_field_is_named(void **state)
{
	char id63[80], id64[80], line[160];
	struct parsed p;

	(void)state;
	parse_bad("b1 listen tcp 10.0.0.1 80", "field 'op'");
	parse_bad("b1 BIND tcp 10.0.0.1 80", "field 'op'");
	parse_bad("b1 bind sctp 10.0.0.1 80", "field 'proto'");
	parse_bad("b1 bind tcp 10.0.0.300 80", "field 'addr'");
	parse_bad("b1 bind tcp local/host 80", "field 'addr'");
	parse_bad("b1 bind tcp 10.0.0.1%eth0 80", "field 'addr'");
	parse_bad("b1 bind tcp [::1 80", "field 'addr'");
	parse_bad("b1 bind tcp 10.0.0.1 65536", "field 'port'");
	parse_bad("b1 bind tcp 10.0.0.1 -1", "field 'port'");
	parse_bad("b1 bind tcp 10.0.0.1 +80", "field 'port'");
	parse_bad("b1 bind tcp 10.0.0.1 80x", "field 'port'");
	parse_bad("b1 bind tcp 10.0.0.1 0x50", "field 'port'");
	parse_bad("b1 bind tcp 10.0.0.1 99999999999999999999999", "field 'port'");
	parse_bad("b$1 bind tcp 10.0.0.1 80", "field 'id'");
	parse_bad("b\"1 bind tcp 10.0.0.1 80", "field 'id'");
	parse_bad("b\x01 bind tcp 10.0.0.1 80", "field 'id'");
	parse_bad("b\xc3\xa9 bind tcp 10.0.0.1 80", "field 'id'");

	/* ids of 63 characters are fine, 64 are refused */
	memset(id63, 'i', 63);
	id63[63] = '\0';
	memset(id64, 'i', 64);
	id64[64] = '\0';
	snprintf(line, sizeof(line), "%s bind tcp 10.0.0.1 80", id63);
	parse_ok(&p, line);
	assert_string_equal(p.c.id, id63);
	snprintf(line, sizeof(line), "%s bind tcp 10.0.0.1 80", id64);
	parse_bad(line, "field 'id'");
}

static void test_bad_options_are_named(void **state)
{
	(void)state;
	parse_bad("b1 bind tcp 10.0.0.1 80 reuse", "'reuse'");
	parse_bad("b1 bind tcp 10.0.0.1 80 family=5", "option 'family'");
	parse_bad("b1 bind tcp 10.0.0.1 80 family=", "option 'family'");
	parse_bad("b1 bind tcp ::1 80 v6only=2", "v6only");
	parse_bad("c1 connect tcp 10.0.0.1 80 timeout=0", "timeout");
	parse_bad("c1 connect tcp 10.0.0.1 80 timeout=abc", "timeout");
	parse_bad("c1 connect tcp 10.0.0.1 80 timeout=3600001", "timeout");
	parse_bad("c1 connect tcp 10.0.0.1 80 timeout=-5", "timeout");
	parse_bad("c1 connect tcp 10.0.0.1 80 sport=65536", "sport");
	parse_bad("c1 connect tcp 10.0.0.1 80 src=10.0.0.256", "option 'src'");
	parse_bad("c1 connect tcp 10.0.0.1 80 src=", "option 'src'");
	parse_bad("b1 bind tcp 10.0.0.1 80 dev=", "dev");
	parse_bad("b1 bind tcp 10.0.0.1 80 dev=abcdefghijklmnop", "dev");
	parse_bad("b1 bind tcp 10.0.0.1 80 dev=a/b", "dev");
	parse_bad("b1 bind tcp 10.0.0.1 80 family", "'family'");
}

static void test_options_that_do_not_fit_the_case(void **state)
{
	(void)state;
	/* IPV6_V6ONLY is meaningless on an IPv4 socket */
	parse_bad("b1 bind tcp 10.0.0.1 80 v6only=1", "v6only");
	parse_bad("b1 bind tcp 10.0.0.1 80 v6only=0", "v6only");
	parse_bad("b1 bind tcp any 80 v6only", "v6only");
	/* a bind has no source; a connect does not listen and needs a port */
	parse_bad("b1 bind tcp 10.0.0.1 80 src=10.0.0.2", "'src'");
	parse_bad("b1 bind tcp 10.0.0.1 80 sport=9", "'sport'");
	parse_bad("c1 connect tcp 10.0.0.1 80 nolisten", "'nolisten'");
	parse_bad("c1 connect tcp 10.0.0.1 0", "field 'port'");
	/* the source must fit the destination's family */
	parse_bad("c1 connect tcp 10.0.0.1 80 src=::1", "option 'src'");
	/* an IPv6 address on an IPv4 socket */
	parse_bad("b1 bind tcp ::1 80 family=4", "field 'addr'");
}

static void test_overlong_lines_and_too_many_fields(void **state)
{
	char line[PLAN_LINE_MAX + 2];
	struct parsed p;
	size_t n = 0;

	(void)state;
	/* a comment of exactly PLAN_LINE_MAX characters is still a comment */
	memset(line, ' ', PLAN_LINE_MAX);
	line[0] = '#';
	line[PLAN_LINE_MAX] = '\0';
	parse_at(&p, line, 1);
	assert_int_equal(p.rc, 0);
	/* one more character and the line is refused, with its number */
	line[PLAN_LINE_MAX] = 'x';
	line[PLAN_LINE_MAX + 1] = '\0';
	parse_bad(line, "longer than");

	n = (size_t)snprintf(line, sizeof(line), "b1 bind tcp 10.0.0.1 80");
	for (int i = 0; i < 40; i++)
		n += (size_t)snprintf(line + n, sizeof(line) - n, " hold");
	parse_bad(line, "fields");
}

static void test_message_carries_the_line_number(void **state)
{
	struct parsed p;

	(void)state;
	parse_at(&p, "x bind tcp 10.0.0.1 http", 12345);
	assert_int_equal(p.rc, -1);
	assert_non_null(strstr(p.err, "plan line 12345: field 'port'"));
	/* a short error buffer still gets a terminated message */
	{
		struct probe_case c;
		char small[16];

		memset(small, 'Z', sizeof(small));
		assert_int_equal(plan_parse_line("x bind tcp 1.2.3.4 http", 3, &c, small,
						 sizeof(small)),
				 -1);
		assert_non_null(memchr(small, '\0', sizeof(small)));
	}
}

static void test_apply_option_is_shared_with_the_command_line(void **state)
{
	struct probe_case c;
	char err[128];

	(void)state;
	memset(&c, 0, sizeof(c));
	c.opts = probe_opts_default();
	assert_int_equal(plan_apply_option(&c, "timeout=250", err, sizeof(err)), 0);
	assert_int_equal(c.opts.timeout_ms, 250);
	assert_int_equal(plan_apply_option(&c, "freebind", err, sizeof(err)), 0);
	assert_true(c.opts.freebind);
	assert_int_equal(plan_apply_option(&c, "timeout=", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "timeout"));
	assert_int_equal(plan_apply_option(&c, "bogus", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "'bogus'"));
}

int run_plan_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_minimal_bind_case),
		cmocka_unit_test(test_blank_and_comment_lines_are_skipped),
		cmocka_unit_test(test_fields_split_on_tabs_and_runs_of_spaces),
		cmocka_unit_test(test_crlf_line_end_is_accepted),
		cmocka_unit_test(test_every_option_is_applied),
		cmocka_unit_test(test_family_6_maps_ipv4_addresses),
		cmocka_unit_test(test_wildcard_and_scoped_addresses),
		cmocka_unit_test(test_lines_with_a_missing_field),
		cmocka_unit_test(test_each_bad_field_is_named),
		cmocka_unit_test(test_bad_options_are_named),
		cmocka_unit_test(test_options_that_do_not_fit_the_case),
		cmocka_unit_test(test_overlong_lines_and_too_many_fields),
		cmocka_unit_test(test_message_carries_the_line_number),
		cmocka_unit_test(test_apply_option_is_shared_with_the_command_line),
	};

	return cmocka_run_group_tests_name("plan", tests, NULL, NULL);
}
