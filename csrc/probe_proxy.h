/*
 * probe_proxy.h: `netprobe serve --proxy-to ADDR:PORT`, a userland proxy like
 * docker-proxy.
 *
 * Docker publishes a port twice: a DNAT rule for traffic that arrives from outside,
 * and docker-proxy, a process listening on the published port, for what the rule
 * does not catch (the Docker host's own loopback, other containers).  The proxy
 * accepts first and only then connects to the container; when that connect fails it
 * closes the client's connection.  So the same broken mapping is ECONNREFUSED
 * through DNAT and "connected, then closed without a byte" through the proxy (curl:
 * "Empty reply from server").  This proxy does exactly that: accept, a non-blocking
 * connect to the backend, then bytes relayed both ways until either side ends.
 */
#ifndef PROBE_PROXY_H
#define PROBE_PROXY_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/addr.h"

#define PROXY_PAIRS 64
/* The epoll tag of a proxy socket: this bit, the pair's index * 2, its side. */
#define PROXY_TAG (UINT64_C(1) << 62)

struct proxy_pair {
	int cfd, bfd;		/* the client's socket, the backend's; -1 when free */
	bool connecting;	/* the backend connect is in progress */
};

struct proxy {
	int ep;			/* the serve loop's epoll set */
	struct parsed_addr to;	/* the backend */
	char name[SOCKADDR_TEXT_MAX];	/* the backend as text, for diagnostics */
	struct proxy_pair pairs[PROXY_PAIRS];
};

/* Parses "ADDR:PORT" or "[V6ADDR]:PORT" into @out.  Returns 0, or -1 with a reason
 * in @err. */
int proxy_parse_target(const char *text, struct parsed_addr *out, char *err, size_t errlen);

/* Makes @p a proxy to @to whose sockets are watched by epoll set @ep. */
void proxy_init(struct proxy *p, int ep, const struct parsed_addr *to);

/* Takes accepted client socket @cfd (non-blocking; @p owns it from now on) and
 * starts its backend connect; no room or a connect that fails at once closes it. */
void proxy_take(struct proxy *p, int cfd);

/* Handles @events on the proxy socket tagged @tag (see PROXY_TAG). */
void proxy_event(struct proxy *p, uint64_t tag, uint32_t events);

/* Closes every pair. */
void proxy_close_all(struct proxy *p);

#endif
