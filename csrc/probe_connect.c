/* probe_connect.c: see probe_connect.h. */
#include "probe_connect.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "probe_sock.h"

enum slot_state { SLOT_CONNECTING, SLOT_GREETING, SLOT_DONE };

struct slot {
	const struct probe_case *c;
	struct probe_result r;
	int fd;
	enum slot_state state;
	int64_t t0, deadline;
	size_t inflight_pos;	/* index in the in-flight array */
	char buf[128];		/* greeting received so far */
	size_t blen;
};

struct engine {
	int ep;
	struct slot *slots;
	struct slot **inflight;	/* cases started and not finished */
	size_t ninflight;
	int *held;		/* fds of finished `hold` cases */
	size_t nheld;
	connect_emit_fn emit;
	void *arg;
	int stop;		/* emit asked to stop */
	int stop_errno;		/* and the errno it stopped with */
};

void greeting_parse(const char *buf, size_t len, char *out, size_t outlen)
{
	size_t plen = strlen(GREETING_PREFIX), o = 0;

	out[0] = '\0';
	if (len < plen || memcmp(buf, GREETING_PREFIX, plen) != 0)
		return;
	for (size_t i = plen; i < len && buf[i] != '\n' && o + 1 < outlen; i++)
		if (buf[i] > 0x20 && buf[i] < 0x7f)
			out[o++] = buf[i];
	out[o] = '\0';
}

enum probe_after after_classify(const char *buf, size_t len, int err)
{
	char name[2];

	if (err == ECONNRESET)
		return AFTER_RESET;
	if (err == ETIMEDOUT)
		return AFTER_TIMEOUT;
	if (err)
		return AFTER_ERROR;
	if (len == 0)
		return AFTER_EOF;
	greeting_parse(buf, len, name, sizeof(name));
	return name[0] ? AFTER_GREETING : AFTER_DATA;
}

/* Takes @s out of the in-flight array (the last one moves into its place), if it
 * is there. */
static void leave_inflight(struct engine *e, struct slot *s)
{
	struct slot *last;

	if (s->inflight_pos >= e->ninflight || e->inflight[s->inflight_pos] != s)
		return;
	last = e->inflight[--e->ninflight];
	e->inflight[s->inflight_pos] = last;
	last->inflight_pos = s->inflight_pos;
}

/* A connection that netprobe's own server greeted is closed with a reset
 * (SO_LINGER 0) rather than a FIN.  That server closes right after its greeting, but
 * when the FIN had not arrived yet our FIN would come first and leave TIME_WAIT on
 * this side for 60 s: the probe's own 4-tuple, taken from the next probe (in a
 * narrowed port range, EADDRNOTAVAIL that the network did not cause).  Other
 * servers (a user's program) get an ordinary close. */
static void reset_on_close(int fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
}

/* Ends case @s with the result it has: its elapsed time, out of the in-flight
 * array, its socket closed (kept when a `hold` case succeeded), its record
 * handed to the emit callback (whose failure stops the run). */
static void finish(struct engine *e, struct slot *s)
{
	s->r.elapsed_us = now_us() - s->t0;
	s->state = SLOT_DONE;
	leave_inflight(e, s);
	if (s->fd >= 0 && s->c->proto == PROTO_TCP && s->r.after == AFTER_GREETING)
		reset_on_close(s->fd);
	if (s->fd >= 0) {
		if (s->c->opts.hold && s->r.err == 0) {
			epoll_ctl(e->ep, EPOLL_CTL_DEL, s->fd, NULL);
			e->held[e->nheld++] = s->fd;
		} else {
			close(s->fd);
		}
		s->fd = -1;
	}
	if (!e->stop && e->emit(s->c, &s->r, e->arg) != 0) {
		e->stop = 1;
		e->stop_errno = errno ? errno : EPIPE;
	}
}

/* Ends case @s as a failure of @call with errno @err; a TCP failure while it
 * waited for the greeting also says what followed the handshake (UDP has none: its
 * error, such as ECONNREFUSED, is the answer itself). */
