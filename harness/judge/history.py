"""A cell in time: the words of its tries, the rule that judges them, a timeline.

A case with retry= (or delay=) has tries: [[seconds into the probe phase, outcome],
...], the last one its outcome, and ok_at (when it succeeded; None: it never did).
They read as a history:

    EADDRNOTAVAIL x10 -> OK at 1.00 s
    EADDRNOTAVAIL x5, gave up at 0.40 s (retry=0.5)      the probe's budget ran out
    OK at 1.50 s                                          one try, started late
    EADDRNOTAVAIL at 0.02 s, exited 1                     a server program in time
                                                          (probe/intime.py) that ended

The time rule (`wrong_time`, beside the wrong-peer and after rules of cells.py): an
expectation with `within` fails a cell whose outcome came later than that second
(or never); one with `before` fails a cell that had no earlier try, or one whose
earlier tries were anything else ("EADDRNOTAVAIL, then OK": a cell that was OK at
once did not show the race).  `timeline()` merges a scenario's timed steps (when
each took effect) and its cells' histories into lines ordered by time.
"""

from ..scenarios import OK, option


def runs(tries):
    """[(outcome, count, first second, last second)] of consecutive equal outcomes."""
    out = []
    for t, word in tries:
        if out and out[-1][0] == word:
            out[-1] = (word, out[-1][1] + 1, out[-1][2], t)
        else:
            out.append((word, 1, t, t))
    return out


def words(cell):
    """The history of a cell in time ('' for a cell without tries)."""
    if not cell.tries:
        return ''
    parts = runs(cell.tries)
    head = [f'{w} x{n}' if n > 1 else w for w, n, _a, _b in parts[:-1]]
    word, n, _first, last = parts[-1]
    if word == OK:
        tail = f'OK at {cell.ok_at if cell.ok_at is not None else last:.2f} s'
    else:
        retry = option(cell, 'retry')
        tail = f'{word} x{n}' if n > 1 else word
        if retry is not None:
            tail += f', gave up at {last:.2f} s (retry={retry})'
        else:
            tail += f' at {last:.2f} s'
    if cell.exit is not None and cell.stopped is False:    # a program that ended itself
        tail += f', exited {cell.exit}'
    return ' -> '.join(head + [tail])


def expected_words(cell):
    """What a cell's expectation says in time: 'EADDRNOTAVAIL, then OK within 2 s'."""
    text = f'{cell.expected_before}, then {cell.expected}' if cell.expected_before \
        else cell.expected
    if cell.expected_within is not None:
        text += f' within {cell.expected_within:g} s'
    return text


def reached_at(cell):
    """When a cell's outcome came, in seconds into the probe phase: when its success
    came (ok_at), else its last try's start; a call without tries: its own length
    (it started at the phase's start)."""
    if cell.tries:
        return cell.ok_at if cell.ok_at is not None else cell.tries[-1][0]
    return None if cell.elapsed_us is None else cell.elapsed_us / 1e6


def wrong_time(cell):
    """True when a cell in time broke its expectation's within or before."""
    if cell.expected_within is not None:
        at = reached_at(cell)
        if at is None or at > cell.expected_within:
            return True
    if cell.expected_before is not None:
        earlier = [w for _t, w in (cell.tries or [])[:-1]]
        if not earlier or any(w != cell.expected_before for w in earlier):
            return True
    return False


def timeline(steps, cells):
    """Text lines, ordered by time: each timed step (when it took effect) and each
    cell in time (its history, at its last try)."""
    rows = []
    for step in steps or ():
        when = step.get('done_s')
        what = ' '.join(str(a) for a in step.get('argv', []))
        state = 'ok' if step.get('ok') else f'FAILED: {step.get("error")}'
        at = step.get('at')
        at = f'{at:g}' if isinstance(at, (int, float)) else '?'
        when = when if isinstance(when, (int, float)) else None
        rows.append((when if when is not None else float('inf'),
                     f'{_at(when)}  {step.get("host")}: {what} (at {at} s, {state})'))
    for cell in cells:
        if cell.tries:
            when = reached_at(cell)
            rows.append((when, f'{_at(when)}  {cell.host} {cell.kind} {cell.column}: '
                         f'{words(cell)}'))
    return [text for _t, text in sorted(rows, key=lambda r: r[0])]


def _at(seconds):
    return ' t=   ?   ' if seconds is None else f't={seconds:7.3f} s'
