/*
 * test_plan_udp.c: unit tests of the plan lines and records of the UDP calls
 * (join, mcast-if, send) and of the options they brought (if=, pktinfo=,
 * bindnoport): what each line means, which lines are refused and with which
 * message, and the records they give.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>

#include "json_valid.h"
#include "probe_plan.h"
#include "probe_record.h"

int run_plan_udp_tests(void);

/* Parses @line and fails the test with the parser's message unless it is a case. */
static void parse_ok(const char *line, struct probe_case *c)
{
	char err[256];

	if (plan_parse_line(line, 1, c, err, sizeof(err)) != 1)
		fail_msg("'%s' was refused: %s", line, err);
}

/* Parses @line as line 4 and expects it refused with a message naming @what. */
static void parse_bad(const char *line, const char *what)
{
	struct probe_case c;
	char err[256] = "";

	if (plan_parse_line(line, 4, &c, err, sizeof(err)) != -1)
		fail_msg("'%s' was accepted, expected an error naming %s", line, what);
	if (strncmp(err, "plan line 4: ", 13) != 0 || !strstr(err, what))
		fail_msg("'%s': message does not name %s: '%s'", line, what, err);
}

static void test_join_lines(void **state)
{
	struct probe_case c;
	const struct sockaddr_in *in;

	(void)state;
	parse_ok("j1 join udp 239.1.1.1 5000 if=10.0.0.1", &c);
	assert_int_equal(c.op, OP_JOIN);
	assert_int_equal(c.proto, PROTO_UDP);
	assert_int_equal(c.port, 5000);
	assert_int_equal(c.opts.iface.kind, IFACE_ADDR);
	in = (const struct sockaddr_in *)&c.opts.iface.addr.ss;
	assert_int_equal(ntohl(in->sin_addr.s_addr), 0x0a000001);
	assert_string_equal(c.opts.iface.text, "10.0.0.1");

	parse_ok("j2 join udp 239.1.1.1 0 if=h1-eth0 src=239.1.1.1 hold", &c);
	assert_int_equal(c.opts.iface.kind, IFACE_NAME);
	assert_string_equal(c.opts.iface.name, "h1-eth0");
	assert_true(c.opts.has_src && c.opts.hold);

	parse_ok("j3 join udp ff02::1:3 0 if=7", &c);
	assert_int_equal(c.addr.family, AF_INET6);
	assert_int_equal(c.opts.iface.kind, IFACE_INDEX);
	assert_int_equal(c.opts.iface.index, 7);

	/* no if=: the kernel chooses by the route to the group */
	parse_ok("j4 join udp 239.1.1.1 0", &c);
	assert_int_equal(c.opts.iface.kind, IFACE_NONE);
	assert_string_equal(c.opts.iface.text, "");
}

static void test_mcast_if_and_send_lines(void **state)
{
	struct probe_case c;

	(void)state;
	parse_ok("m1 mcast-if udp 239.1.1.1 0 if=10.0.0.9 freebind dev=eth0", &c);
	assert_int_equal(c.op, OP_MCAST_IF);
	assert_int_equal(c.opts.iface.kind, IFACE_ADDR);
	assert_true(c.opts.freebind);
	assert_string_equal(c.opts.dev, "eth0");

	parse_ok("s1 send udp 10.0.0.3 5000 src=10.0.0.2 sport=4000 bindnoport", &c);
	assert_int_equal(c.op, OP_SEND);
	assert_true(c.opts.has_src && c.opts.bind_no_port);
	assert_int_equal(c.opts.sport, 4000);
	assert_false(c.opts.has_pktinfo);

	parse_ok("s2 send udp fd00::3 5000 pktinfo=fd00::2 if=eth1", &c);
	assert_true(c.opts.has_pktinfo);
	assert_int_equal(c.opts.pktinfo.family, AF_INET6);
	assert_string_equal(c.opts.pktinfo.text, "fd00::2");
	assert_int_equal(c.opts.iface.kind, IFACE_NAME);

	/* bindnoport is an option of every socket */
	parse_ok("b1 bind tcp 10.0.0.1 0 bindnoport", &c);
	assert_true(c.opts.bind_no_port);
	parse_ok("c1 connect tcp 10.0.0.1 80 src=10.0.0.2 bindnoport", &c);
	assert_true(c.opts.bind_no_port);
}

