/*
 * fuzz_addr.c: libFuzzer target for the address parser (addr_parse) and the
 * socket address formatter.  The first byte picks the family asked for (unspec,
 * IPv4, IPv6), the rest is the address text.  Besides the sanitizers' findings it
 * traps when a parse breaks the contract: a refusal without a message, or an
 * accepted address whose normalised text does not parse back to the same socket
 * address (the record shows that text, so it must mean what was bound).
 *
 * Built and run by `make fuzz` (clang -fsanitize=fuzzer,address,undefined).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/addr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Parses @text for @family and checks the result; traps on a contract violation. */
static void check_addr(const char *text, int family)
{
	struct parsed_addr a, back;
	char err[128], formatted[SOCKADDR_TEXT_MAX];
	int back_family;

	err[0] = '\0';
	if (addr_parse(text, family, &a, err, sizeof(err)) < 0) {
		if (err[0] == '\0' || !memchr(err, '\0', sizeof(err)))
			__builtin_trap();
		return;
	}
	if (strlen(a.text) >= sizeof(a.text) || strlen(a.scope) >= sizeof(a.scope))
		__builtin_trap();
	if ((family == AF_INET && a.family != AF_INET) ||
	    (family == AF_INET6 && a.family != AF_INET6))
		__builtin_trap();
	if (a.family == AF_INET6 && a.len != sizeof(struct sockaddr_in6))
		__builtin_trap();
	if (a.family == AF_INET && a.len != sizeof(struct sockaddr_in))
		__builtin_trap();

	/* the normalised text names the same address */
	back_family = a.mapped ? AF_INET6 : AF_UNSPEC;
	if (addr_parse(a.text, back_family, &back, err, sizeof(err)) < 0)
		__builtin_trap();
	if (back.family != a.family || strcmp(back.text, a.text) != 0 ||
	    strcmp(back.scope, a.scope) != 0)
		__builtin_trap();
	if (a.family == AF_INET6) {
		const struct sockaddr_in6 *x = (const struct sockaddr_in6 *)&a.ss;
		const struct sockaddr_in6 *y = (const struct sockaddr_in6 *)&back.ss;

		if (memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) != 0 ||
		    x->sin6_scope_id != y->sin6_scope_id)
			__builtin_trap();
	} else {
		const struct sockaddr_in *x = (const struct sockaddr_in *)&a.ss;
		const struct sockaddr_in *y = (const struct sockaddr_in *)&back.ss;

		if (x->sin_addr.s_addr != y->sin_addr.s_addr)
			__builtin_trap();
	}
	addr_set_port(&a, 65535);
	sockaddr_format((const struct sockaddr *)&a.ss, formatted, sizeof(formatted));
	if (strlen(formatted) >= sizeof(formatted))
		__builtin_trap();
	(void)addr_is_linklocal(&a);
}

/* libFuzzer's entry point: one input, checked as the file's header says.  Traps
 * on a broken contract; returns 0 (inputs are never rejected). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int families[] = { AF_UNSPEC, AF_INET, AF_INET6 };
	char *text;

	if (size == 0)
		return 0;
	text = malloc(size);
	if (!text)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	check_addr(text, families[data[0] % 3]);
	free(text);
	return 0;
}
