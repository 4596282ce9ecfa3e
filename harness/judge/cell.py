"""The cell, the unit of every matrix: one schema for the judge that makes it, the
writer, the run-folder reader, baselines, merge and the lab.

A cell (one element of matrix.json's `cells`) has:
    id, kind (bind|connect|join|mcast-if|send), host (the host that made the call), addr, port, proto,
    options, column (its matrix column: scenario.column_label unless the scenario
    named it), expected, expected_peer, actual, peer, local, verdict (pass|fail|
    error), reason, rule, message, elapsed_us, method (netprobe|tracer|syscall|
    observed); program cells add program, log, exit, stopped; a cell a program could
    not take (a precondition it lacks, harness/probe/preconditions.py) adds `note`.
    A connect cell whose prober saw the connection adds `after` (what followed the
    handshake: greeting, data, eof, reset, timeout, error; null = unknown, e.g. a
    failed handshake) and `expected_after` (null: not checked); a traced program
    reads no data, so its cells have neither (`sees_peer` false).  A cell of
    mutations.json adds control (the unmutated network's outcome) and changed; a
    mutated cell as read adds mutation ('NAME TARGET').  A cell in time (a case with
    retry= or delay=, or a server program run through a timeline: probe/intime.py)
    adds tries ([[seconds into the probe phase, outcome], ...]) and
    ok_at (when the success came, null: none); one whose expectation says it in time
    adds expected_within and expected_before (harness/judge/history.py).  A cell whose
    address is a name (`localhost`) adds `resolved` (every address it resolved to, in
    order).
Outcome words (expected and actual): OK, an errno name (EADDRNOTAVAIL), NOCALL (a
program exited without making the call), ERROR (could not be measured; the message
says why, and the verdict is then `error`); a name case's: the address that gave
the outcome and its word ('::1 EADDRNOTAVAIL'), or an EAI_ name (no address).

Cells are held as Cell objects (slotted: a 200-host run holds 80,000 of them) from the
judge to the writer, and read back as Cell objects; `to_json()` is the file's object
and `Cell.of_json()` the checked way back (run folders come from CI artifacts and pull
requests: a bad field is BadInput naming the file and the field).
"""

from dataclasses import dataclass, fields, replace
from typing import Optional

from ..errors import BadInput
from ..scenarios import AFTERS

# join, mcast-if, send: the UDP calls besides bind and connect (netprobe's
# operations, the tracers' records; scenarios/udpcalls.py)
KINDS = ('bind', 'connect', 'join', 'mcast-if', 'send')
VERDICTS = ('pass', 'fail', 'error')


@dataclass(slots=True)
class Cell:
    """One call, what was expected of it, what it did, and the verdict."""
    kind: str
    host: str
    column: str
    expected: str
    actual: str
    verdict: str
    id: Optional[str] = None
    addr: Optional[str] = None
    port: Optional[int] = None
    proto: Optional[str] = None
    options: list = ()
    expected_peer: Optional[str] = None
    peer: Optional[str] = None
    local: Optional[str] = None
    reason: Optional[str] = None
    rule: Optional[str] = None
    message: Optional[str] = None
    elapsed_us: Optional[int] = None
    method: Optional[str] = None
    program: Optional[str] = None      # a program's cell: program, log, exit, stopped
    log: Optional[str] = None
    exit: Optional[int] = None
    stopped: Optional[bool] = None
    note: Optional[str] = None
    sees_peer: bool = True             # written as: after and expected_after present
    after: Optional[str] = None
    expected_after: Optional[str] = None
    control: Optional[str] = None      # mutations.json: control and changed
    changed: Optional[bool] = None
    mutation: Optional[str] = None     # as read: 'NAME TARGET' of a mutated cell
    tries: Optional[list] = None       # in time: [[seconds, outcome], ...], ok_at
    ok_at: Optional[float] = None
    expected_within: Optional[float] = None
    expected_before: Optional[str] = None
    resolved: Optional[list] = None    # a name case: every address, in order

    def to_json(self):
        """The cell as matrix.json holds it: the fields it has (module docstring)."""
        out = {'id': self.id, 'kind': self.kind, 'host': self.host, 'addr': self.addr,
               'port': self.port, 'proto': self.proto, 'options': list(self.options),
               'column': self.column, 'expected': self.expected,
               'expected_peer': self.expected_peer, 'reason': self.reason,
               'rule': self.rule, 'method': self.method, 'actual': self.actual,
               'message': self.message, 'peer': self.peer, 'local': self.local,
               'elapsed_us': self.elapsed_us, 'verdict': self.verdict}
        if self.program is not None:
            out.update(program=self.program, log=self.log, exit=self.exit,
                       stopped=self.stopped)
        if self.kind == 'connect' and self.sees_peer:
            out.update(after=self.after, expected_after=self.expected_after)
        if self.note is not None:
            out['note'] = self.note
        if self.changed is not None:
            out.update(control=self.control, changed=self.changed)
        if self.mutation is not None:
            out['mutation'] = self.mutation
        if self.tries is not None:
            out.update(tries=self.tries, ok_at=self.ok_at)
        if self.expected_within is not None or self.expected_before is not None:
            out.update(expected_within=self.expected_within,
                       expected_before=self.expected_before)
        if self.resolved is not None:
            out['resolved'] = list(self.resolved)
        return out

    @classmethod
    def of_json(cls, data, where):
        """The Cell of a file's object, every field checked (BadInput naming where)."""
        check_cell(data, where)
        cell = cls(**{k: data[k] for k in _FIELDS if k in data})
        cell.sees_peer = 'after' in data or 'expected_after' in data
        cell.options = list(cell.options)
        return cell

    def but(self, **changes):
        """A copy of the cell with changes."""
        return replace(self, **changes)


