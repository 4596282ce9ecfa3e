/* probe_retry.c: see probe_retry.h. */
#include "probe_retry.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "probe_sock.h"

int retry_begin(struct retry *rt, const struct probe_case *c)
{
	struct timespec ts;

	memset(rt, 0, sizeof(*rt));
	rt->c = c;
	rt->t0_us = rt->try_us = rt->next_us = now_us() + (int64_t)c->opts.delay_ms * 1000;
	rt->active = true;
	if (!c->opts.retry_ms && !c->opts.delay_ms)
		return 0;
	rt->tries = calloc(1, sizeof(*rt->tries));
	if (!rt->tries)
		return -1;
	rt->tries->ok_ms = -1;
	clock_gettime(CLOCK_REALTIME, &ts);
	rt->tries->start_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 +
			      c->opts.delay_ms;
	return 0;
}

bool retry_note(struct retry *rt, struct probe_result *r)
{
	struct probe_tries *t = rt->tries;
	int64_t now = now_us(), next;

	if (!t) {
		rt->active = false;
		return false;
	}
	t->t[t->n].t_ms = (unsigned)((rt->try_us - rt->t0_us) / 1000);
	t->t[t->n].err = r->err;
	t->n++;
	if (r->err == 0)	/* the try's own elapsed time: when it really succeeded */
		t->ok_ms = (now_us() - rt->t0_us) / 1000;
	next = rt->try_us + (int64_t)rt->c->opts.every_ms * 1000;
	if (next < now)
		next = now;
	if (r->err && !result_no_descriptor(r) && t->n < TRIES_MAX &&
	    next - rt->t0_us <= (int64_t)rt->c->opts.retry_ms * 1000) {
		rt->next_us = next;
		return true;
	}
	rt->active = false;
	r->tries = t;
	r->elapsed_us = now - rt->t0_us;
	return false;
}

void retry_end(struct retry *rt)
{
	free(rt->tries);
	rt->tries = NULL;
}

int retry_wait(int64_t until_us, const sigset_t *stop)
{
	int64_t left;

	while ((left = until_us - now_us()) > 0) {
		struct timespec ts = { .tv_sec = left / 1000000, .tv_nsec = (left % 1000000) * 1000 };
		int sig;

		if (!stop) {
			nanosleep(&ts, NULL);
			continue;
		}
		sig = sigtimedwait(stop, NULL, &ts);
		if (sig > 0) {
			raise(sig);	/* blocked: pending again, for the caller's signalfd */
			return 1;
		}
	}
	return 0;
}

int retry_bind(const struct probe_case *c, struct probe_result *r, struct retry *rt,
	       const sigset_t *stop)
{
	int fd;

	if (retry_begin(rt, c) < 0) {
		memset(r, 0, sizeof(*r));
		return result_fail(r, "malloc", ENOMEM);
	}
	for (bool first = true;; first = false) {
		if (retry_wait(rt->next_us, stop)) {	/* a stop signal: r is the last try's */
			if (first) {
				memset(r, 0, sizeof(*r));
				result_fail(r, "delay", EINTR);
			}
			fd = -1;
			break;
		}
		rt->try_us = now_us();
		fd = probe_bind(c, r);
		if (!retry_note(rt, r))
			break;
	}
	if (rt->tries && !r->tries) {	/* stopped by a signal */
		r->tries = rt->tries;
		r->elapsed_us = now_us() - rt->t0_us;
	}
	return fd;
}

bool retry_any(const struct probe_case *cases, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (cases[i].opts.retry_ms || cases[i].opts.delay_ms)
			return true;
	return false;
}

/* The rounds of retry_connects(): every case's clock, the cases of the round
 * (due) and which case each one is (idx), and the caller's emit. */
struct rounds {
	const struct probe_case *cases;
	struct retry *rts;
	struct probe_case *due;
	size_t *idx;
	connect_emit_fn emit;
	void *arg;
};

/* A connect_emit_fn for one round: notes the try; a case that is done goes to
 * the caller's emit.  Returns what that returned (0 for a try to come). */
static int round_emit(const struct probe_case *c, const struct probe_result *r, void *arg)
{
	struct rounds *rd = arg;
	size_t i = rd->idx[c - rd->due];
	struct probe_result mine = *r;

	if (retry_note(&rd->rts[i], &mine))
		return 0;
	return rd->emit(&rd->cases[i], &mine, rd->arg);
}

/* Puts the cases whose try is due into rd->due (their tries starting now);
 * sleeps until the first one is, when none is yet.  Returns how many are due,
 * 0 when no case is active any more. */
static size_t due_now(struct rounds *rd, size_t n)
{
	int64_t first = INT64_MAX, now = now_us();
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		if (!rd->rts[i].active)
			continue;
		if (rd->rts[i].next_us <= now) {
			rd->rts[i].try_us = now;
			rd->due[k] = rd->cases[i];
			rd->idx[k++] = i;
		} else if (rd->rts[i].next_us < first) {
			first = rd->rts[i].next_us;
		}
	}
	if (k == 0 && first != INT64_MAX) {
		retry_wait(first, NULL);
		return due_now(rd, n);
	}
	return k;
}

int retry_connects(const struct probe_case *cases, size_t n, unsigned max_inflight,
		   connect_emit_fn emit, void *arg)
{
	struct rounds rd = { .cases = cases, .emit = emit, .arg = arg };
	size_t begun = 0, k;
	int ret = -1;

	rd.rts = calloc(n + 1, sizeof(*rd.rts));
	rd.due = calloc(n + 1, sizeof(*rd.due));
	rd.idx = calloc(n + 1, sizeof(*rd.idx));
	if (!rd.rts || !rd.due || !rd.idx)
		goto nomem;
	for (begun = 0; begun < n; begun++)
		if (retry_begin(&rd.rts[begun], &cases[begun]) < 0)
			goto nomem;
	ret = 0;
	while (ret == 0 && (k = due_now(&rd, n)) > 0)
		ret = connect_run(rd.due, k, max_inflight, round_emit, &rd);
	goto out;
nomem:
	errno = ENOMEM;
out:
	for (size_t i = 0; i < begun; i++)
		retry_end(&rd.rts[i]);
	free(rd.rts);
	free(rd.due);
	free(rd.idx);
	return ret;
}
