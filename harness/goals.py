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


def read_goal(text):
    """The goal lines of a lab sheet's ```goal block: [(lineno, line)], [] if none."""
    lines = text.splitlines()
    out, inside = [], False
    for n, line in enumerate(lines, 1):
        stripped = line.strip()
        if not inside and re.match(r'^(```|~~~)\s*goal\s*$', stripped):
            inside = True
        elif inside and stripped.startswith(('```', '~~~')):
            inside = False
        elif inside and stripped and not stripped.startswith('#'):
            out.append((n, stripped))
    return out


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


def load_goal(scenario, cells):
    """(requirements, sheet path or None) for the scenario."""
    path = sheet_path(scenario.name)
    if not os.path.isfile(path):
        return [], None
    with open(path, encoding='utf-8') as f:
        lines = read_goal(f.read())
    return parse_goal(lines, cells, os.path.relpath(path, REPO)), path
