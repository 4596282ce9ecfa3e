/*
 * test_addrparse.c: unit tests of the address and number parsers (lib/addr.c).
 * Addresses are numeric only; what the parser accepts is what the probe binds, so
 * each accepted form is checked down to the socket address it produces.
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
#include <net/if.h>

#include "lib/addr.h"
#include "probe_proxy.h"

int run_addr_tests(void);

/* Parses @s for @family and fails the test with the parser's message if refused. */
static void addr_ok(const char *s, int family, struct parsed_addr *a)
{
	char err[160] = "";

	if (addr_parse(s, family, a, err, sizeof(err)) != 0)
		fail_msg("'%s' was refused: %s", s, err);
}

/* Expects @s refused for @family with a non-empty, terminated message. */
static void addr_bad(const char *s, int family)
{
	struct parsed_addr a;
	char err[160] = "";

	if (addr_parse(s, family, &a, err, sizeof(err)) != -1)
		fail_msg("'%s' was accepted as %s", s, a.text);
	assert_true(err[0] != '\0');
	if (!strchr(s, '\n'))
		assert_null(strchr(err, '\n'));
}

static const struct sockaddr_in6 *six(const struct parsed_addr *a)
{
	return (const struct sockaddr_in6 *)&a->ss;
}

static void test_ipv4(void **state)
{
	struct parsed_addr a;
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&a.ss;

	(void)state;
	addr_ok("10.0.0.1", AF_UNSPEC, &a);
	assert_int_equal(a.family, AF_INET);
	assert_int_equal(a.len, sizeof(struct sockaddr_in));
	assert_int_equal(sin->sin_family, AF_INET);
	assert_int_equal(ntohl(sin->sin_addr.s_addr), 0x0a000001);
	assert_string_equal(a.text, "10.0.0.1");
	assert_false(a.mapped);
	assert_string_equal(a.scope, "");
	addr_ok("255.255.255.255", AF_INET, &a);
	assert_string_equal(a.text, "255.255.255.255");
	addr_set_port(&a, 6677);
	assert_int_equal(ntohs(sin->sin_port), 6677);
}

static void test_ipv6_is_normalised(void **state)
{
	struct parsed_addr a;

	(void)state;
	addr_ok("::1", AF_UNSPEC, &a);
	assert_int_equal(a.family, AF_INET6);
	assert_int_equal(a.len, sizeof(struct sockaddr_in6));
	assert_true(IN6_IS_ADDR_LOOPBACK(&six(&a)->sin6_addr));
	addr_ok("2001:0DB8:0:0:0:0:0:0001", AF_UNSPEC, &a);
	assert_string_equal(a.text, "2001:db8::1");
	addr_ok("[2001:db8::2]", AF_UNSPEC, &a);
	assert_string_equal(a.text, "2001:db8::2");
	addr_ok("2001:db8::3", AF_INET6, &a);
	addr_set_port(&a, 443);
	assert_int_equal(ntohs(six(&a)->sin6_port), 443);
	assert_int_equal(six(&a)->sin6_scope_id, 0);
}

static void test_ipv4_on_an_ipv6_socket_is_mapped(void **state)
{
	struct parsed_addr a;

	(void)state;
	addr_ok("192.0.2.7", AF_INET6, &a);
	assert_int_equal(a.family, AF_INET6);
	assert_true(a.mapped);
	assert_true(IN6_IS_ADDR_V4MAPPED(&six(&a)->sin6_addr));
	assert_string_equal(a.text, "::ffff:192.0.2.7");
}

static void test_ipv6_on_an_ipv4_socket_is_refused(void **state)
{
	(void)state;
	addr_bad("::1", AF_INET);
	addr_bad("fe80::1%eth0", AF_INET);
}

static void test_wildcard(void **state)
{
	struct parsed_addr a;

	(void)state;
	addr_ok("any", AF_UNSPEC, &a);
	assert_int_equal(a.family, AF_INET);
	assert_string_equal(a.text, "0.0.0.0");
	addr_ok("*", AF_INET, &a);
	assert_string_equal(a.text, "0.0.0.0");
	addr_ok("any", AF_INET6, &a);
	assert_int_equal(a.family, AF_INET6);
	assert_false(a.mapped);
	assert_true(IN6_IS_ADDR_UNSPECIFIED(&six(&a)->sin6_addr));
	assert_string_equal(a.text, "::");
	addr_ok("[*]", AF_INET6, &a);
	assert_string_equal(a.text, "::");
}