static void test_udp_lines_that_do_not_fit(void **state)
{
	(void)state;
	parse_bad("j1 join tcp 239.1.1.1 0", "field 'proto'");
	parse_bad("m1 mcast-if tcp 239.1.1.1 0", "field 'proto'");
	parse_bad("s1 send tcp 10.0.0.1 80", "field 'proto'");
	parse_bad("s1 send udp 10.0.0.1 0", "field 'port'");
	parse_bad("j1 joins udp 239.1.1.1 0", "field 'op'");
	/* an interface address is IPv4's way; IPv6 joins take an index */
	parse_bad("j1 join udp ff02::1 0 if=10.0.0.1", "option 'if'");
	parse_bad("j1 join udp 239.1.1.1 0 if=fe80::1", "option 'if'");
	parse_bad("s1 send udp 10.0.0.1 80 if=10.0.0.2", "option 'if'");
	parse_bad("j1 join udp 239.1.1.1 0 if=", "'if='");
	parse_bad("j1 join udp 239.1.1.1 0 if=a/b", "'if=a/b'");
	parse_bad("j1 join udp 239.1.1.1 0 if=abcdefghijklmnop", "'if=");
	parse_bad("j1 join udp 239.1.1.1 0 if=0", "'if=0'");
	/* each option where it means something */
	parse_bad("b1 bind udp 10.0.0.1 0 if=eth0", "option 'if'");
	parse_bad("c1 connect udp 10.0.0.1 80 if=eth0", "option 'if'");
	parse_bad("j1 join udp 239.1.1.1 0 pktinfo=10.0.0.1", "option 'pktinfo'");
	parse_bad("c1 connect udp 10.0.0.1 80 pktinfo=10.0.0.1", "option 'pktinfo'");
	parse_bad("j1 join udp 239.1.1.1 0 sport=5", "option 'sport'");
	parse_bad("j1 join udp 239.1.1.1 0 nolisten", "option 'nolisten'");
	parse_bad("s1 send udp 10.0.0.1 80 pktinfo=::1", "option 'pktinfo'");
	parse_bad("s1 send udp 10.0.0.1 80 pktinfo=", "option 'pktinfo'");
}

static void test_iface_kinds(void **state)
{
	struct probe_iface i;

	(void)state;
	assert_int_equal(plan_parse_iface("10.0.0.1", &i), 0);
	assert_int_equal(i.kind, IFACE_ADDR);
	assert_int_equal(plan_parse_iface("any", &i), 0);	/* INADDR_ANY: "no address" */
	assert_int_equal(i.kind, IFACE_ADDR);
	assert_int_equal(plan_parse_iface("12", &i), 0);
	assert_int_equal(i.kind, IFACE_INDEX);
	assert_int_equal(i.index, 12);
	assert_int_equal(plan_parse_iface("eth0.100", &i), 0);
	assert_int_equal(i.kind, IFACE_NAME);
	assert_int_equal(plan_parse_iface("2147483648", &i), -1);	/* digits: an index */
	assert_int_equal(plan_parse_iface("", &i), -1);
	assert_int_equal(plan_parse_iface("a b", &i), -1);
	assert_int_equal(plan_parse_iface("eth0%1", &i), -1);
	assert_int_equal(plan_parse_iface("0", &i), -1);
	assert_string_equal(plan_op_name(OP_MCAST_IF), "mcast-if");
}

/* The record of plan line @line with result @r, checked to be one JSON line. */
static void record_of(const char *line, const struct probe_result *r, char *out, size_t len)
{
	struct probe_case c;

	parse_ok(line, &c);
	record_format(out, len, "h1", &c, r);
	if (!json_valid_object_line(out))
		fail_msg("record is not one JSON object line: %s", out);
}

static void test_records_of_the_udp_calls(void **state)
{
	struct probe_result r = { .err = ENODEV, .call = "setsockopt(IP_ADD_MEMBERSHIP)" };
	char out[RECORD_MAX];

	(void)state;
	record_of("j1 join udp 239.1.1.1 0 if=10.0.0.9", &r, out, sizeof(out));
	assert_non_null(strstr(out, "\"op\":\"join\""));
	assert_non_null(strstr(out, "\"error\":\"ENODEV\""));
	assert_non_null(strstr(out, "\"call\":\"setsockopt(IP_ADD_MEMBERSHIP)\""));
	assert_non_null(strstr(out, "\"if\":\"10.0.0.9\",\"ifindex\":null,\"src\":null}"));

	r = (struct probe_result){ .ifindex = 3 };
	record_of("m1 mcast-if udp ff02::1 0 if=eth0 bindnoport", &r, out, sizeof(out));
	assert_non_null(strstr(out, "\"op\":\"mcast-if\""));
	assert_non_null(strstr(out, "\"options\":[\"bindnoport\"]"));
	assert_non_null(strstr(out, "\"if\":\"eth0\",\"ifindex\":3,"));
	assert_null(strstr(out, "\"pktinfo\""));

	r = (struct probe_result){ .err = ENETUNREACH, .call = "sendmsg(IP_PKTINFO)" };
	snprintf(r.local, sizeof(r.local), "0.0.0.0:40000");
	record_of("s1 send udp 10.0.0.3 53 pktinfo=10.0.0.7", &r, out, sizeof(out));
	assert_non_null(strstr(out, "\"op\":\"send\""));
	assert_non_null(strstr(out, "\"error\":\"ENETUNREACH\""));
	assert_non_null(strstr(out, "\"src\":null,\"sport\":0,\"pktinfo\":\"10.0.0.7\","
				    "\"local\":\"0.0.0.0:40000\"}"));
}

int run_plan_udp_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_join_lines),
		cmocka_unit_test(test_mcast_if_and_send_lines),
		cmocka_unit_test(test_udp_lines_that_do_not_fit),
		cmocka_unit_test(test_iface_kinds),
		cmocka_unit_test(test_records_of_the_udp_calls),
	};

	return cmocka_run_group_tests_name("plan-udp", tests, NULL, NULL);
}
