/*
 * test_dnsmsg.c: unit tests of the DNS answer reader (lib/dnsmsg.c) behind
 * bindtrace-sys's resolve records: an answer with a CNAME and compressed names,
 * NXDOMAIN, and what hostile input must never get past it (a pointer loop, a
 * forward pointer, a record cut short, a label past the end, a query).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "lib/dnsmsg.h"

int run_dnsmsg_tests(void);

/* The answer dnsmasq gives for api.example.test A: a CNAME to web.example.test
 * (its name compressed), then web's A record 10.0.0.2 and another, 10.0.0.5. */
static const unsigned char ANSWER[] = {
	0x12, 0x34, 0x81, 0x80, 0, 1, 0, 3, 0, 0, 0, 0,
	3, 'a', 'p', 'i', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 4, 't', 'e', 's', 't', 0,
	0, 1, 0, 1,
	/* api CNAME web.example.test: web + pointer to "example.test" at 16 */
	0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 6, 3, 'w', 'e', 'b', 0xc0, 16,
	/* web.example.test (pointer to 46) A 10.0.0.2 */
	0xc0, 46, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 0, 0, 2,
	0xc0, 46, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 0, 0, 5,
};

static void test_an_answer_with_a_cname(void **state)
{
	struct dns_answer a;
	static const unsigned char two[] = { 10, 0, 0, 2 }, five[] = { 10, 0, 0, 5 };

	(void)state;
	assert_int_equal(dns_answer_parse(ANSWER, sizeof(ANSWER), &a), 0);
	assert_string_equal(a.name, "api.example.test");
	assert_int_equal(a.qtype, DNS_TYPE_A);
	assert_int_equal(a.rcode, 0);
	assert_int_equal(a.id, 0x1234);
	assert_int_equal(a.n, 2);
	assert_int_equal(a.addrs[0].family, AF_INET);
	assert_memory_equal(a.addrs[0].bytes, two, 4);
	assert_memory_equal(a.addrs[1].bytes, five, 4);
	assert_string_equal(dns_rcode_name(a.rcode), "NOERROR");
	assert_string_equal(dns_type_name(a.qtype), "A");
}

static void test_nxdomain_and_aaaa(void **state)
{
	unsigned char m[sizeof(ANSWER)];
	struct dns_answer a;

	(void)state;
	memcpy(m, ANSWER, sizeof(m));
	m[3] = 0x83;			/* NXDOMAIN */
	m[7] = 0;			/* no answers */
	m[31] = DNS_TYPE_AAAA;
	assert_int_equal(dns_answer_parse(m, 34, &a), 0);
	assert_int_equal(a.rcode, 3);
	assert_int_equal(a.n, 0);
	assert_string_equal(dns_rcode_name(a.rcode), "NXDOMAIN");
	assert_string_equal(dns_type_name(a.qtype), "AAAA");
	assert_string_equal(dns_rcode_name(9), "RCODE?");
}

static void test_hostile_input_is_refused_or_cut(void **state)
{
	unsigned char m[sizeof(ANSWER)];
	struct dns_answer a;
	size_t n;

	(void)state;
	for (n = 0; n < 34; n++)	/* every cut inside the question */
		assert_int_equal(dns_answer_parse(ANSWER, n, &a), -1);
	for (n = 34; n < sizeof(ANSWER); n++) {	/* cut in the answers: those before */
		assert_int_equal(dns_answer_parse(ANSWER, n, &a), 0);
		assert_true(a.n <= 1);
	}
	memcpy(m, ANSWER, sizeof(m));
	m[2] = 0x01;			/* a query, not a response */
	assert_int_equal(dns_answer_parse(m, sizeof(m), &a), -1);
	memcpy(m, ANSWER, sizeof(m));
	m[12] = 0xc0;			/* the question's name points at itself */
	m[13] = 12;
	assert_int_equal(dns_answer_parse(m, sizeof(m), &a), -1);
	memcpy(m, ANSWER, sizeof(m));
	m[12] = 0xc0;			/* ... or forward */
	m[13] = 40;
	assert_int_equal(dns_answer_parse(m, sizeof(m), &a), -1);
	memcpy(m, ANSWER, sizeof(m));
	m[12] = 63;			/* a label past the end */
	assert_int_equal(dns_answer_parse(m, 40, &a), -1);
	memcpy(m, ANSWER, sizeof(m));
	m[45] = 0xff;			/* an rdlength past the end: no address */
	assert_int_equal(dns_answer_parse(m, sizeof(m), &a), 0);
	assert_int_equal(a.n, 0);
	assert_int_equal(dns_answer_parse(NULL, 0, &a), -1);
}

int run_dnsmsg_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_an_answer_with_a_cname),
		cmocka_unit_test(test_nxdomain_and_aaaa),
		cmocka_unit_test(test_hostile_input_is_refused_or_cut),
	};

	return cmocka_run_group_tests_name("dnsmsg", tests, NULL, NULL);
}
