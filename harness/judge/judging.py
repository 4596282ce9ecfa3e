"""The one judge: observations in, cells out, by one rule.

Probers (netprobe batches, the user's server and client programs) turn cases into
Observations and never decide a verdict; `judge()` makes every cell of a scenario
from the scenario's cases (plus the columns a program adds) and what was observed,
and `verdict()` is the only place a verdict is decided:

    error  nothing could be measured (actual ERROR; the message says why)
    fail   actual differs from expected, or a connect expected OK from host X was
           answered by another host or by nobody (the wrong-peer rule,
           cells.wrong_peer), or its handshake was followed by something else than
           expected (the after rule, cells.wrong_after: "connected, then closed"),
           or it came too late or without the failures it should have had first
           (the time rule, history.wrong_time: "EADDRNOTAVAIL, then OK within 2 s")
    pass   otherwise

A prober that cannot see who answered (a traced program sees no data) says so
(`sees_peer=False`) and its cell does not check the peer.

A program does not always make the call its case describes: Go's and Java's
listeners on 0.0.0.0 are dual-stack sockets bound to ::, Go, Java, Node and asyncio
set SO_REUSEADDR on every listener, Java scopes a link-local address itself.  A
traced bind says what the call really was (`Observation.call`: address, scope and
the socket options that decide a bind), compared with the cases normalised
(harness/judge/calls.py: scopes by index and name, v4-mapped addresses unmapped,
reuse options only where the scenario tests them).  When it differs from the
case's, the cell is judged against the scenario's case for the call the program
made, if the scenario has one (same host, protocol and port; for a dual-stack [::],
its cases of 0.0.0.0 and [::] v6only=1 together; the note names them), and
otherwise against its own case with a note naming the difference: never silently
against a call that was not made.

Likewise a program keeps its own connect timeout.  A case with timeout=300 that
expects ETIMEDOUT (the caller gives up before the kernel decides) says nothing of a
program that waited 3 s and got the kernel's own verdict (EHOSTUNREACH when
neighbour discovery gave up), nor a case with timeout=5000 that expects that verdict
of a program that gave up after 3 s (ncat -w 3): such a cell is judged against the
same connect with the timeout= of the program's real wait if the scenario has one,
and otherwise is not judged (ERROR, the message saying what the program got, after
how long, and that its own timeout came before or after the case's).
"""

from dataclasses import replace

from ..probe import Observation
from ..scenarios import ERROR, OK, timeout_of
from .calls import bind_call, bind_twins, show_call, wait_twins
from .cell import Cell
from .cells import wrong_after, wrong_peer
from .history import wrong_time


def verdict(cell):
    """'pass', 'fail' or 'error' of a cell that has expected, actual (and peers)."""
    if cell.actual == ERROR:
        return 'error'
    if cell.actual != cell.expected or wrong_peer(cell) or wrong_after(cell) or \
            wrong_time(cell):
        return 'fail'
    return 'pass'


def make_cell(cid, case, obs, expect=None):
    """One cell: the case, what was expected (expect: the case's own Expect unless
    given), what happened (obs), the verdict."""
    exp = expect or case.expect
    sees = obs.sees_peer
    cell = Cell(kind=case.kind, host=case.host, column=case.label(),
                expected=exp.outcome, actual=obs.actual, verdict='', id=cid,
                addr=case.addr, port=case.port, proto=case.proto,
                options=list(case.options), expected_peer=exp.peer if sees else None,
                reason=exp.reason, rule=exp.rule, method=obs.method,
                message=obs.message, peer=obs.peer, local=obs.local,
                elapsed_us=obs.elapsed_us, note=obs.note or None, sees_peer=sees,
                after=obs.after if case.kind == 'connect' and sees else None,
                expected_after=exp.after if case.kind == 'connect' and sees else None,
                tries=obs.tries, ok_at=obs.ok_at, expected_within=exp.within,
                expected_before=exp.before)
    for key, value in obs.extra.items():    # a program's: program, log, exit, ...
        setattr(cell, key, value)
    cell.verdict = verdict(cell)
    return cell


def _judged_as(cid, case, obs, other):
    """make_cell of case, with the expectation of the scenario's case `other` (its
    outcome, reason and rule; the peer and after are the case's own)."""
    exp = other.expect
    return make_cell(cid, case, obs, replace(
        case.expect, outcome=exp.outcome, reason=exp.reason, rule=exp.rule))


def _judged_by_halves(cid, case, obs, halves):
    """make_cell of case, expecting what the cases of a dual-stack bind's halves
    (0.0.0.0, [::] v6only=1) say together: the first refusal, else OK."""
    refused = [(i, o) for i, o in halves if o.expect.outcome != OK]
    if not refused:
        return _judged_as(cid, case, obs, halves[0][1])
    cell = _judged_as(cid, case, obs, refused[0][1])
    if len(halves) > 1:
        cell.reason = '; '.join(f'{o.label()}: {o.expect.outcome} ({o.expect.reason})'
                                for _i, o in halves)
    return cell