static void fail(struct engine *e, struct slot *s, const char *call, int err)
{
	if (s->state == SLOT_GREETING && s->c->proto == PROTO_TCP)
		s->r.after = after_classify(s->buf, s->blen, err);
	result_fail(&s->r, call, err);
	finish(e, s);
}

/* Notes the address the kernel gave @s's socket as its "local". */
static void note_local(struct slot *s)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(s->fd, (struct sockaddr *)&ss, &len) == 0)
		sockaddr_format((struct sockaddr *)&ss, s->r.local, sizeof(s->r.local));
}

/* Adds (@op EPOLL_CTL_ADD) or changes (EPOLL_CTL_MOD) the @events the engine waits
 * for on @s's socket.  Returns 0, or -1 with errno. */
static int watch(struct engine *e, struct slot *s, int op, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = s };

	return epoll_ctl(e->ep, op, s->fd, &ev);
}

/* The connect went through: note the local address, then wait for the greeting. */
static void connected(struct engine *e, struct slot *s)
{
	note_local(s);
	if (!s->c->opts.greet) {
		finish(e, s);
		return;
	}
	s->state = SLOT_GREETING;
	if (watch(e, s, EPOLL_CTL_MOD, EPOLLIN | EPOLLRDHUP) < 0)
		fail(e, s, "epoll_ctl", errno);
}

/* Binds the requested source address and/or port before connecting. */
static int bind_source(struct slot *s)
{
	const struct probe_case *c = s->c;
	struct parsed_addr src;
	char err[64];

	if (c->opts.has_src)
		src = c->opts.src;
	else
		addr_parse("any", c->addr.family, &src, err, sizeof(err));
	addr_set_port(&src, c->opts.sport);
	if (addr_resolve_scope(&src) < 0)
		return result_fail(&s->r, "if_nametoindex(src)", errno);
	if (bind(s->fd, (struct sockaddr *)&src.ss, src.len) < 0)
		return result_fail(&s->r, "bind(src)", errno);
	return 0;
}

/* What start() says about a case. */
enum start_result {
	STARTED,	/* in flight, or already finished (a failure before connect) */
	NO_DESCRIPTOR,	/* socket() found no free descriptor: not started, try later */
};

/*
 * Starts case @s: socket, options, source bind, a non-blocking connect() (for UDP
 * the datagram too), and epoll interest in its outcome.  Its deadline counts from
 * the connect() call.  A failure on the way finishes the case with that outcome;
 * EMFILE/ENFILE from socket() does not: it means no descriptor is free right now,
 * which is back-pressure, not a result (the caller starts the case again once an
 * in-flight case has given its descriptor back).
 */
static enum start_result start(struct engine *e, struct slot *s)
{
	static const char hello[] = "netprobe?\n";
	const struct probe_case *c = s->c;
	struct parsed_addr dst = c->addr;

	memset(&s->r, 0, sizeof(s->r));
	s->t0 = now_us();
	s->fd = -1;
	s->state = SLOT_CONNECTING;
	s->inflight_pos = e->ninflight;
	e->inflight[e->ninflight++] = s;

	if (addr_resolve_scope(&dst) < 0) {
		fail(e, s, "if_nametoindex", errno);
		return STARTED;
	}
	s->fd = sock_open(c, true, &s->r);
	if (s->fd < 0 && result_no_descriptor(&s->r)) {
		leave_inflight(e, s);	/* a start that did not happen */
		return NO_DESCRIPTOR;
	}
	if (s->fd < 0) {
		finish(e, s);
		return STARTED;
	}
	if ((c->opts.has_src || c->opts.sport) && bind_source(s) < 0) {
		finish(e, s);
		return STARTED;
	}
	s->deadline = now_us() + (int64_t)c->opts.timeout_ms * 1000;
	if (connect(s->fd, (struct sockaddr *)&dst.ss, dst.len) < 0 && errno != EINPROGRESS) {
		fail(e, s, "connect", errno);
		return STARTED;
	}
	if (c->proto == PROTO_UDP) {
		note_local(s);
		if (send(s->fd, hello, sizeof(hello) - 1, MSG_NOSIGNAL) < 0) {
			fail(e, s, "send", errno);
			return STARTED;
		}
		s->state = SLOT_GREETING;
		if (!c->opts.greet) {
			finish(e, s);
			return STARTED;
		}
		if (watch(e, s, EPOLL_CTL_ADD, EPOLLIN) < 0)
			fail(e, s, "epoll_ctl", errno);
		return STARTED;
	}
	/* TCP: EINPROGRESS (or, rarely, done at once); both end in EPOLLOUT */
	if (watch(e, s, EPOLL_CTL_ADD, EPOLLOUT) < 0)
		fail(e, s, "epoll_ctl", errno);
	return STARTED;
}

