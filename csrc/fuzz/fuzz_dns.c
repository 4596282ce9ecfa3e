/*
 * fuzz_dns.c: libFuzzer target for the DNS answer reader (lib/dnsmsg.c) that
 * bindtrace-sys runs on whatever a traced program read from port 53.  Besides the
 * sanitizers' findings it traps when a result breaks the contract: a name that is
 * not NUL-terminated within its buffer or holds a byte a record must not carry,
 * more addresses than kept, an address of another family.
 *
 * Built and run by `make fuzz` (clang -fsanitize=fuzzer,address,undefined).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/dnsmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* libFuzzer's entry point: one input, read and checked; returns 0. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dns_answer a;
	size_t i, n;

	if (dns_answer_parse(data, size, &a) < 0)
		return 0;
	n = strnlen(a.name, sizeof(a.name));
	if (n >= sizeof(a.name) || a.n > DNS_ADDRS_MAX)
		__builtin_trap();
	for (i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.?",
			    a.name[i]))
			__builtin_trap();
	for (i = 0; i < a.n; i++)
		if (a.addrs[i].family != AF_INET && a.addrs[i].family != AF_INET6)
			__builtin_trap();
	(void)dns_rcode_name(a.rcode);
	(void)dns_type_name(a.qtype);
	return 0;
}
