"""What one call really did, as a prober saw it: the probe stage's output, the
judge's input (harness/judge/judging.py decides the verdict)."""

import errno
from dataclasses import dataclass, field, replace
from typing import Optional

from ..scenarios import AFTERS, ERROR, name_word, OK


@dataclass(slots=True)      # one a cell: 320,400 at 400 hosts
class Observation:
    """What one call really did, as a prober saw it (no verdict).

    actual: OK, an errno name, NOCALL or ERROR; a name case's: 'ADDR OK|ERRNO' (the
    address that gave it) or an EAI_ name, with extra's resolved (the list, in order).  after: what followed a connect's
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
    # a traced bind: {'addr': 'fe80::1%2', 'options': [...], 'scope': {'index': 2,
    # 'name': 'h1-eth0'} or None (launches.scope_of: the judge cannot look into the host)}
    call: Optional[dict] = None
    # a retrying (or delayed) call's tries, [[seconds, outcome word], ...] on the wall
    # clock until on_timeline() places them in the probe phase; ok_at: its success
    tries: Optional[list] = None
    ok_at: Optional[float] = None

    @classmethod
    def error(cls, message, method='netprobe', **kw):
        """An observation of nothing: the call could not be measured, and why."""
        return cls(ERROR, method, message, **kw)

    @classmethod
    def of_record(cls, rec, method='netprobe', **kw):
        """The observation in a netprobe/tracer record (the probe record contract)."""
        word = OK if rec.get('ok') else str(rec.get('error'))
        if isinstance(rec.get('resolved'), list):   # a name case: which address, all
            word = name_word(rec.get('addr'), word)
            kw['extra'] = dict(kw.get('extra') or {}, resolved=list(rec['resolved']))
        obs = cls(word, method, rec.get('message'), rec.get('peer_host'),
                  rec.get('local'), rec.get('elapsed_us'), after=_after(rec), **kw)
        if isinstance(rec.get('tries'), list):      # records.py checked their shape
            start = rec['start_ms'] / 1000
            obs.tries = [[start + t / 1000, OK if e == 0 else errno_word(e)]
                         for t, e in rec['tries']]
            obs.ok_at = None if rec.get('ok_ms') is None else start + rec['ok_ms'] / 1000
        return obs

    def on_timeline(self, t0):
        """The observation with its tries in seconds from t0 (the probe phase's
        start, a wall clock), rounded to the millisecond."""
        if self.tries is None:
            return self
        return replace(self, tries=[[round(t - t0, 3), word] for t, word in self.tries],
                       ok_at=None if self.ok_at is None else round(self.ok_at - t0, 3))


def errno_word(number):
    """The symbolic name of an errno number ('EADDRNOTAVAIL'), or the number."""
    return errno.errorcode.get(number, str(number))


def _after(rec):
    """A record's `after`, or None (unknown) when absent or not one of cells.AFTERS:
    an older netprobe, or the tracers, which read no data."""
    after = rec.get('after')
    return after if after in AFTERS else None