/* Moves case @s on after epoll reported @events: a connect that ended (SO_ERROR
 * says how), or greeting bytes to read until a newline, EOF or an error. */
static void on_event(struct engine *e, struct slot *s, uint32_t events)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (s->state == SLOT_DONE)
		return;
	if (s->state == SLOT_CONNECTING) {
		if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		/* a reset that came before this look still followed a handshake: a
		 * refused SYN is ECONNREFUSED, never ECONNRESET */
		if (err == ECONNRESET) {
			s->r.after = AFTER_RESET;
			note_local(s);
		}
		if (err)
			fail(e, s, "connect", err);
		else
			connected(e, s);
		return;
	}
	/* SLOT_GREETING: read until a newline, EOF or an error */
	for (;;) {
		ssize_t n = recv(s->fd, s->buf + s->blen, sizeof(s->buf) - 1 - s->blen, 0);

		if (n > 0) {
			s->blen += (size_t)n;
			if (memchr(s->buf, '\n', s->blen) || s->blen == sizeof(s->buf) - 1)
				break;
			if (s->c->proto == PROTO_UDP)	/* one datagram is the whole answer */
				break;
			continue;
		}
		if (n == 0)
			break;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			if (events & (EPOLLERR | EPOLLHUP)) {
				if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err) {
					fail(e, s, "recv", err);
					return;
				}
			}
			return;	/* wait for more */
		}
		if (errno == EINTR)
			continue;
		fail(e, s, "recv", errno);
		return;
	}
	s->buf[s->blen] = '\0';
	greeting_parse(s->buf, s->blen, s->r.peer_host, sizeof(s->r.peer_host));
	if (s->c->proto == PROTO_TCP)
		s->r.after = after_classify(s->buf, s->blen, 0);
	finish(e, s);
}

/* Milliseconds until the earliest in-flight deadline (at least 0), or -1 for none. */
static int next_timeout_ms(const struct engine *e)
{
	int64_t first = INT64_MAX, now = now_us();

	for (size_t i = 0; i < e->ninflight; i++)
		if (e->inflight[i]->deadline < first)
			first = e->inflight[i]->deadline;
	if (first == INT64_MAX)
		return -1;
	if (first <= now)
		return 0;
	return (int)((first - now + 999) / 1000);
}

/* Ends every in-flight case whose deadline has passed as ETIMEDOUT (of connect,
 * or of recv while it waited for the greeting). */
static void expire(struct engine *e)
{
	int64_t now = now_us();

	/* finish() swaps the last in-flight slot into place: walk backwards */
	for (size_t i = e->ninflight; i-- > 0;) {
		struct slot *s = e->inflight[i];

		if (s->deadline <= now)
			fail(e, s, s->state == SLOT_CONNECTING ? "connect" : "recv", ETIMEDOUT);
	}
}

/* Handles the events in @events[0..@nev). */
static void dispatch(struct engine *e, const struct epoll_event *events, int nev)
{
	for (int i = 0; i < nev; i++)
		on_event(e, events[i].data.ptr, events[i].events);
}

/*
 * Handles every event that is ready now, without waiting, until none is left:
 * outcomes that arrived while the loop was busy (starting cases, handing records
 * over) are taken before any deadline is judged, so a late look is never a
 * timeout.  Bounded: each case changes state at most three times.  Returns 0, or
 * -1 with errno when epoll_wait() failed.
 */
