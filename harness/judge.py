"""The one judge: observations in, cells out, by one rule.

Probers (netprobe batches, the user's server and client programs) turn cases into
Observations and never decide a verdict; `judge()` makes every cell of a scenario
from the scenario's cases (plus the columns a program adds) and what was observed,
and `verdict()` is the only place a verdict is decided:

    error  nothing could be measured (actual ERROR; the message says why)
    fail   actual differs from expected, or a connect expected OK from host X was
           answered by another host (the wrong-peer rule, cells.wrong_peer)
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

from dataclasses import dataclass, field
from typing import Optional

from .cells import ERROR, OK, wrong_peer


@dataclass
class Observation:
    """What one call really did, as a prober saw it (no verdict).

    actual: OK, an errno name, NOCALL or ERROR.  extra: fields a prober adds to the
    cell as they are (a program's command line, log, exit status).  note: why this
    prober, and not another, made the observation (e.g. a case left to netprobe).
    """
    actual: str
    method: str = 'netprobe'
    message: Optional[str] = None
    peer: Optional[str] = None
    local: Optional[str] = None
    elapsed_us: Optional[int] = None
    sees_peer: bool = True
    extra: dict = field(default_factory=dict)
    note: Optional[str] = None
    call: Optional[dict] = None     # a traced bind: {'addr': ..., 'options': [...]}

    @classmethod
    def error(cls, message, method='netprobe', **kw):
        """An observation of nothing: the call could not be measured, and why."""
        return cls(ERROR, method, message, **kw)

    @classmethod
    def of_record(cls, rec, method='netprobe', **kw):
        """The observation in a netprobe/tracer record (the probe record contract)."""
        return cls(OK if rec.get('ok') else str(rec.get('error')), method,
                   rec.get('message'), rec.get('peer_host'), rec.get('local'),
                   rec.get('elapsed_us'), **kw)


def verdict(cell):
    """'pass', 'fail' or 'error' of a cell that has expected, actual (and peers)."""
    if cell['actual'] == ERROR:
        return 'error'
    if cell['actual'] != cell['expected'] or wrong_peer(cell):
        return 'fail'
    return 'pass'


def case_cell(cid, case):
    """A cell's fields that come from its case (no outcome yet)."""
    exp = case.expect
    return {'id': cid, 'kind': case.kind, 'host': case.host, 'addr': case.addr,
            'port': case.port, 'proto': case.proto, 'options': list(case.options),
            'column': case.label(), 'expected': exp.outcome, 'expected_peer': exp.peer,
            'reason': exp.reason, 'rule': exp.rule}


def make_cell(cid, case, obs):
    """One cell: the case, what was expected, what happened (obs), the verdict."""
    cell = case_cell(cid, case)
    cell.update(obs.extra)
    if not obs.sees_peer:
        cell['expected_peer'] = None
    cell.update(method=obs.method, actual=obs.actual, message=obs.message,
                peer=obs.peer,
                local=obs.local, elapsed_us=obs.elapsed_us)
    if obs.note:
        cell['note'] = obs.note
    cell['verdict'] = verdict(cell)
    return cell


# The options of a bind that decide its outcome, as plan words (the tracer's too).
BIND_WORDS = ('reuseaddr', 'reuseport', 'freebind', 'v6only=1')


def bind_call(addr, options):
    """A bind's (address, deciding options) for comparing calls: an IPv4-mapped IPv6
    address is the IPv4 address (that socket binds IPv4), v6only=0 is the default."""
    if addr.startswith('::ffff:') and '.' in addr:
        addr = addr[len('::ffff:'):]
    words = sorted(o for o in options if o in BIND_WORDS or o.startswith('dev='))
    return addr, tuple(words)


def show_call(call):
    addr, words = call
    return f'bind({addr}' + ''.join(f', {w}' for w in words) + ')'


def same_call_case(case, obs, cases):
    """(case id, Case) of the scenario's case for the call a program really made, or
    None; ('', None) when the call is the case's own."""
    if obs.call is None or case.kind != 'bind':
        return '', None
    made = bind_call(obs.call.get('addr') or '', obs.call.get('options') or ())
    if made == bind_call(case.addr, case.options):
        return '', None
    for cid, other in cases:
        if (other.kind, other.host, other.proto, other.port) == (
                'bind', case.host, case.proto, case.port) and \
                bind_call(other.addr, other.options) == made:
            return cid, other
    return show_call(made), None


def _reuse_only(case, obs):
    """True if the program's call differs from the case's only in SO_REUSEADDR /
    SO_REUSEPORT, and the scenario has no case for it: those options change nothing
    for a bind the scenario did not set up to test them (a note on every cell of a
    runtime that sets SO_REUSEADDR on all its listeners would say nothing)."""
    strip = lambda call: (call[0], tuple(w for w in call[1]   # noqa: E731
                                         if w not in ('reuseaddr', 'reuseport')))
    made = bind_call(obs.call.get('addr') or '', obs.call.get('options') or ())
    return strip(made) == strip(bind_call(case.addr, case.options))


def timeout_of(case):
    """A case's timeout= in ms, or None."""
    for opt in case.options:
        if opt.startswith('timeout='):
            return int(opt[len('timeout='):])
    return None


def _connect_twin(case, obs, cases):
    """For a program's connect that waited past its case's timeout= (a program keeps
    its own timeout) and got the kernel's verdict where the case expects ETIMEDOUT:
    (case id, Case) of the same connect with a timeout long enough, else ('', None);
    None when the case's expectation applies."""
    limit = timeout_of(case) if case.kind == 'connect' and obs.call is None else None
    if (limit is None or obs.method == 'netprobe' or case.expect.outcome != 'ETIMEDOUT'
            or obs.actual in ('ETIMEDOUT', ERROR) or (obs.elapsed_us or 0) <= limit * 1000):
        return None
    src = [o for o in case.options if o.startswith('src=')]
    for cid, other in cases:
        if other is not case and other.kind == 'connect' and (
                other.host, other.addr, other.port, other.proto) == (
                case.host, case.addr, case.port, case.proto) and \
                [o for o in other.options if o.startswith('src=')] == src and \
                (timeout_of(other) or 0) * 1000 >= obs.elapsed_us:
            return cid, other
    return '', None


def judge_timeout(cid, case, obs, twin):
    """The cell of a program connect that waited past its case's timeout (twin:
    _connect_twin's answer)."""
    waited = f'{obs.elapsed_us / 1e6:.2f} s'
    limit = f'timeout={timeout_of(case)}'
    other_id, other = twin
    if other is None:
        obs.message = (f'not judged: the program waited {waited} (its own timeout), past '
                       f'the case\'s {limit} ms, and got {obs.actual}, the kernel\'s own '
                       f'verdict; the case\'s ETIMEDOUT is for a caller that gives up at '
                       f'{timeout_of(case)} ms ({obs.message})')
        obs.actual = ERROR
        return make_cell(cid, case, obs)
    obs.note = (f'the program waited {waited}, past the case\'s {limit} ms: judged as case '
                f'{other_id} ({", ".join(other.options)}), that wait')
    cell = make_cell(cid, case, obs)
    exp = other.expect
    cell.update(expected=exp.outcome, reason=exp.reason, rule=exp.rule)
    cell['verdict'] = verdict(cell)
    return cell


def judge_call(cid, case, obs, cases):
    """make_cell, against the case of the call the program really made."""
    twin = _connect_twin(case, obs, cases)
    if twin is not None:
        return judge_timeout(cid, case, obs, twin)
    other_id, other = same_call_case(case, obs, cases)
    if other is None and not other_id:
        return make_cell(cid, case, obs)
    asked = show_call(bind_call(case.addr, case.options))
    if other is None and _reuse_only(case, obs):
        return make_cell(cid, case, obs)
    if other is None:
        obs.note = (f'the program called {other_id}, not the case\'s {asked}: the '
                    f'expectation is for the case\'s call')
        return make_cell(cid, case, obs)
    made = show_call(bind_call(obs.call.get('addr') or '', obs.call.get('options') or ()))
    obs.note = (f'the program called {made}, not the case\'s {asked}: judged as case '
                f'{other_id}, that call')
    cell = make_cell(cid, case, obs)
    exp = other.expect
    cell.update(expected=exp.outcome, reason=exp.reason, rule=exp.rule)
    cell['verdict'] = verdict(cell)
    return cell


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
