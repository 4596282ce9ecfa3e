"""A lab's goal: the `goal` block of its sheet, checked against the live cells.

The goal comes from the lab sheet (labs/<scenario>.md), in a fenced block whose info
string is `goal`, one requirement a line:

    HOST KIND COLUMN -> OUTCOME [PEER]     e.g.  h2 bind tcp 10.0.0.1 -> OK
                                                 * connect tcp 10.0.0.2:7001 -> OK h2
    all cells pass                         every cell as the scenario expects

HOST may be `*` (every host that has that column); COLUMN is the cell's column label
as matrix.json and the report show it, or `*` (every column of that host and kind).
A goal line that names no cell of the scenario is an error at start (exit 2), so a
sheet cannot silently drift away from its scenario.  A sheet without a goal block still gets `check` (changes only).

The sheet's ```guard block keeps a fix honest: every cell that passed when the lab
opened, other than the goal's, must keep its outcome, so a "fix" that breaks something
else (an address duplicated, a route lost, a port now taken, a firewall opened wider
than needed) is not SOLVED.  Its lines:

    HOST KIND COLUMN -> OUTCOME [PEER]     a cell the sheet's own fix (or time) changes,
                                           and the outcome it may have instead (a cell
                                           may have several such lines)
    if OUTCOME[,OUTCOME...]: WORDS         why a guarded cell that now shows OUTCOME
    if other: WORDS                        broke, in the sheet's words (`check` and
                                           `explain` say it)

The sheet's ```hints block holds the hints `hint` gives one at a time, in order (one
hint a paragraph; lines of a paragraph are joined): a nudge first, then the tool to
use, then nearly the answer.  `sheet` prints the sheet without them.
"""

import os
import re

from .. import REPO
from ..errors import UsageError
from ..judge import name as cell_name, state as cell_state

LABS_DIR = os.path.join(REPO, 'labs')


class LabError(UsageError):
    """The lab cannot be opened or checked: message printed, exit 2."""


_GUARD_WORDS = re.compile(r'^if\s+([A-Za-z,\s]+?)\s*:\s*(.+)$')
# OUTCOME is one word, or a name case's two: the address that gave it and its word
# ('::1 EADDRNOTAVAIL', '127.0.0.1 OK'; scenarios/names.py).  The column runs to the
# last '->': a send's column has one of its own ('udp 10.0.0.12->10.0.0.2:7002').
_GOAL_LINE = re.compile(r'^(\S+)\s+(bind|connect|join|mcast-if|send)\s+(.*\S)\s*->\s*'
                        r'((?:[0-9A-Fa-f]*[.:][0-9A-Fa-f.:]*\s+)?[^\s>-]\S*)(?:\s+(\S+))?\s*$')


def _block_lines(text, info):
    """[(lineno, stripped line)] inside the sheet's fenced blocks of that info string."""
    out, inside = [], False
    for n, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not inside and re.match(rf'^(```|~~~)\s*{info}\s*$', stripped):
            inside = True
        elif inside and stripped.startswith(('```', '~~~')):
            inside = False
        elif inside:
            out.append((n, stripped))
    return out


def read_goal(text):
    """The goal lines of a lab sheet's ```goal block: [(lineno, line)], [] if none."""
    return [(n, ln) for n, ln in _block_lines(text, 'goal')
            if ln and not ln.startswith('#')]


def read_guard(text):
    """The lines of a lab sheet's ```guard block: [(lineno, line)], [] if none."""
    return [(n, ln) for n, ln in _block_lines(text, 'guard')
            if ln and not ln.startswith('#')]


def read_hints(text):
    """The hints of a lab sheet's ```hints block, in order: one a paragraph."""
    hints, para = [], []
    for _n, line in _block_lines(text, 'hints') + [(0, '')]:
        if line:
            para.append(line)
        elif para:
            hints.append(' '.join(para))
            para = []
    return hints


