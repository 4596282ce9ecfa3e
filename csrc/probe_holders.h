/*
 * probe_holders.h: which sockets hold a port, and which processes (pid, uid, name)
 * have them open: the "what" behind an EADDRINUSE.
 */
#ifndef PROBE_HOLDERS_H
#define PROBE_HOLDERS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "lib/addr.h"

/* A socket that holds the port, from /proc/net/{tcp,udp}{,6} and /proc/PID/fd. */
struct port_holder {
	char proto[5];			/* "tcp", "tcp6", "udp", "udp6" */
	char local[SOCKADDR_TEXT_MAX];	/* "0.0.0.0:6677", "[::]:6677" */
	char state[16];			/* "LISTEN", "TIME_WAIT", "UNCONN", ... */
	unsigned long inode;		/* 0 for TIME_WAIT: no socket, no process */
	unsigned uid;			/* the socket's owner */
	pid_t pid;			/* 0 when unknown */
	char comm[32];			/* the process's name, "" when unknown */
};

/*
 * Finds the sockets of this namespace on @port (TCP, or UDP when @udp) whose
 * address competes with a bind to @a (the same address, or a wildcard covering
 * either; an IPv6 "::" socket is dual stack) and fills up to @max of them into
 * @out: first the ones that mean "a server holds it" (LISTEN, an unconnected UDP
 * socket), then the others (connections, TIME_WAIT).  Each gets the pid and name
 * of a process that has it open, where /proc lets this process see them (pid 0
 * otherwise).  Returns how many were filled; 0 also when /proc cannot be read.
 * Allocates nothing; errno is left as it is.
 */
size_t holders_find(const struct parsed_addr *a, unsigned port, bool udp, struct port_holder *out,
		    size_t max);

#endif