_FIELDS = tuple(f.name for f in fields(Cell) if f.name != 'sees_peer')
_TEXT = (str,)
_OPT_TEXT = (str, type(None))
_OPT_INT = (int, type(None))
# Fields a cell must have, with their types, and fields it may have.
REQUIRED = {'kind': _TEXT, 'host': _TEXT, 'column': _TEXT, 'expected': _TEXT,
            'actual': _TEXT, 'verdict': _TEXT}
OPTIONAL = {'id': _OPT_TEXT, 'addr': _OPT_TEXT, 'port': _OPT_INT, 'proto': _OPT_TEXT,
            'options': (list,), 'expected_peer': _OPT_TEXT, 'peer': _OPT_TEXT,
            'local': _OPT_TEXT, 'reason': _OPT_TEXT, 'rule': _OPT_TEXT,
            'message': _OPT_TEXT, 'elapsed_us': _OPT_INT, 'method': _OPT_TEXT,
            'program': _OPT_TEXT, 'log': _OPT_TEXT, 'exit': _OPT_INT,
            'stopped': (bool, type(None)), 'note': _OPT_TEXT, 'after': _OPT_TEXT,
            'expected_after': _OPT_TEXT, 'control': _OPT_TEXT,
            'changed': (bool, type(None)), 'mutation': _OPT_TEXT,
            'tries': (list, type(None)), 'ok_at': (int, float, type(None)),
            'expected_within': (int, float, type(None)), 'expected_before': _OPT_TEXT,
            'resolved': (list, type(None))}
assert set(REQUIRED) | set(OPTIONAL) == set(_FIELDS)


def check_cell(cell, where):
    """BadInput unless cell is an object with the cell fields, each of its type."""
    if not isinstance(cell, dict):
        raise BadInput(f'{where}: not an object')
    for key in REQUIRED:
        if key not in cell:
            raise BadInput(f'{where}: no field "{key}"')
    for key, types in list(REQUIRED.items()) + list(OPTIONAL.items()):
        if key in cell and (not isinstance(cell[key], types) or
                            isinstance(cell[key], bool) and bool not in types):
            raise BadInput(f'{where}: field "{key}" has the wrong type '
                           f'({type(cell[key]).__name__})')
    if cell['kind'] not in KINDS:
        raise BadInput(f'{where}: kind {cell["kind"]!r} is not one of {", ".join(KINDS)}')
    if cell['verdict'] not in VERDICTS:
        raise BadInput(f'{where}: verdict {cell["verdict"]!r} is not pass, fail or error')
    for key in ('after', 'expected_after'):
        if cell.get(key) is not None and cell[key] not in AFTERS:
            raise BadInput(f'{where}: field "{key}" is {cell[key]!r}, not one of '
                           f'{", ".join(AFTERS)}')
    if not all(isinstance(o, str) for o in cell.get('options', [])):
        raise BadInput(f'{where}: field "options" is not a list of text')
    if not all(isinstance(t, list) and len(t) == 2 and isinstance(t[1], str) and
               isinstance(t[0], (int, float)) and not isinstance(t[0], bool)
               for t in cell.get('tries') or []):
        raise BadInput(f'{where}: field "tries" is not a list of [seconds, outcome]')
    if not all(isinstance(a, str) for a in cell.get('resolved') or []):
        raise BadInput(f'{where}: field "resolved" is not a list of text')


def cell_json(value):
    """json's `default=` for data that holds cells: a Cell's to_json()."""
    if isinstance(value, Cell):
        return value.to_json()
    raise TypeError(f'{type(value).__name__} is not JSON serialisable')
