/*
 * probe_retry.h: a case that keeps trying, the way a patient service does.
 *
 * retry=S every=MS (--retry-for S --every MS): a bind or a connect that fails is
 * tried again every MS milliseconds (from one try's start to the next; at once
 * when a try took longer) until one succeeds or the next try would start more
 * than S seconds after the first.  Every try is kept, its start (ms since the
 * first) and its errno, for the record (probe_record.h: "start_ms", "tries",
 * "ok_ms"); the case's outcome is its last try's, its elapsed_us the whole.  A
 * socket() that finds no free descriptor is the probe's own want and never retried.
 * delay=MS (--delay MS): the first try starts MS ms late, as a service started
 * after the network came up (network-online.target) would; the record then has
 * "start_ms" and "tries" too.  A case without retry= and delay= goes through none
 * of this: its record is unchanged.
 */
#ifndef PROBE_RETRY_H
#define PROBE_RETRY_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "probe_case.h"
#include "probe_connect.h"

/* The clock of one retrying case. */
struct retry {
	const struct probe_case *c;
	struct probe_tries *tries;	/* NULL for a case without retry= */
	int64_t t0_us;		/* the first try's start, monotonic */
	int64_t try_us;		/* the current try's start */
	int64_t next_us;	/* the next try's start, once retry_note() said there is one */
	bool active;		/* a try is still to come */
};

/*
 * Starts the clock of case @c in @rt (the first try starts now).  A retrying case
 * gets its tries allocated (rt->tries; freed by retry_end()).  Returns 0, or -1
 * with errno ENOMEM.
 */
int retry_begin(struct retry *rt, const struct probe_case *c);

/*
 * Notes the outcome @r of the try that started at rt->try_us.  Returns true when
 * another try is due (at rt->next_us); false when the case is done: then @r
 * carries the tries (r->tries, owned by @rt) and the whole elapsed time.  For a
 * case without retry= it returns false and leaves @r as it is.
 */
bool retry_note(struct retry *rt, struct probe_result *r);

/* Frees what retry_begin() allocated. */
void retry_end(struct retry *rt);

/*
 * Sleeps until the monotonic time @until_us.  With @stop (signals the caller
 * blocks), returns early when one of them arrives, and leaves it pending for the
 * caller.  Returns 0, or 1 when a signal of @stop arrived.
 */
int retry_wait(int64_t until_us, const sigset_t *stop);

/*
 * Bind case @c (probe_bind()), tried again as its retry= says; @rt holds the
 * tries @r points to until retry_end().  @stop as retry_wait(): a stop signal
 * ends the retrying with the last try's outcome.  Returns the fd or -1, as
 * probe_bind().
 */
int retry_bind(const struct probe_case *c, struct probe_result *r, struct retry *rt,
	       const sigset_t *stop);

/*
 * connect_run() for cases of which some retry: every case in the first round,
 * concurrently; then, round after round, the retrying cases whose next try is
 * due.  @emit gets each case once, when it is done, with its tries.  Returns as
 * connect_run(); -1 with errno ENOMEM too.
 */
int retry_connects(const struct probe_case *cases, size_t n, unsigned max_inflight,
		   connect_emit_fn emit, void *arg);

/* True when one of @cases[0..@n) has retry= or delay=. */
bool retry_any(const struct probe_case *cases, size_t n);

#endif