static int drain_ready(struct engine *e, struct epoll_event *events, int max)
{
	for (;;) {
		int nev = epoll_wait(e->ep, events, max, 0);

		if (nev < 0 && errno == EINTR)
			continue;
		if (nev < 0)
			return -1;
		if (nev == 0)
			return 0;
		dispatch(e, events, nev);
	}
}

/*
 * Starts cases while there is room in flight and a descriptor for them.  Returns
 * 0, or -1 with errno EMFILE/ENFILE when no descriptor is free and none will be:
 * nothing is in flight to give one back, so every descriptor the limit allows is
 * held (by `hold` sockets, or by the caller's).
 */
static int start_more(struct engine *e, const struct probe_case *cases, size_t n, size_t *next,
		      unsigned max_inflight)
{
	while (!e->stop && *next < n && e->ninflight < max_inflight) {
		struct slot *s = &e->slots[*next];

		s->c = &cases[*next];
		if (start(e, s) == NO_DESCRIPTOR) {
			if (e->ninflight == 0) {
				errno = s->r.err;
				return -1;
			}
			return 0;	/* wait for an in-flight case to finish */
		}
		(*next)++;
	}
	return 0;
}

/*
 * Readies @e for @n cases, at most @max_inflight in flight: its slots, its
 * in-flight and held arrays, its epoll set.  Returns 0, or -1 with errno (ENOMEM,
 * epoll's); engine_close() releases what was made either way.
 */
static int engine_open(struct engine *e, const struct probe_case *cases, size_t n,
		       unsigned max_inflight)
{
	size_t held_max = 0;

	for (size_t i = 0; i < n; i++)
		held_max += cases[i].opts.hold;
	e->slots = calloc(n, sizeof(*e->slots));
	e->inflight = calloc(max_inflight, sizeof(*e->inflight));
	e->held = calloc(held_max ? held_max : 1, sizeof(*e->held));
	if (!e->slots || !e->inflight || !e->held)
		return -1;
	for (size_t i = 0; i < n; i++)
		e->slots[i].fd = -1;
	e->ep = epoll_create1(EPOLL_CLOEXEC);
	return e->ep < 0 ? -1 : 0;
}

/* Closes every socket of @e (of its @n slots, and the held ones) and frees it. */
static void engine_close(struct engine *e, size_t n)
{
	if (e->slots)
		for (size_t i = 0; i < n; i++)
			if (e->slots[i].fd >= 0)
				close(e->slots[i].fd);
	for (size_t i = 0; i < e->nheld; i++)
		close(e->held[i]);
	if (e->ep >= 0)
		close(e->ep);
	free(e->slots);
	free(e->inflight);
	free(e->held);
}

/*
 * Runs @cases[0..@n) on the opened @e until every case has finished or @emit
 * asked to stop.  Returns 0, or -1 with errno (as connect_run() says).
 */
static int engine_run(struct engine *e, const struct probe_case *cases, size_t n,
		      unsigned max_inflight)
{
	struct epoll_event events[64];
	const int max_events = (int)(sizeof(events) / sizeof(events[0]));
	size_t next = 0;

	while (!e->stop && (next < n || e->ninflight > 0)) {
		int nev;

		if (start_more(e, cases, n, &next, max_inflight) < 0)
			return -1;
		if (e->ninflight == 0)
			continue;
		nev = epoll_wait(e->ep, events, max_events, next_timeout_ms(e));
		if (nev < 0 && errno != EINTR)
			return -1;
		if (nev > 0)
			dispatch(e, events, nev);
		if (drain_ready(e, events, max_events) < 0)
			return -1;
		expire(e);
	}
	if (e->stop) {
		errno = e->stop_errno;
		return -1;
	}
	return 0;
}

int connect_run(const struct probe_case *cases, size_t n, unsigned max_inflight,
		connect_emit_fn emit, void *arg)
{
	struct engine e = { .ep = -1, .emit = emit, .arg = arg };
	int ret = -1;

	if (n == 0)
		return 0;
	if (max_inflight == 0)
		max_inflight = 1;
	if (engine_open(&e, cases, n, max_inflight) == 0)
		ret = engine_run(&e, cases, n, max_inflight);
	engine_close(&e, n);
	return ret;
}