def without_hints(text):
    """The sheet as `sheet` prints it: its ## Hints section left out (from that
    heading to the next one), so reading the sheet does not spend the hints."""
    return re.sub(r'(?ms)^## Hints\s*$.*?(?=^## |\Z)', '', text).rstrip('\n') + '\n'


def parse_goal(goal_lines, cells, where):
    """Requirements from goal lines, checked against the scenario's cells.

    Returns [{'text', 'all'} | {'text', 'host', 'kind', 'column', 'outcome', 'peer'}].
    Raises LabError naming the line when it is malformed or matches no cell.
    """
    reqs = []
    for n, line in goal_lines:
        if line == 'all cells pass':
            reqs.append({'text': line, 'all': True})
            continue
        m = _GOAL_LINE.match(line)
        if not m:
            raise LabError(f'{where} line {n}: goal line {line!r} is not '
                           '"HOST KIND COLUMN -> OUTCOME [PEER]" or "all cells pass"')
        host, kind, column, outcome, peer = m.groups()
        req = {'text': line, 'all': False, 'host': host, 'kind': kind, 'column': column,
               'outcome': outcome, 'peer': peer}
        if not goal_cells(req, cells):
            raise LabError(f'{where} line {n}: goal line {line!r} names no cell of the '
                           'scenario (check the host, the kind and the column label)')
        reqs.append(req)
    return reqs


def parse_guard(guard_lines, cells, where):
    """The guard of guard lines: {'allowed': [requirements, as parse_goal's],
    'words': [(set of outcomes or None for `other`, words)]}.
    Raises LabError naming the line when it is malformed or matches no cell."""
    allowed, words = [], []
    for n, line in guard_lines:
        m = _GUARD_WORDS.match(line)
        if m:
            keys = {k.strip() for k in m.group(1).split(',') if k.strip()}
            words.append((None if keys == {'other'} else keys, m.group(2)))
            continue
        try:
            allowed += parse_goal([(n, line)], cells, where)
        except LabError as exc:
            raise LabError(str(exc).replace('goal line', 'guard line').replace(
                '"all cells pass"', '"if OUTCOME: WORDS"')) from None
        if allowed[-1]['all']:
            raise LabError(f'{where} line {n}: "all cells pass" is a goal, not a guard line')
    return {'allowed': allowed, 'words': words}


# Why a guarded cell broke, by its new outcome, when the sheet's guard block has no words
# for it.
BROKE_BECAUSE = {
    'OK': 'it was refused or failed on purpose and now gets through: something was '
          'opened wider than the fix needs (a firewall rule, a non-local bind, an '
          'address given to one more host)',
    'ETIMEDOUT': 'its packets now vanish: an address held by two hosts, a route or a '
                 'link lost, or a firewall that drops',
    'ENETUNREACH': 'a route was lost (an address deleted takes its connected route along)',
    'EHOSTUNREACH': 'a route or a neighbour was lost, or a router now rejects it',
    'EADDRNOTAVAIL': 'an address it needs is gone from its host (deleted, moved, '
                     'tentative) or no local port is left',
    'EADDRINUSE': 'the port is now taken',
    'ECONNREFUSED': 'nothing listens there any more, or a firewall now rejects it',
}
ANSWERED_BY_ANOTHER = ('another host answers now: the address moved, or two hosts hold it '
                       '(a duplicate address)')


def guard_words(guard, cell):
    """Why a guarded cell broke: the sheet's words for its outcome, else bindlab's."""
    for keys, words in (guard or {}).get('words', []):
        if keys is not None and cell.actual in keys:
            return words
    for keys, words in (guard or {}).get('words', []):
        if keys is None:
            return words
    if cell.actual == cell.expected:
        return ANSWERED_BY_ANOTHER
    return BROKE_BECAUSE.get(cell.actual, 'its outcome changed')


