/*
 * probe_case.h: one probe case (a bind, a connect, a multicast join, a multicast
 * interface, a UDP send) and its result.
 *
 * The command line (`netprobe bind ...`) and a plan line (`netprobe batch`) both
 * produce a struct probe_case; the runners fill a struct probe_result; the record
 * writer (probe_record.h) turns the pair into one JSON line, whose fields are
 * listed there and in docs/netprobe.md, "The record".
 */
#ifndef PROBE_CASE_H
#define PROBE_CASE_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/addr.h"

#define CASE_ID_MAX 64
#define DEFAULT_TIMEOUT_MS 1000
/* retry=S every=MS (probe_retry.h): the pause between two tries by default, the
 * longest budget, and the most tries one case may make (its record lists each). */
#define DEFAULT_EVERY_MS 100
#define RETRY_MAX_MS (600 * 1000)
#define TRIES_MAX 100
/* delay=MS: the longest wait before a case's first try. */
#define DELAY_MAX_MS (60 * 1000)

enum probe_op { OP_BIND, OP_CONNECT, OP_JOIN, OP_MCAST_IF, OP_SEND };
enum probe_proto { PROTO_TCP, PROTO_UDP };

/* How a join, a multicast interface or a PKTINFO send names its interface (if=):
 * by one of its addresses (IPv4 only), by name (resolved in the namespace where
 * the socket is made), by index, or not at all (the kernel chooses). */
enum iface_kind { IFACE_NONE, IFACE_ADDR, IFACE_NAME, IFACE_INDEX };

struct probe_iface {
	enum iface_kind kind;
	struct parsed_addr addr;	/* IFACE_ADDR */
	char name[IF_NAMESIZE];		/* IFACE_NAME */
	unsigned index;			/* IFACE_INDEX */
	char text[ADDR_TEXT_MAX];	/* as given, for the record; "" for none */
};

struct probe_opts {
	bool reuseaddr;		/* SO_REUSEADDR */
	bool reuseport;		/* SO_REUSEPORT */
	bool freebind;		/* IP_FREEBIND / IPV6_FREEBIND */
	int v6only;		/* IPV6_V6ONLY: -1 leave the sysctl default, 0 off, 1 on */
	bool bind_no_port;	/* IP_BIND_ADDRESS_NO_PORT */
	char dev[IF_NAMESIZE];	/* SO_BINDTODEVICE, "" for none */
	bool listen;		/* bind: listen() after bind (TCP); default true */
	bool hold;		/* keep the socket open until the batch ends */
	bool greet;		/* connect: wait for the server to say its name */
	bool has_src;		/* connect, send: bind this source address first */
	struct parsed_addr src;	/* (join, mcast-if: the address bound before the call) */
	unsigned sport;		/* connect, send: source port, 0 = kernel's choice */
	struct probe_iface iface;	/* join, mcast-if, send (PKTINFO's index): if= */
	bool has_pktinfo;	/* send: sendmsg() with this source in IP(V6)_PKTINFO */
	struct parsed_addr pktinfo;
	unsigned timeout_ms;	/* connect: per-case timeout */
	unsigned retry_ms;	/* bind, connect: retry=S, keep trying this long; 0 = once */
	unsigned every_ms;	/* and every=MS, the pause from one try's start to the next */
	unsigned delay_ms;	/* bind, connect: delay=MS, the first try starts this late */
};

/* The longest name a case takes (a DNS name is at most 253 bytes), with its NUL. */
#define NAME_TEXT_MAX 254

/* A case's ADDR given as a name (probe_resolve.h): resolved with getaddrinfo() as
 * ordinary programs do, just before the call.  text[0] == '\0': a numeric ADDR, the
 * case runs exactly as it did before names existed. */
struct probe_name {
	char text[NAME_TEXT_MAX];	/* the name as given, "" for none */
	int family;			/* the hint: AF_UNSPEC, AF_INET or AF_INET6 */
	bool addrconfig;		/* AI_ADDRCONFIG */
	bool each;			/* try each result in order until one works (a
					 * client); false: the first result only (a server) */
	bool all;			/* bind: bind every result, all held until the last
					 * (nginx, asyncio's create_server); not with each */
};

struct probe_case {
	char id[CASE_ID_MAX];	/* "" outside batch */
	enum probe_op op;
	enum probe_proto proto;
	struct parsed_addr addr;
	unsigned port;
	struct probe_opts opts;
	struct probe_name name;	/* bind, connect: ADDR as a name; addr is then set per
				 * resolved address */
};

/* What a TCP connect's socket did after the handshake, while netprobe waited for
 * the server's greeting (the record's "after"; probe_record.h; UDP: always null).  A published port
 * behind a userland proxy (docker-proxy) accepts and then closes: that is
 * AFTER_EOF, "connected, then closed", not an answer. */
enum probe_after {
	AFTER_UNKNOWN = 0,	/* not reached, or not waited for (nogreet): null */
	AFTER_GREETING,		/* a netprobe server said its name: "greeting" */
	AFTER_DATA,		/* bytes that are no greeting: "data" */
	AFTER_EOF,		/* closed without a byte: "eof" */
	AFTER_RESET,		/* ECONNRESET on the first read: "reset" */
	AFTER_TIMEOUT,		/* nothing within the timeout: "timeout" */
	AFTER_ERROR,		/* another error of the read (UDP: refused): "error" */
};

/* One try of a retrying case: when it started (ms since the case's first try) and
 * its errno (0: it succeeded, and was the last). */
struct probe_try {
	unsigned t_ms;
	int err;
};

/* Every try of a retrying case (probe_retry.h), for its record: "start_ms" (the
 * wall clock of the first try, to place it on a scenario's timeline), "tries",
 * "ok_ms" (when the try that succeeded ended: a connect that waited for its
 * neighbour succeeds later than it started; null: it gave up). */
struct probe_tries {
	int64_t start_ms;	/* CLOCK_REALTIME, ms since the epoch */
	int64_t ok_ms;		/* ms since the first try; -1: no try succeeded */
	unsigned n;
	struct probe_try t[TRIES_MAX];
};

struct probe_result {
	int err;			/* 0 when the call succeeded */
	const char *call;		/* which call failed: "bind", "connect", ... */
	int64_t elapsed_us;
	char local[SOCKADDR_TEXT_MAX];	/* connect, send: what the kernel used, "" unknown */
	char peer_host[64];		/* connect: the server's name, "" unknown */
	enum probe_after after;		/* connect: what followed the handshake */
	unsigned ifindex;		/* join, mcast-if, send: the if= index used, 0 none */
	const struct probe_tries *tries;	/* a retrying case's tries, NULL: no retry= */
};

/* The defaults every case starts from. */
static inline struct probe_opts probe_opts_default(void)
{
	return (struct probe_opts){
		.v6only = -1,
		.listen = true,
		.greet = true,
		.timeout_ms = DEFAULT_TIMEOUT_MS,
		.every_ms = DEFAULT_EVERY_MS,
	};
}

#endif
