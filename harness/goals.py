"""A lab's goal: the `goal` block of its sheet, checked against the live cells.

The goal comes from the lab sheet (labs/<scenario>.md), in a fenced block whose info
string is `goal`, one requirement a line:

    HOST KIND COLUMN -> OUTCOME [PEER]     e.g.  h2 bind tcp 10.0.0.1 -> OK
                                                 * connect tcp 10.0.0.2:7001 -> OK h2
    all cells pass                         every cell as the scenario expects

HOST may be `*` (every host that has that column); COLUMN is the cell's column label
as matrix.json and the report show it.  A goal line that names no cell of the
scenario is an error at start (exit 2), so a sheet cannot silently drift away from
its scenario.  A sheet without a goal block still gets `check` (changes only).

The sheet's ```hints block holds the hints `hint` gives one at a time, in order (one
hint a paragraph; lines of a paragraph are joined): a nudge first, then the tool to
use, then nearly the answer.  `sheet` prints the sheet without them.
"""

import os
import re

from . import REPO
from .cells import name as cell_name, state as cell_state
from .errors import UsageError

LABS_DIR = os.path.join(REPO, 'labs')


class LabError(UsageError):
    """The lab cannot be opened or checked: message printed, exit 2."""


_GOAL_LINE = re.compile(r'^(\S+)\s+(bind|connect)\s+(.+?)\s*->\s*(\S+)(?:\s+(\S+))?\s*$')


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


def goal_cells(req, cells):
    """The cells a requirement is about."""
    return [c for c in cells if c['kind'] == req['kind'] and c['column'] == req['column']
            and req['host'] in ('*', c['host'])]


def judge_goal(reqs, cells):
    """(holds, [text of each requirement that does not hold, with what is there])."""
    missing = []
    for req in reqs:
        if req['all']:
            bad = [c for c in cells if c['verdict'] != 'pass']
            if bad:
                missing.append(f'{req["text"]}: {len(bad)} cell(s) differ, e.g. '
                               f'{cell_name(bad[0])} is {cell_state(bad[0])}, '
                               f'expected {bad[0]["expected"]}')
            continue
        for cell in goal_cells(req, cells):
            ok = cell['actual'] == req['outcome'] and (
                req['peer'] is None or cell.get('peer') == req['peer'])
            if not ok:
                want = req['outcome'] + (f' from {req["peer"]}' if req['peer'] else '')
                missing.append(f'{cell_name(cell)} is {cell_state(cell)}, the goal is '
                               f'{want}')
    return not missing and bool(reqs), missing


def changes(before, after):
    """Lines 'HOST KIND COLUMN: OLD -> NEW' for the cells whose outcome changed."""
    old = {c['id']: c for c in before}
    out = []
    for cell in after:
        prev = old.get(cell['id'])
        if prev is None:
            continue
        if (prev['actual'], prev.get('peer')) != (cell['actual'], cell.get('peer')):
            out.append(f'{cell_name(cell)}: {cell_state(prev)} -> {cell_state(cell)}')
    return out


def sheet_path(name):
    """labs/<name>.md."""
    return os.path.join(LABS_DIR, f'{name}.md')


def sheet_text(scenario):
    """(text of the scenario's lab sheet, its path), or (None, None) without one.
    A variant's scenario carries its own sheet text (harness/variants.py)."""
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


def load_hints(scenario):
    """The hints of the scenario's lab sheet ([] without a sheet or hints block)."""
    text, _path = sheet_text(scenario)
    return read_hints(text) if text else []
