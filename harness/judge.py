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
"""

from dataclasses import dataclass, field
from typing import Optional

from .cells import ERROR, OK, wrong_after, wrong_peer
from .scenario import AFTERS


@dataclass
class Observation:
    """What one call really did, as a prober saw it (no verdict).

    actual: OK, an errno name, NOCALL or ERROR.  after: what followed a connect's
    handshake (netprobe's record; None unknown).  extra: fields a prober adds to the
    cell as they are (a program's command line, log, exit status).  note: why this
    prober, and not another, made the observation (e.g. a case left to netprobe).
    """
    actual: str
    method: str = 'netprobe'
    message: Optional[str] = None
    peer: Optional[str] = None
    local: Optional[str] = None
    elapsed_us: Optional[int] = None
    after: Optional[str] = None
    sees_peer: bool = True
    extra: dict = field(default_factory=dict)
    note: Optional[str] = None

    @classmethod
    def error(cls, message, method='netprobe', **kw):
        """An observation of nothing: the call could not be measured, and why."""
        return cls(ERROR, method, message, **kw)

    @classmethod
    def of_record(cls, rec, method='netprobe', **kw):
        """The observation in a netprobe/tracer record (the probe record contract)."""
        return cls(OK if rec.get('ok') else str(rec.get('error')), method,
                   rec.get('message'), rec.get('peer_host'), rec.get('local'),
                   rec.get('elapsed_us'), after=_after(rec), **kw)


def _after(rec):
    """A record's `after`, or None (unknown) when absent or not one of cells.AFTERS:
    an older netprobe, or the tracers, which read no data."""
    after = rec.get('after')
    return after if after in AFTERS else None


def verdict(cell):
    """'pass', 'fail' or 'error' of a cell that has expected, actual (and peers)."""
    if cell['actual'] == ERROR:
        return 'error'
    if cell['actual'] != cell['expected'] or wrong_peer(cell) or wrong_after(cell):
        return 'fail'
    return 'pass'


def case_cell(cid, case):
    """A cell's fields that come from its case (no outcome yet)."""
    exp = case.expect
    return {'id': cid, 'kind': case.kind, 'host': case.host, 'addr': case.addr,
            'port': case.port, 'proto': case.proto, 'options': list(case.options),
            'column': case.label(), 'expected': exp.outcome, 'expected_peer': exp.peer,
            'reason': exp.reason, 'rule': exp.rule,
            **({'expected_after': exp.after} if case.kind == 'connect' else {})}


def make_cell(cid, case, obs):
    """One cell: the case, what was expected, what happened (obs), the verdict."""
    cell = case_cell(cid, case)
    cell.update(obs.extra)
    if not obs.sees_peer:
        cell['expected_peer'] = None
        cell.pop('expected_after', None)
    cell.update(method=obs.method, actual=obs.actual, message=obs.message,
                peer=obs.peer,
                local=obs.local, elapsed_us=obs.elapsed_us)
    if case.kind == 'connect' and obs.sees_peer:
        cell['after'] = obs.after
    if obs.note:
        cell['note'] = obs.note
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
        cells.append(make_cell(cid, case, obs))
    return cells
