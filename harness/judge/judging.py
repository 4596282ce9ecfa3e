"""The one judge: observations in, cells out, by one rule.

Probers (netprobe batches, the user's server and client programs) turn cases into
Observations and never decide a verdict; `judge()` makes every cell of a scenario
from the scenario's cases (plus the columns a program adds) and what was observed,
and `verdict()` is the only place a verdict is decided:

    error  nothing could be measured (actual ERROR; the message says why)
    fail   actual differs from expected, or a connect expected OK from host X was
           answered by another host or by nobody (the wrong-peer rule,
           cells.wrong_peer), or its handshake was followed by something else than
           expected (the after rule, cells.wrong_after: "connected, then closed")
    pass   otherwise

A prober that cannot see who answered (a traced program sees no data) says so
(`sees_peer=False`) and its cell does not check the peer.

A program does not always make the call its case describes: Go's and Java's
listeners on 0.0.0.0 are dual-stack sockets bound to ::, and Go, Java, Node and
asyncio set SO_REUSEADDR on every listener.  A traced bind says what the call really
was (`Observation.call`: address and the socket options that decide a bind).  When
it differs from the case's, the cell is judged against the scenario's case for the
call the program made, if the scenario has one (same host, protocol and port; the
note names it), and otherwise against its own case with a note naming the
difference (none when only SO_REUSEADDR/SO_REUSEPORT differ: the scenario has no case
that tests them there): never silently against a call that was not made.

Likewise a program keeps its own connect timeout.  A case with timeout=300 that
expects ETIMEDOUT (the caller gives up before the kernel decides) says nothing of a
program that waited 3 s and got the kernel's own verdict (EHOSTUNREACH when
neighbour discovery gave up): such a cell is judged against the same connect with a
long enough timeout= if the scenario has one, and otherwise is not judged (ERROR,
the message saying what the program got and after how long).
"""

from dataclasses import replace

from ..probe import Observation
from ..scenarios import ERROR, option, timeout_of, unmapped
from .cell import Cell
from .cells import wrong_after, wrong_peer


def verdict(cell):
    """'pass', 'fail' or 'error' of a cell that has expected, actual (and peers)."""
    if cell.actual == ERROR:
        return 'error'
    if cell.actual != cell.expected or wrong_peer(cell) or wrong_after(cell):
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
                expected_after=exp.after if case.kind == 'connect' and sees else None)
    for key, value in obs.extra.items():    # a program's: program, log, exit, ...
        setattr(cell, key, value)
    cell.verdict = verdict(cell)
    return cell


# The options of a bind that decide its outcome, as plan words (the tracer's too).
BIND_WORDS = ('reuseaddr', 'reuseport', 'freebind', 'v6only=1')


def bind_call(addr, options):
    """A bind's (address, deciding options) for comparing calls: an IPv4-mapped IPv6
    address is the IPv4 address (that socket binds IPv4), v6only=0 is the default."""
    words = sorted(o for o in options if o in BIND_WORDS or o.startswith('dev='))
    return unmapped(addr), tuple(words)


def show_call(call):
    addr, words = call
    return f'bind({addr}' + ''.join(f', {w}' for w in words) + ')'


def _without_reuse(call):
    return call[0], tuple(w for w in call[1] if w not in ('reuseaddr', 'reuseport'))


def _other_bind(case, obs, cases):
    """For a program's bind that was not the case's call: (the call it made, the
    scenario's (case id, Case) for that call or None); None when it was the case's
    call, or differs only in SO_REUSEADDR/SO_REUSEPORT and no case tests those."""
    if obs.call is None or case.kind != 'bind':
        return None
    made = bind_call(obs.call.get('addr') or '', obs.call.get('options') or ())
    asked = bind_call(case.addr, case.options)
    if made == asked:
        return None
    for cid, other in cases:
        if (other.kind, other.host, other.proto, other.port) == (
                'bind', case.host, case.proto, case.port) and \
                bind_call(other.addr, other.options) == made:
            return made, (cid, other)
    if _without_reuse(made) == _without_reuse(asked):
        return None
    return made, None


def _longer_connect(case, obs, cases):
    """For a program's connect that waited past its case's timeout= (a program keeps
    its own) and got the kernel's verdict where the case expects ETIMEDOUT: [the
    scenario's (case id, Case) of the same connect with a timeout that long], or []
    when it has none; None when the case's expectation applies."""
    if obs.method == 'netprobe' or case.kind != 'connect' or \
            case.expect.outcome != 'ETIMEDOUT' or obs.actual in ('ETIMEDOUT', ERROR):
        return None         # netprobe's own cells (every cell of a plain run) stop here
    limit = timeout_of(case)
    if limit is None or (obs.elapsed_us or 0) <= limit * 1000:
        return None
    return [(cid, other) for cid, other in cases
            if other is not case and other.kind == 'connect'
            and (other.host, other.addr, other.port, other.proto) == (
                case.host, case.addr, case.port, case.proto)
            and option(other, 'src') == option(case, 'src')
            and (timeout_of(other) or 0) * 1000 >= obs.elapsed_us][:1]


def _judged_as(cid, case, obs, other):
    """make_cell of case, with the expectation of the scenario's case `other` (its
    outcome, reason and rule; the peer and after are the case's own)."""
    exp = other.expect
    return make_cell(cid, case, obs, replace(
        case.expect, outcome=exp.outcome, reason=exp.reason, rule=exp.rule))


def judge_call(cid, case, obs, cases):
    """make_cell, against the case of the call the program really made and of the
    wait it really had (module docstring)."""
    longer = _longer_connect(case, obs, cases)
    if longer is not None:
        waited, limit = f'{obs.elapsed_us / 1e6:.2f} s', timeout_of(case)
        if not longer:
            obs.message = (f'not judged: the program waited {waited} (its own timeout), '
                           f'past the case\'s timeout={limit} ms, and got {obs.actual}, the '
                           f'kernel\'s own verdict; the case\'s ETIMEDOUT is for a caller '
                           f'that gives up at {limit} ms ({obs.message})')
            obs.actual = ERROR
            return make_cell(cid, case, obs)
        other_id, other = longer[0]
        obs.note = (f'the program waited {waited}, past the case\'s timeout={limit} ms: '
                    f'judged as case {other_id} ({", ".join(other.options)}), that wait')
        return _judged_as(cid, case, obs, other)
    other = _other_bind(case, obs, cases)
    if other is None:
        return make_cell(cid, case, obs)
    made, twin = other
    said = f'the program called {show_call(made)}, not the case\'s ' \
           f'{show_call(bind_call(case.addr, case.options))}'
    if twin is None:
        obs.note = f'{said}: the expectation is for the case\'s call'
        return make_cell(cid, case, obs)
    obs.note = f'{said}: judged as case {twin[0]}, that call'
    return _judged_as(cid, case, obs, twin[1])


def judge(cases, observations, problem=None, connect_problem=None):
    """Every case as a cell.

    cases: [(case id, Case)] in matrix order; observations: {case id: Observation}.
    problem (the network never got ready) makes every cell an error naming it;
    connect_problem (a server that had to listen did not) does so for netprobe's
    connect cells.
    """
    cells = []
    for cid, case in cases:
        obs = observations.get(cid)
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