def _allowed(guard, cell):
    """True when a guard line lets cell have its outcome now."""
    return any(cell.actual == req['outcome'] and
               (req['peer'] is None or cell.peer == req['peer'])
               for req in (guard or {}).get('allowed', []) if goal_cells(req, [cell]))


def judge_guard(guard, reqs, guarded, cells):
    """The broken cells: among the guarded ones (the ids of the cells that passed when
    the lab opened), those outside the goal that no longer pass and that no guard line
    allows.  An ERROR (the harness could not measure) is no breakage."""
    if any(r['all'] for r in reqs):
        return []
    ids = set(guarded)
    goal = {c.id for r in reqs for c in goal_cells(r, cells)}
    return [c for c in cells if c.id in ids and c.id not in goal
            and c.verdict == 'fail' and not _allowed(guard, c)]


def broke_line(cell):
    """'HOST KIND COLUMN: WAS -> NOW' of a broken cell (it passed: WAS is expected)."""
    was = cell.expected + (f' (answered by {cell.expected_peer})'
                           if cell.expected == 'OK' and cell.expected_peer else '')
    return f'{cell_name(cell)}: {was} -> {cell_state(cell)}'


def goal_cells(req, cells):
    """The cells a requirement is about."""
    return [c for c in cells if c.kind == req['kind']
            and req['column'] in ('*', c.column) and req['host'] in ('*', c.host)]


def judge_goal(reqs, cells):
    """(holds, [text of each requirement that does not hold, with what is there])."""
    missing = []
    for req in reqs:
        if req['all']:
            bad = [c for c in cells if c.verdict != 'pass']
            if bad:
                missing.append(f'{req["text"]}: {len(bad)} cell(s) differ, e.g. '
                               f'{cell_name(bad[0])} is {cell_state(bad[0])}, '
                               f'expected {bad[0].expected}')
            continue
        for cell in goal_cells(req, cells):
            ok = cell.actual == req['outcome'] and (
                req['peer'] is None or cell.peer == req['peer'])
            if not ok:
                want = req['outcome'] + (f' from {req["peer"]}' if req['peer'] else '')
                missing.append(f'{cell_name(cell)} is {cell_state(cell)}, the goal is '
                               f'{want}')
    return not missing and bool(reqs), missing


def changes(before, after):
    """Lines 'HOST KIND COLUMN: OLD -> NEW' for the cells whose outcome changed."""
    old = {c.id: c for c in before}
    out = []
    for cell in after:
        prev = old.get(cell.id)
        if prev is None:
            continue
        if (prev.actual, prev.peer) != (cell.actual, cell.peer):
            out.append(f'{cell_name(cell)}: {cell_state(prev)} -> {cell_state(cell)}')
    return out


def sheet_path(name):
    """labs/<name>.md."""
    return os.path.join(LABS_DIR, f'{name}.md')


def sheet_text(scenario):
    """(text of the scenario's lab sheet, its path), or (None, None) without one.
    A variant's scenario carries its own sheet text (harness/lab/variants.py)."""
    text = getattr(scenario, 'sheet_text', None)
    path = sheet_path(getattr(scenario, 'lesson', scenario.name))
    if text is not None:
        return text, path
    if not os.path.isfile(path):
        return None, None
    with open(path, encoding='utf-8') as f:
        return f.read(), path


def load_goal(scenario, cells):
    """(requirements, sheet path or None) for the scenario."""
    text, path = sheet_text(scenario)
    if text is None:
        return [], None
    return parse_goal(read_goal(text), cells, os.path.relpath(path, REPO)), path


def load_guard(scenario, cells):
    """The guard of the scenario's lab sheet (parse_guard's; empty without a block)."""
    text, path = sheet_text(scenario)
    if text is None:
        return {'allowed': [], 'words': []}
    return parse_guard(read_guard(text), cells, os.path.relpath(path, REPO))


def load_hints(scenario):
    """The hints of the scenario's lab sheet ([] without a sheet or hints block)."""
    text, _path = sheet_text(scenario)
    return read_hints(text) if text else []