static void test_scope_by_name_is_kept_for_late_resolution(void **state)
{
	struct parsed_addr a;

	(void)state;
	addr_ok("fe80::1%h1-eth0", AF_UNSPEC, &a);
	assert_string_equal(a.scope, "h1-eth0");
	assert_string_equal(a.text, "fe80::1%h1-eth0");
	assert_int_equal(six(&a)->sin6_scope_id, 0);	/* not resolved yet */
	assert_true(addr_is_linklocal(&a));
	addr_ok("[fe80::2%veth0]", AF_UNSPEC, &a);
	assert_string_equal(a.scope, "veth0");
	assert_string_equal(a.text, "fe80::2%veth0");
}

static void test_numeric_scope_is_used_at_once(void **state)
{
	struct parsed_addr a;

	(void)state;
	addr_ok("fe80::1%3", AF_UNSPEC, &a);
	assert_int_equal(six(&a)->sin6_scope_id, 3);
	assert_string_equal(a.scope, "");	/* nothing left to resolve */
	assert_string_equal(a.text, "fe80::1%3");
	assert_int_equal(addr_resolve_scope(&a), 0);
	assert_int_equal(six(&a)->sin6_scope_id, 3);
}

static void test_resolve_scope_in_this_namespace(void **state)
{
	struct parsed_addr a;

	(void)state;
	/* every namespace has "lo" */
	addr_ok("fe80::1%lo", AF_UNSPEC, &a);
	assert_int_equal(addr_resolve_scope(&a), 0);
	assert_int_equal(six(&a)->sin6_scope_id, if_nametoindex("lo"));

	addr_ok("fe80::1%blt-nosuchif", AF_UNSPEC, &a);
	errno = 0;
	assert_int_equal(addr_resolve_scope(&a), -1);
	assert_int_equal(errno, ENODEV);

	/* addresses without a scope need nothing */
	addr_ok("10.0.0.1", AF_UNSPEC, &a);
	assert_int_equal(addr_resolve_scope(&a), 0);
}

static void test_bad_scopes(void **state)
{
	(void)state;
	addr_bad("fe80::1%", AF_UNSPEC);
	addr_bad("fe80::1%abcdefghijklmnop", AF_UNSPEC);	/* 16 > IF_NAMESIZE - 1 */
	addr_bad("10.0.0.1%eth0", AF_UNSPEC);
	addr_bad("[10.0.0.1%eth0]", AF_UNSPEC);
}

static void test_linklocal(void **state)
{
	struct parsed_addr a;

	(void)state;
	addr_ok("fe80::1", AF_UNSPEC, &a);
	assert_true(addr_is_linklocal(&a));
	addr_ok("febf::1", AF_UNSPEC, &a);
	assert_true(addr_is_linklocal(&a));
	addr_ok("fec0::1", AF_UNSPEC, &a);
	assert_false(addr_is_linklocal(&a));
	addr_ok("::1", AF_UNSPEC, &a);
	assert_false(addr_is_linklocal(&a));
	addr_ok("169.254.1.1", AF_UNSPEC, &a);
	assert_false(addr_is_linklocal(&a));
}