def _by_wait(cid, case, obs, way, twins):
    """The cell of a program's connect judged by its own wait (calls.wait_twins)."""
    waited, limit = f'{obs.elapsed_us / 1e6:.2f} s', timeout_of(case)
    if twins:
        other_id, other = twins[0]
        obs.note = (f'the program waited {waited}, {"past" if way == "longer" else "short of"}'
                    f' the case\'s timeout={limit} ms: judged as case {other_id} '
                    f'({", ".join(other.options)}), that wait')
        return _judged_as(cid, case, obs, other)
    if way == 'longer':
        obs.message = (f'not judged: the program waited {waited} (its own timeout), '
                       f'past the case\'s timeout={limit} ms, and got {obs.actual}, the '
                       f'kernel\'s own verdict; the case\'s ETIMEDOUT is for a caller '
                       f'that gives up at {limit} ms ({obs.message})')
    else:
        obs.message = (f'not judged: the program gave up after {waited} (its own timeout '
                       f'came before the kernel\'s verdict), short of the case\'s '
                       f'timeout={limit} ms; the case\'s {case.expect.outcome} is for a '
                       f'caller that waits {limit} ms ({obs.message})')
    obs.actual = ERROR
    return make_cell(cid, case, obs)


def judge_call(cid, case, obs, cases):
    """make_cell, against the case of the call the program really made and of the
    wait it really had (module docstring; harness/judge/calls.py)."""
    by_wait = wait_twins(case, obs, cases)
    if by_wait is not None:
        return _by_wait(cid, case, obs, *by_wait)
    other = bind_twins(case, obs, cases)
    if other is None:
        return make_cell(cid, case, obs)
    made, twins, halves = other
    said = f'the program called {show_call(made)}, not the case\'s ' \
           f'{show_call(bind_call(case.addr, case.options, obs.call.get("scope")))}'
    if not twins:
        obs.note = f'{said}: the expectation is for the case\'s call'
        return make_cell(cid, case, obs)
    if halves:
        names = ' and '.join(f'case {i} ({o.label()})' for i, o in twins)
        alone = '' if len(twins) > 1 else ' (the scenario has no case of its IPv6 half)'
        obs.note = (f'{said}: a dual-stack socket, IPv4 and IPv6 at once: judged as '
                    f'{names}, its halves{alone}')
        return _judged_by_halves(cid, case, obs, twins)
    obs.note = f'{said}: judged as case {twins[0][0]}, that call'
    return _judged_as(cid, case, obs, twins[0][1])


def judge(cases, observations, problem=None, connect_problem=None):
    """Every case as a cell.

    cases: [(case id, Case)] in matrix order; observations: {case id: Observation},
    emptied as the cells are made (each observation goes as its cell comes: a 400-host
    run holds 320,400 of each).  problem (the network never got ready) makes every cell an error naming it;
    connect_problem (a server that had to listen did not) does so for netprobe's
    connect cells.
    """
    cells = []
    for cid, case in cases:
        obs = observations.pop(cid, None)
        if problem:
            obs = Observation.error(problem, obs.method if obs else 'netprobe',
                                    extra=obs.extra if obs else {})
        elif obs is None:
            obs = Observation.error('no result for this case')
        elif connect_problem and case.kind == 'connect' and obs.method == 'netprobe':
            obs = Observation.error(connect_problem)
        cells.append(judge_call(cid, case, obs, cases))
    return cells


# -- cells under a mutation ---------------------------------------------------------------------

def cell_key(cell):
    return (cell.kind, cell.host, cell.column)


def annotate(cells, control_cells, label):
    """Mutated cells with `observed` expectations filled, `control` and `changed`.

    label: 'NAME.TARGET', folded into program log names so that the launches of
    every mutation keep their own logs.
    """
    control = {cell_key(c): c for c in control_cells}
    out = []
    for cell in cells:
        cell = cell.but()
        if cell.rule == 'observed' and cell.actual != ERROR:
            cell.expected, cell.expected_peer = cell.actual, cell.peer
            cell.verdict = verdict(cell)
        base = control.get(cell_key(cell))
        cell.control = base.actual if base else None
        cell.changed = base is None or (base.actual, base.peer, base.after) != \
            (cell.actual, cell.peer, cell.after)
        if cell.log:
            cell.log = relabel(cell.log, label)
        out.append(cell)
    return out


def relabel(log, label):
    """programs/b3-h1 -> programs/addr-del.h1.b3-h1."""
    head, _, tail = log.partition('/')
    return f'{head}/{label}.{tail}'
