/*
 * addr.h: numeric addresses and ports as the probes take them.
 *
 * Addresses are numeric only (no DNS: a probe must test the address it was given,
 * not what a resolver made of it).  Accepted forms: "10.0.0.1", "::1", "[::1]",
 * "fe80::1%h1-eth0" (scope by interface name or number), "any" / "*" (the wildcard
 * of the requested family).
 */
#ifndef LIB_ADDR_H
#define LIB_ADDR_H

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define ADDR_TEXT_MAX (INET6_ADDRSTRLEN + IF_NAMESIZE + 4)
#define SOCKADDR_TEXT_MAX (ADDR_TEXT_MAX + 10)

struct parsed_addr {
	struct sockaddr_storage ss;	/* port filled in by addr_set_port() */
	socklen_t len;
	int family;			/* AF_INET or AF_INET6 */
	bool mapped;			/* IPv4 given, used as ::ffff:a.b.c.d */
	char scope[IF_NAMESIZE];	/* interface name of a %scope, resolved late */
	char text[ADDR_TEXT_MAX];	/* normalised form, with %scope */
};

/*
 * Parses @s into @out.  @family is AF_UNSPEC (take what the text says), AF_INET or
 * AF_INET6 (an IPv4 address becomes ::ffff:a.b.c.d).  A named scope is kept as text
 * and resolved by addr_resolve_scope() in the namespace where the socket is made.
 * Returns 0, or -1 with a message in @err ("'10.0.0.300' is not an IPv4 or IPv6 address").
 */
int addr_parse(const char *s, int family, struct parsed_addr *out, char *err, size_t errlen);

/* Sets the port of a parsed address. */
void addr_set_port(struct parsed_addr *a, unsigned port);

/* Turns a named scope into its interface index here.  Returns 0, or -1 with errno
 * ENODEV when no interface of this namespace has that name. */
int addr_resolve_scope(struct parsed_addr *a);

/* True for fe80::/10 (link-local unicast), which needs a scope to be bound. */
bool addr_is_linklocal(const struct parsed_addr *a);

/* The IPv6 scope id of @a (0: none, or IPv4). */
uint32_t addr_scope_id(const struct parsed_addr *a);

/* "10.0.0.1:6677" or "[fe80::1%eth0]:80" for any socket address. */
void sockaddr_format(const struct sockaddr *sa, char *buf, size_t len);

/* Parses a decimal number in [@min, @max] with no sign, spaces or trailing text.
 * Returns 0, or -1 (the caller names the field in its message). */
int parse_ulong(const char *s, unsigned long min, unsigned long max, unsigned long *out);

#endif