static void test_junk_is_refused(void **state)
{
	static const char *junk[] = {
		"", "10.0.0.300", "10.0.0", "1.2.3.4.5", "localhost", "example.com",
		"::g", ":::", "1::2::3", " 10.0.0.1", "10.0.0.1 ", "10.0.0.1:80", "[::1]:80",
		"[::1", "::1]", "[", "]", "[]", "%eth0", "%", "anything", "ANY", "**",
		"0x0a.0.0.1", "10.0.0.1\n",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
		addr_bad(junk[i], AF_UNSPEC);
}

static void test_too_long_is_refused_without_overflow(void **state)
{
	char longest[ADDR_TEXT_MAX + 50];
	char err[24];
	struct parsed_addr a;

	(void)state;
	memset(longest, '1', sizeof(longest) - 1);
	longest[sizeof(longest) - 1] = '\0';
	addr_bad(longest, AF_UNSPEC);
	/* a short message buffer is filled, terminated, and not overrun */
	memset(err, 'Z', sizeof(err));
	assert_int_equal(addr_parse(longest, AF_UNSPEC, &a, err, sizeof(err)), -1);
	assert_non_null(memchr(err, '\0', sizeof(err)));
	/* the longest real form fits: full IPv6 text with a 15-character scope */
	addr_ok("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255%abcdefghijklmno", AF_UNSPEC,
		&a);
	assert_string_equal(a.scope, "abcdefghijklmno");
}

static void test_sockaddr_format(void **state)
{
	struct parsed_addr a;
	char buf[SOCKADDR_TEXT_MAX];
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&a.ss;

	(void)state;
	addr_ok("10.0.0.2", AF_UNSPEC, &a);
	addr_set_port(&a, 40312);
	sockaddr_format((struct sockaddr *)&a.ss, buf, sizeof(buf));
	assert_string_equal(buf, "10.0.0.2:40312");

	addr_ok("::1", AF_UNSPEC, &a);
	addr_set_port(&a, 40312);
	sockaddr_format((struct sockaddr *)&a.ss, buf, sizeof(buf));
	assert_string_equal(buf, "[::1]:40312");

	addr_ok("fe80::1%lo", AF_UNSPEC, &a);
	assert_int_equal(addr_resolve_scope(&a), 0);
	addr_set_port(&a, 80);
	sockaddr_format((struct sockaddr *)&a.ss, buf, sizeof(buf));
	assert_string_equal(buf, "[fe80::1%lo]:80");

	/* an index no interface has is shown as a number */
	addr_ok("fe80::1", AF_UNSPEC, &a);
	sin6->sin6_scope_id = 999999;
	sockaddr_format((struct sockaddr *)&a.ss, buf, sizeof(buf));
	assert_string_equal(buf, "[fe80::1%999999]:0");
}

static void test_parse_ulong(void **state)
{
	unsigned long v = 12345;

	(void)state;
	assert_int_equal(parse_ulong("0", 0, 65535, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(parse_ulong("65535", 0, 65535, &v), 0);
	assert_int_equal(v, 65535);
	assert_int_equal(parse_ulong("007", 0, 10, &v), 0);
	assert_int_equal(v, 7);
	v = 42;
	assert_int_equal(parse_ulong("65536", 0, 65535, &v), -1);
	assert_int_equal(parse_ulong("0", 1, 10, &v), -1);
	assert_int_equal(parse_ulong("-1", 0, 65535, &v), -1);
	assert_int_equal(parse_ulong("+1", 0, 65535, &v), -1);
	assert_int_equal(parse_ulong(" 1", 0, 65535, &v), -1);
	assert_int_equal(parse_ulong("1 ", 0, 65535, &v), -1);
	assert_int_equal(parse_ulong("", 0, 65535, &v), -1);
	assert_int_equal(parse_ulong("0x10", 0, 65535, &v), -1);
	assert_int_equal(parse_ulong("99999999999999999999999999", 0, 65535, &v), -1);
	assert_int_equal(parse_ulong(NULL, 0, 65535, &v), -1);
	assert_int_equal(v, 42);	/* untouched on failure */
}

/* serve --proxy-to's target: ADDR:PORT, [V6]:PORT, and what is neither */
static void test_proxy_target(void **state)
{
	struct parsed_addr a;
	char err[160];

	(void)state;
	assert_int_equal(proxy_parse_target("172.17.0.2:80", &a, err, sizeof(err)), 0);
	assert_int_equal(a.family, AF_INET);
	assert_string_equal(a.text, "172.17.0.2");
	assert_int_equal(proxy_parse_target("[fd00::2]:8080", &a, err, sizeof(err)), 0);
	assert_int_equal(a.family, AF_INET6);
	assert_string_equal(a.text, "fd00::2");
	assert_int_equal(proxy_parse_target("172.17.0.2", &a, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not ADDR:PORT"));
	assert_int_equal(proxy_parse_target("172.17.0.2:0", &a, err, sizeof(err)), -1);
	assert_int_equal(proxy_parse_target("172.17.0.2:65536", &a, err, sizeof(err)), -1);
	assert_int_equal(proxy_parse_target("172.17.0.2:8x", &a, err, sizeof(err)), -1);
	assert_int_equal(proxy_parse_target(":80", &a, err, sizeof(err)), -1);
	assert_int_equal(proxy_parse_target("nohost:80", &a, err, sizeof(err)), -1);
}

int run_addr_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4),
		cmocka_unit_test(test_ipv6_is_normalised),
		cmocka_unit_test(test_ipv4_on_an_ipv6_socket_is_mapped),
		cmocka_unit_test(test_ipv6_on_an_ipv4_socket_is_refused),
		cmocka_unit_test(test_wildcard),
		cmocka_unit_test(test_scope_by_name_is_kept_for_late_resolution),
		cmocka_unit_test(test_numeric_scope_is_used_at_once),
		cmocka_unit_test(test_resolve_scope_in_this_namespace),
		cmocka_unit_test(test_bad_scopes),
		cmocka_unit_test(test_linklocal),
		cmocka_unit_test(test_junk_is_refused),
		cmocka_unit_test(test_too_long_is_refused_without_overflow),
		cmocka_unit_test(test_sockaddr_format),
		cmocka_unit_test(test_parse_ulong),
		cmocka_unit_test(test_proxy_target),
	};

	return cmocka_run_group_tests_name("addr", tests, NULL, NULL);
}
