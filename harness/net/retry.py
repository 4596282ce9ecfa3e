"""The one retry helper: a loop that tries again, at most so often or so long.

    for _ in attempts(tries=5, pause=0.2):
        pending = try_them(pending)
        if not pending:
            break

attempts() yields once per try and owns the policy: the first try at once, `pause`
seconds between two tries (never after the last), no further try once `tries` were
made or the monotonic clock passed `deadline`.  What a try is, and what counts as
done, stays in the loop's body (a `break`); a for-else says what to do when the tries
ran out.  (FRR's topotests have one such helper, run_and_expect, instead of a loop
written again at each wait.)
"""

import time


def attempts(tries=None, deadline=None, pause=0.1):
    """Yield 1, 2, ... : at most tries times (None: no count), no new try once
    time.monotonic() is past deadline (None: no deadline), sleeping pause seconds
    between tries.  There is always a first try."""
    n = 1
    while True:
        yield n
        if tries is not None and n >= tries:
            return
        if deadline is not None and time.monotonic() > deadline:
            return
        time.sleep(pause)
        n += 1
