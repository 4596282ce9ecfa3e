/* probe_proxy.c: see probe_proxy.h. */
#include "probe_proxy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "probe_cmd.h"
#include "probe_sock.h"

int proxy_parse_target(const char *text, struct parsed_addr *out, char *err, size_t errlen)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon = strrchr(text, ':');
	char *end;
	unsigned long port;
	size_t hlen;

	if (!colon || colon == text) {
		snprintf(err, errlen, "'%s' is not ADDR:PORT", text);
		return -1;
	}
	hlen = (size_t)(colon - text);
	if (text[0] == '[' && hlen >= 2 && text[hlen - 1] == ']') {
		text++;
		hlen -= 2;
	}
	if (hlen >= sizeof(host)) {
		snprintf(err, errlen, "the address of '%s' is too long", text);
		return -1;
	}
	memcpy(host, text, hlen);
	host[hlen] = '\0';
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (!colon[1] || *end || errno || port < 1 || port > 65535) {
		snprintf(err, errlen, "'%s' is not a port (1-65535)", colon + 1);
		return -1;
	}
	if (addr_parse(host, AF_UNSPEC, out, err, errlen) < 0)
		return -1;
	addr_set_port(out, (unsigned)port);
	return 0;
}

void proxy_init(struct proxy *p, int ep, const struct parsed_addr *to)
{
	p->ep = ep;
	p->to = *to;
	sockaddr_format((const struct sockaddr *)&to->ss, p->name, sizeof(p->name));
	for (size_t i = 0; i < PROXY_PAIRS; i++)
		p->pairs[i] = (struct proxy_pair){ .cfd = -1, .bfd = -1 };
}

/* Closes both sockets of pair @pp: the client sees the end of the stream. */
static void pair_close(struct proxy_pair *pp)
{
	if (pp->cfd >= 0)
		close(pp->cfd);
	if (pp->bfd >= 0)
		close(pp->bfd);
	*pp = (struct proxy_pair){ .cfd = -1, .bfd = -1 };
}

/* Watches socket @fd of pair @i (@side 0 client, 1 backend) for @events. */
static int pair_watch(struct proxy *p, int op, size_t i, int side, uint32_t events)
{
	struct epoll_event ev = { .events = events,
				  .data.u64 = PROXY_TAG | (uint64_t)(i * 2 + (size_t)side) };
	struct proxy_pair *pp = &p->pairs[i];

	return epoll_ctl(p->ep, op, side ? pp->bfd : pp->cfd, &ev);
}

void proxy_take(struct proxy *p, int cfd)
{
	size_t i;

	for (i = 0; i < PROXY_PAIRS && p->pairs[i].cfd >= 0; i++)
		;
	if (i == PROXY_PAIRS) {
		probe_warn("proxy: %d connections open already; closing a new one",
			   PROXY_PAIRS);
		close(cfd);
		return;
	}
	p->pairs[i].cfd = cfd;
	p->pairs[i].bfd = socket(p->to.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	p->pairs[i].connecting = true;
	if (p->pairs[i].bfd < 0 ||
	    (connect(p->pairs[i].bfd, (struct sockaddr *)&p->to.ss, p->to.len) < 0 &&
	     errno != EINPROGRESS) ||
	    pair_watch(p, EPOLL_CTL_ADD, i, 1, EPOLLOUT) < 0) {
		probe_warn("proxy: connect(%s): %s; closing the client", p->name,
			   strerror(errno));
		pair_close(&p->pairs[i]);
	}
}

/* Sends all of @buf[0..@n) on @fd.  Returns 0, or -1 (the peer is gone, or its
 * buffer is full: a probe's greeting never fills one). */
static int send_all(int fd, const char *buf, size_t n)
{
	while (n > 0) {
		ssize_t k = send(fd, buf, n, MSG_NOSIGNAL);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		buf += k;
		n -= (size_t)k;
	}
	return 0;
}

/* The backend connect of pair @i ended: relay, or close the client (docker-proxy:
 * "Can't forward traffic to backend"). */
static void backend_connected(struct proxy *p, size_t i)
{
	struct proxy_pair *pp = &p->pairs[i];
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(pp->bfd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err) {
		probe_warn("proxy: connect(%s): %s; closing the client", p->name,
			   strerror(err));
		pair_close(pp);
		return;
	}
	pp->connecting = false;
	if (pair_watch(p, EPOLL_CTL_MOD, i, 1, EPOLLIN) < 0 ||
	    pair_watch(p, EPOLL_CTL_ADD, i, 0, EPOLLIN) < 0)
		pair_close(pp);
}

/* Relays what socket @side of pair @i has to the other side; the backend's end
 * closes the pair, the client's end is passed on as a half close. */
static void relay(struct proxy *p, size_t i, int side)
{
	struct proxy_pair *pp = &p->pairs[i];
	int from = side ? pp->bfd : pp->cfd, to = side ? pp->cfd : pp->bfd;
	char buf[4096];

	for (;;) {
		ssize_t n = recv(from, buf, sizeof(buf), 0);

		if (n > 0) {
			if (send_all(to, buf, (size_t)n) < 0) {
				pair_close(pp);
				return;
			}
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n == 0 && side == 0) {	/* the client is done sending */
			epoll_ctl(p->ep, EPOLL_CTL_DEL, pp->cfd, NULL);
			shutdown(pp->bfd, SHUT_WR);
			return;
		}
		pair_close(pp);		/* the backend ended, or an error */
		return;
	}
}

void proxy_event(struct proxy *p, uint64_t tag, uint32_t events)
{
	size_t i = (size_t)((tag & ~PROXY_TAG) / 2);
	int side = (int)(tag & 1);

	(void)events;
	if (i >= PROXY_PAIRS || p->pairs[i].cfd < 0)
		return;		/* closed earlier in this round of events */
	if (side == 1 && p->pairs[i].connecting)
		backend_connected(p, i);
	else
		relay(p, i, side);
}

void proxy_close_all(struct proxy *p)
{
	for (size_t i = 0; i < PROXY_PAIRS; i++)
		if (p->pairs[i].cfd >= 0)
			pair_close(&p->pairs[i]);
}
