/*
 * test_names.c: unit tests of name cases (probe_resolve.c): which ADDR texts are
 * names, how a plan line and its options make a name case, what they refuse, and
 * the record of a name that resolved and of one that did not.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <netdb.h>

#include "json_valid.h"
#include "probe_plan.h"
#include "probe_record.h"
#include "probe_name.h"
#include "probe_resolve.h"

int run_names_tests(void);

/* Parses plan line @line into @c; returns plan_parse_line()'s value, message in @err. */
static int parse(const char *line, struct probe_case *c, char *err, size_t errlen)
{
	memset(c, 0, sizeof(*c));
	err[0] = '\0';
	return plan_parse_line(line, 3, c, err, errlen);
}

static void test_which_texts_are_names(void **state)
{
	char long_name[300];

	(void)state;
	assert_true(name_valid("localhost"));
	assert_true(name_valid("db-1.example.test"));
	assert_true(name_valid("h2"));
	assert_true(name_valid("_srv"));
	assert_false(name_valid(""));
	assert_false(name_valid("10.0.0.300"));	/* a malformed address, not a name */
	assert_false(name_valid("1234"));
	assert_false(name_valid("local host"));
	assert_false(name_valid("h1%eth0"));
	assert_false(name_valid("a:b"));
	memset(long_name, 'a', 253);
	long_name[253] = '\0';
	assert_true(name_valid(long_name));
	long_name[253] = 'a';
	long_name[254] = '\0';
	assert_false(name_valid(long_name));
}

static void test_a_plan_line_takes_a_name_with_each_operation_default(void **state)
{
	struct probe_case c;
	char err[256];

	(void)state;
	assert_int_equal(parse("b1 bind tcp localhost 6379", &c, err, sizeof(err)), 1);
	assert_string_equal(c.name.text, "localhost");
	assert_false(c.name.each);	/* a server binds the first result */
	assert_false(c.name.addrconfig);
	assert_int_equal(c.name.family, AF_UNSPEC);
	assert_int_equal(parse("c1 connect tcp db.test 5432", &c, err, sizeof(err)), 1);
	assert_true(c.name.each);	/* a client tries each result */
	assert_int_equal(parse("c2 connect udp db.test 53 resolve=first addrconfig family=6", &c,
			       err, sizeof(err)), 1);
	assert_false(c.name.each);
	assert_true(c.name.addrconfig);
	assert_int_equal(c.name.family, AF_INET6);
	assert_int_equal(parse("b2 bind tcp localhost 80 resolve=each family=any hold", &c, err,
			       sizeof(err)), 1);
	assert_true(c.name.each);
	assert_int_equal(c.name.family, AF_UNSPEC);
	assert_int_equal(parse("b4 bind tcp localhost 80 resolve=all", &c, err, sizeof(err)), 1);
	assert_true(c.name.all);	/* nginx, asyncio: every result */
	assert_false(c.name.each);
	/* a numeric ADDR stays numeric: no name */
	assert_int_equal(parse("b3 bind tcp 10.0.0.1 80", &c, err, sizeof(err)), 1);
	assert_string_equal(c.name.text, "");
}

static void test_names_are_refused_where_they_do_not_fit(void **state)
{
	static const struct {
		const char *line, *what;
	} bad[] = {
		{ "j1 join udp mcast.test 0", "field 'addr'" },
		{ "s1 send udp peer.test 9", "field 'addr'" },
		{ "b1 bind tcp local!host 80", "field 'addr'" },
		{ "b1 bind tcp 10.0.0.1 80 addrconfig", "option 'addrconfig'" },
		{ "b1 bind tcp 10.0.0.1 80 resolve=each", "option 'resolve'" },
		{ "b1 bind tcp localhost 80 resolve=some", "option 'resolve'" },
		{ "c1 connect tcp localhost 80 resolve=all", "option 'resolve=all'" },
		{ "b1 bind tcp localhost 80 family=5", "option 'family'" },
		{ "c1 connect tcp localhost 80 hold", "option 'hold'" },
		{ "c1 connect tcp localhost 80 v6only=1", "v6only" },
	};
	struct probe_case c;
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse(bad[i].line, &c, err, sizeof(err)) != -1)
			fail_msg("'%s' was accepted", bad[i].line);
		if (!strstr(err, bad[i].what))
			fail_msg("'%s': '%s' does not name %s", bad[i].line, err, bad[i].what);
	}
}

static void test_the_record_of_a_name_that_did_not_resolve(void **state)
{
	struct probe_case c;
	struct probe_result r = { 0 };
	struct name_outcome o;
	char err[256], line[RECORD_MAX];

	(void)state;
	assert_int_equal(parse("c1 connect tcp nowhere.test 80", &c, err, sizeof(err)), 1);
	memset(&o, 0, sizeof(o));
	o.gai = EAI_NONAME;
	name_record_format(line, sizeof(line), "h1", &c, &r, &o);
	assert_true(json_valid_object_line(line));
	assert_non_null(strstr(line, "\"addr\":null"));
	assert_non_null(strstr(line, "\"ok\":false,\"errno\":0,\"error\":\"EAI_NONAME\""));
	assert_non_null(strstr(line, "\"call\":\"getaddrinfo\""));
	assert_non_null(strstr(line, "\"name\":\"nowhere.test\""));
	assert_non_null(strstr(line, "\"resolved\":[],\"attempts\":[]"));
	assert_string_equal(gai_name(EAI_AGAIN), "EAI_AGAIN");
	assert_string_equal(gai_name(12345), "EAI_?");
}

/* "localhost" comes from the machine's /etc/hosts: the record of a bind
 * by name says the list, the try, and the address that gave the outcome. */
static void test_a_bind_by_name_records_the_address_it_used(void **state)
{
	struct probe_case c, at;
	struct probe_result r;
	struct name_outcome o;
	char err[256], line[RECORD_MAX];
	int fd;

	(void)state;
	assert_int_equal(parse("b1 bind udp localhost 0", &c, err, sizeof(err)), 1);
	fd = name_bind(&c, &o, &at, &r);
	if (o.gai) {	/* a machine whose /etc/hosts has no localhost */
		print_message("skipped: localhost does not resolve on this machine (%s)\n",
			      gai_strerror(o.gai));
		skip();
	}
	assert_true(o.n >= 1);
	assert_int_equal(o.tried, 1);
	assert_string_equal(at.addr.text, o.resolved[0].text);
	name_record_format(line, sizeof(line), "h1", &at, &r, &o);
	assert_true(json_valid_object_line(line));
	assert_non_null(strstr(line, "\"resolve\":\"first\""));
	if (fd >= 0)
		close(fd);
}

int run_names_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_which_texts_are_names),
		cmocka_unit_test(test_a_plan_line_takes_a_name_with_each_operation_default),
		cmocka_unit_test(test_names_are_refused_where_they_do_not_fit),
		cmocka_unit_test(test_the_record_of_a_name_that_did_not_resolve),
		cmocka_unit_test(test_a_bind_by_name_records_the_address_it_used),
	};

	return cmocka_run_group_tests_name("names", tests, NULL, NULL);
}
