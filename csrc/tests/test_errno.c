/*
 * test_errno.c: unit tests of the errno table (lib/errnames.c).  Records carry the
 * symbolic name, and scripts and lab sheets match on it, so every name must
 * round-trip and the numbers a socket call gives must all be named.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <errno.h>

#include "lib/errnames.h"

int run_errno_tests(void);

/* Errnos are small on Linux (EHWPOISON is 133); this bound leaves a margin. */
#define ERRNO_SCAN_MAX 4096

static void test_the_socket_errors_have_their_names(void **state)
{
	static const struct {
		int num;
		const char *name;
	} expected[] = {
		{ EADDRNOTAVAIL, "EADDRNOTAVAIL" }, { EADDRINUSE, "EADDRINUSE" },
		{ ECONNREFUSED, "ECONNREFUSED" },   { ETIMEDOUT, "ETIMEDOUT" },
		{ ENETUNREACH, "ENETUNREACH" },	    { EHOSTUNREACH, "EHOSTUNREACH" },
		{ EACCES, "EACCES" },		    { EPERM, "EPERM" },
		{ EINVAL, "EINVAL" },		    { EAFNOSUPPORT, "EAFNOSUPPORT" },
		{ EAGAIN, "EAGAIN" },		    { EALREADY, "EALREADY" },
		{ EINPROGRESS, "EINPROGRESS" },	    { EISCONN, "EISCONN" },
		{ ENOTCONN, "ENOTCONN" },	    { ECONNRESET, "ECONNRESET" },
		{ ECONNABORTED, "ECONNABORTED" },   { EPIPE, "EPIPE" },
		{ ENOBUFS, "ENOBUFS" },		    { ENOMEM, "ENOMEM" },
		{ EMFILE, "EMFILE" },		    { ENFILE, "ENFILE" },
		{ EBADF, "EBADF" },		    { ENOTSOCK, "ENOTSOCK" },
		{ EINTR, "EINTR" },		    { EMSGSIZE, "EMSGSIZE" },
		{ EOPNOTSUPP, "EOPNOTSUPP" },	    { ENOPROTOOPT, "ENOPROTOOPT" },
		{ EPROTONOSUPPORT, "EPROTONOSUPPORT" }, { EPROTOTYPE, "EPROTOTYPE" },
		{ ESOCKTNOSUPPORT, "ESOCKTNOSUPPORT" }, { ENETDOWN, "ENETDOWN" },
		{ EHOSTDOWN, "EHOSTDOWN" },	    { EDESTADDRREQ, "EDESTADDRREQ" },
		{ ENODEV, "ENODEV" },		    { ENOENT, "ENOENT" },
		{ EFAULT, "EFAULT" },		    { ENETRESET, "ENETRESET" },
		{ ESHUTDOWN, "ESHUTDOWN" },	    { EPROTO, "EPROTO" },
		{ ENONET, "ENONET" },		    { ENOTUNIQ, "ENOTUNIQ" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++) {
		const char *name = errno_name(expected[i].num);

		if (!name || strcmp(name, expected[i].name) != 0)
			fail_msg("errno %d: name %s, expected %s", expected[i].num,
				 name ? name : "(none)", expected[i].name);
		assert_int_equal(errno_from_name(expected[i].name), expected[i].num);
	}
}

static void test_errno_99_is_eaddrnotavail(void **state)
{
	(void)state;
	/* the project's reason to exist: Linux's number, not just the libc macro */
	assert_int_equal(EADDRNOTAVAIL, 99);
	assert_string_equal(errno_name(99), "EADDRNOTAVAIL");
	assert_int_equal(errno_from_name("EADDRNOTAVAIL"), 99);
	assert_int_equal(errno_from_name("EADDRINUSE"), 98);
}

static void test_aliases_get_one_name(void **state)
{
	(void)state;
	/* EWOULDBLOCK == EAGAIN and ENOTSUP == EOPNOTSUPP on Linux: one name each */
	assert_string_equal(errno_name(EWOULDBLOCK), "EAGAIN");
	assert_string_equal(errno_name(ENOTSUP), "EOPNOTSUPP");
}

static void test_unknown_numbers_print_as_digits(void **state)
{
	char buf[16];

	(void)state;
	assert_null(errno_name(0));
	assert_null(errno_name(-1));
	assert_null(errno_name(ERRNO_SCAN_MAX));
	assert_string_equal(errno_name_or_number(ERRNO_SCAN_MAX, buf, sizeof(buf)), "4096");
	assert_string_equal(errno_name_or_number(-7, buf, sizeof(buf)), "-7");
	assert_string_equal(errno_name_or_number(99, buf, sizeof(buf)), "EADDRNOTAVAIL");
	assert_int_equal(errno_from_name("ENOSUCHTHING"), -1);
	assert_int_equal(errno_from_name(""), -1);
	assert_int_equal(errno_from_name("eaddrnotavail"), -1);
}

static void test_no_duplicate_numbers_or_names(void **state)
{
	size_t named = 0;

	(void)state;
	for (int num = -1; num <= ERRNO_SCAN_MAX; num++) {
		const char *name = errno_name(num);

		if (!name)
			continue;
		named++;
		/* a name shared by two numbers would map back to only one of them */
		if (errno_from_name(name) != num)
			fail_msg("errno %d is named %s, which maps back to %d", num, name,
				 errno_from_name(name));
		assert_true(name[0] == 'E');
		assert_true(strlen(name) > 1);
	}
	/* every entry was reached by exactly one number: no number is in twice */
	assert_int_equal(named, errno_table_size());
	/* and the table is the whole of Linux's list, not a handful */
	assert_true(named >= 130);
}

int run_errno_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_the_socket_errors_have_their_names),
		cmocka_unit_test(test_errno_99_is_eaddrnotavail),
		cmocka_unit_test(test_aliases_get_one_name),
		cmocka_unit_test(test_unknown_numbers_print_as_digits),
		cmocka_unit_test(test_no_duplicate_numbers_or_names),
	};

	return cmocka_run_group_tests_name("errno", tests, NULL, NULL);
}
