/*
 * dnsmsg.h: reading a DNS answer (RFC 1035 wire format) as a program received it,
 * for bindlab-sys's resolve records: the question's name and type, the answer's
 * code, and the addresses of its A and AAAA records, in order.
 *
 * The input is whatever a traced program read from a socket of port 53: hostile.
 * Every read is bounds-checked against @len, a compressed name follows at most
 * DNS_JUMPS_MAX pointers, each to an earlier offset than the one it is read at (no
 * loop), a name longer than 253 characters or with a label above 63 is refused,
 * and at most DNS_RECORDS_MAX answer records are walked.  Nothing is allocated.
 */
#ifndef LIB_DNSMSG_H
#define LIB_DNSMSG_H

#include <stddef.h>
#include <stdint.h>

#define DNS_NAME_MAX 254		/* 253 characters and the NUL */
#define DNS_ADDRS_MAX 16		/* addresses kept, in order */
#define DNS_RECORDS_MAX 64		/* answer records walked */
#define DNS_JUMPS_MAX 16		/* compression pointers followed in one name */
#define DNS_TYPE_A 1
#define DNS_TYPE_AAAA 28

struct dns_addr {
	int family;			/* AF_INET or AF_INET6 */
	unsigned char bytes[16];	/* 4 or 16 of them, network order */
};

struct dns_answer {
	uint16_t id;
	int rcode;			/* 0 NOERROR, 2 SERVFAIL, 3 NXDOMAIN, 5 REFUSED ... */
	int qtype;			/* the question's type: 1 A, 28 AAAA, ... */
	int truncated;			/* TC: the program will ask again over TCP */
	char name[DNS_NAME_MAX];	/* the question's name, dotted, no final dot */
	size_t n;			/* addresses of A/AAAA records of class IN */
	struct dns_addr addrs[DNS_ADDRS_MAX];
};

/*
 * Reads the DNS response @buf of @len bytes into @out.  Returns 0, or -1 when it
 * is not a well-formed response to one question (a query, no question, a name or
 * record cut short or malformed): then @out says nothing.  Answer records after a
 * malformed one are not read; those before it are kept.
 */
int dns_answer_parse(const unsigned char *buf, size_t len, struct dns_answer *out);

/* "NOERROR", "SERVFAIL", "NXDOMAIN", "REFUSED" ..., "RCODE?" for another. */
const char *dns_rcode_name(int rcode);

/* "A", "AAAA", else NULL. */
const char *dns_type_name(int qtype);

#endif
