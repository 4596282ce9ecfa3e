"""The cell, the unit of every matrix, and the one reader of a run folder.

A cell (one element of matrix.json's `cells`) has:
    id, kind (bind|connect), host (the host that made the call), addr, port, proto,
    options, column (its matrix column: scenario.column_label unless the scenario
    named it), expected, expected_peer, actual, peer, local, verdict (pass|fail|
    error), reason, rule, message, elapsed_us, method (netprobe|tracer|syscall|
    observed); program cells add program, log, exit, stopped; a cell a program could
    not take (a precondition it lacks, harness/probe/preconditions.py) adds `note`.
    A connect cell adds `after` (what followed the handshake: greeting, data, eof,
    reset, timeout, error; null or absent = unknown, e.g. older run folders or a
    failed handshake) and `expected_after` (null: not checked).
Outcome words (expected and actual): OK, an errno name (EADDRNOTAVAIL), NOCALL (a
program exited without making the call), ERROR (could not be measured; the message
says why, and the verdict is then `error`).

The wrong-peer rule: a connect expected OK from host X that was answered by another
host did not pass (`wrong_peer`); "connected, then closed" (after eof, no peer) is
not an answer from X.  The after rule: a connect whose handshake was followed by
something else than its expected_after did not pass (`wrong_after`).  Every module that shows or compares cells uses the
functions here: results (files), console, report, baseline, merge, lab.

`read_run(path)` is the one reader of a run folder, for everything that reads one
(baseline, diff, merge, report).  Run folders come from CI artifacts and pull requests:
every field is checked before use and a bad one is BadInput (exit 2) naming the file
and the field, never a traceback or a guess.
"""

import os
import re

from ..errors import BadInput
from ..files import read_json
from ..scenarios import AFTERS, NOCALL, OK, valid_name

KINDS = ('bind', 'connect')
VERDICTS = ('pass', 'fail', 'error')
METHODS = ('netprobe', 'tracer', 'syscall', 'observed')
_TEXT = (str,)
_OPT_TEXT = (str, type(None))
# Fields a cell must have, with their types, and fields it may have.
REQUIRED = {'kind': _TEXT, 'host': _TEXT, 'column': _TEXT, 'expected': _TEXT,
            'actual': _TEXT, 'verdict': _TEXT}
OPTIONAL = {'id': _TEXT, 'addr': _TEXT, 'port': (int, type(None)), 'proto': _TEXT,
            'options': (list,), 'expected_peer': _OPT_TEXT, 'peer': _OPT_TEXT,
            'local': _OPT_TEXT, 'reason': _OPT_TEXT, 'rule': _OPT_TEXT,
            'message': _OPT_TEXT, 'elapsed_us': (int, type(None)), 'method': _TEXT,
            'program': _OPT_TEXT, 'log': _OPT_TEXT, 'exit': (int, type(None)),
            'stopped': (bool, type(None)), 'note': _OPT_TEXT, 'after': _OPT_TEXT,
            'expected_after': _OPT_TEXT}
# How a connect's `after` reads in compact text (OK/eof, ETIMEDOUT/silent) and in a
# cell's words (greeting: the answer itself; reset: the errno says it).
AFTER_SHORT = {'data': '/data', 'eof': '/eof', 'timeout': '/silent'}
AFTER_TEXT = {'data': 'connected, then bytes that are no greeting',
              'eof': 'connected, then closed without a byte',
              'reset': 'connected, then reset',
              'timeout': 'connected, then nothing within the timeout',
              'error': 'connected, then a read error'}


# -- one cell ----------------------------------------------------------------------------

def wrong_peer(cell):
    """True when a connect expected OK from a host was answered by another one."""
    return cell['actual'] == OK and bool(cell.get('expected_peer')) and \
        cell.get('peer') != cell['expected_peer']


def wrong_after(cell):
    """True when a connect's handshake was followed by something else than expected
    (an unknown `after`, as in an older run folder, is not checked)."""
    want = cell.get('expected_after')
    return bool(want) and cell.get('after') is not None and cell.get('after') != want


def then(cell):
    """'' or the words for what followed a connect's handshake when it was not an
    answer: 'connected, then closed without a byte'."""
    after = cell.get('after')
    return AFTER_TEXT.get(after, '') if cell.get('kind') == 'connect' and \
        isinstance(after, str) else ''


def name(cell):
    """'h2 bind tcp 10.0.0.1': the host, the kind and the column of a cell."""
    return f'{cell["host"]} {cell["kind"]} {cell["column"]}'


def state(cell):
    """'OK', 'OK (answered by h3)', 'OK (connected, then closed without a byte)',
    'EADDRNOTAVAIL', 'ERROR (message)'."""
    text = cell['actual']
    if cell['actual'] == OK and cell.get('peer'):
        text += f' (answered by {cell["peer"]})'
    elif then(cell) and cell['verdict'] != 'error':
        text += f' ({then(cell)})'
    if cell['verdict'] == 'error' and cell.get('message'):
        text += f' ({cell["message"]})'
    return text


def short(cell):
    """Compact text of a cell: OK, an errno name, ERR; OK/eof for a connect that was
    closed without a byte (also /data, /silent); '!' marks a mismatch."""
    if cell is None:
        return ''
    if cell['verdict'] == 'error':
        return 'ERR!'
    text = cell['actual']
    if cell['kind'] == 'connect' and cell.get('after') in AFTER_SHORT:
        text += AFTER_SHORT[cell['after']]
    elif wrong_peer(cell):
        text = f'OK@{cell.get("peer")}'
    return text + ('!' if cell['verdict'] == 'fail' else '')


def describe(cell):
    """One line naming a cell and what went wrong."""
    if cell['verdict'] == 'error':
        return f'{name(cell)}: could not be measured: {cell.get("message")}'
    got = cell['actual']
    if then(cell):
        got = f'{got}, {then(cell)}'
    if wrong_peer(cell) and cell.get('peer'):
        got = f'OK answered by {cell.get("peer")}, expected {cell["expected_peer"]}'
    elif wrong_peer(cell):
        got = f'{got}, not an answer from {cell["expected_peer"]}'
    elif wrong_after(cell):
        got = f'{got}, expected {AFTER_TEXT.get(cell["expected_after"], "an answer")}'
    elif got == NOCALL:           # what the program said on its way out
        got = f'NOCALL: {cell.get("message")}'
    return f'{name(cell)}: expected {cell["expected"]}, got {got} ({cell.get("reason")})'


# -- many cells ---------------------------------------------------------------------------

def counts(cells):
    """{'pass': n, 'fail': n, 'error': n} of cells."""
    out = {v: 0 for v in VERDICTS}
    for cell in cells:
        out[cell['verdict']] += 1
    return out


def mismatches(cells):
    """The cells that did not pass."""
    return [c for c in cells if c['verdict'] != 'pass']


def grid(cells, kind):
    """(row names, column labels, {(row, column): cell}) of one kind of cells.  Rows
    and columns in the order they first appear, gathered as dict keys: a list's `in`
    made this quadratic (0.5 s for the 200-host matrices)."""
    mine = [cell for cell in cells if cell['kind'] == kind]
    table = {(cell['host'], cell['column']): cell for cell in mine}
    rows = list(dict.fromkeys([host for host, _column in table]))
    cols = list(dict.fromkeys([column for _host, column in table]))
    return rows, cols, table


def mutation_cells(matrix):
    """Every mutated cell of a scenario (mutations.json), each with its `mutation`
    ('NAME TARGET')."""
    return [dict(c, mutation=f'{m["name"]} {m["target"]}')
            for m in matrix.get('mutations') or () for c in m['cells']]


def all_cells(matrix):
    """A scenario's cells and its mutated cells: what counts in a run's totals."""
    return list(matrix['cells']) + mutation_cells(matrix)


def mutation_matrix(matrix):
    """(rows 'NAME TARGET', hosts, {(row, host): text}) of a scenario's mutations.

    A host's entry is its program's outcome where a program chose its own address
    (one cell: `EADDRNOTAVAIL*`, * = differs from control), else `K/N` changed of
    its cells (the program's, when programs ran); `!` marks a failed cell; `n/a` a
    mutation the target could not take.
    """
    rows, hosts, table = [], [], {}
    for m in matrix.get('mutations') or ():
        row = f'{m["name"]} {m["target"]}'
        rows.append(row)
        if m.get('skipped'):
            table[(row, '*')] = 'n/a'
        for cell in m['cells']:
            if cell['host'] not in hosts:
                hosts.append(cell['host'])
        for host in hosts:
            mine = [c for c in m['cells'] if c['host'] == host]
            pick = [c for c in mine if c.get('program')] or mine
            if not pick:
                continue
            bad = '!' if any(c['verdict'] != 'pass' for c in pick) else ''
            if len(pick) == 1 and pick[0].get('program'):
                text = pick[0]['actual'] + ('*' if pick[0]['changed'] else '')
            else:
                text = f'{sum(bool(c["changed"]) for c in pick)}/{len(pick)}'
            table[(row, host)] = text + bad
    return rows, hosts, table


def natural(text):
    """Sort key that puts h2 before h10 and 10.0.0.2 before 10.0.0.10."""
    return [(0, int(part), '') if part.isdecimal() else (1, 0, part)
            for part in re.split(r'(\d+)', str(text)) if part]


_UNPRINTABLE = re.compile('[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]')
_UNPRINTABLE_LINE = re.compile(f'{_UNPRINTABLE.pattern}|[\n\r\u2028\u2029]')


def printable(text, one_line=False):
    """text with every byte XML 1.0 forbids, and every other control character, made
    visible as \\xNN: a program's stderr (ESC, BEL) cannot break junit.xml or a
    terminal.  Tabs and newlines stay; one_line: newlines and carriage returns are made
    visible too (a console line built from a file's text cannot become two lines)."""
    pattern = _UNPRINTABLE_LINE if one_line else _UNPRINTABLE
    return pattern.sub(lambda m: f'\\x{ord(m.group()):02x}', str(text))


# -- reading a run folder -------------------------------------------------------------------

class Run:
    """A run folder as read: folder (real path), summary (dict), matrices (in order)."""

    def __init__(self, folder, summary, matrices):
        self.folder, self.summary, self.matrices = folder, summary, matrices

    def __iter__(self):          # folder, summary, matrices = read_run(...)
        return iter((self.folder, self.summary, self.matrices))


def run_folder(path):
    """The run folder named by path: the folder itself, <path>/latest, or the only run
    folder inside path (a CI artifact often loses the `latest` symlink).

    Raises BadInput when none holds a summary.json.
    """
    for cand in (path, os.path.join(path, 'latest')):
        if os.path.isfile(os.path.join(cand, 'summary.json')):
            return os.path.realpath(cand)
    try:
        inside = sorted(e.path for e in os.scandir(path)
                        if e.is_dir(follow_symlinks=False)
                        and os.path.isfile(os.path.join(e.path, 'summary.json')))
    except OSError:
        inside = []
    if len(inside) == 1:
        return os.path.realpath(inside[0])
    if len(inside) > 1:
        raise BadInput(f'{path}: holds {len(inside)} run folders and no latest; name one')
    raise BadInput(f'{path}: not a run folder (no summary.json in it or in '
                   f'{os.path.join(path, "latest")})')


def read_run(path, lenient=False):
    """The run folder at path, every field checked: a Run (folder, summary, matrices).

    lenient (the report page only): a matrix that cannot be used becomes a stand-in
    whose `load_error` says why, and a summary without a scenario list is read from
    the scenario folders, so a page can show what is wrong instead of hiding it.
    """
    folder = os.path.realpath(path) if lenient else run_folder(path)
    summary = _summary(folder, lenient)
    names = [s['name'] for s in summary.get('scenarios', [])] if \
        isinstance(summary.get('scenarios'), list) else _scenario_folders(folder)
    matrices = []
    for scenario in names:
        mpath = os.path.join(folder, scenario, 'matrix.json')
        try:
            if os.path.islink(os.path.dirname(mpath)):
                raise BadInput(f'{os.path.dirname(mpath)}: is a symlink; a scenario '
                               'folder must be a real folder inside the run')
            matrix = read_matrix(mpath, scenario)
            mut = os.path.join(folder, scenario, 'mutations.json')
            if os.path.lexists(mut):
                matrix['mutations'] = read_mutations(mut)
            matrices.append(matrix)
        except BadInput as exc:
            if not lenient:
                raise
            matrices.append({'scenario': scenario, 'cells': [], 'load_error': str(exc)})
    return Run(folder, summary, matrices)


def _scenario_folders(folder):
    return sorted(e.name for e in os.scandir(folder)
                  if e.is_dir(follow_symlinks=False) and valid_name(e.name)
                  and os.path.isfile(os.path.join(e.path, 'matrix.json')))


def _summary(folder, lenient):
    """summary.json of folder, checked (lenient: {} when unusable)."""
    path = os.path.join(folder, 'summary.json')
    try:
        summary = read_json(path, 'summary')
        if not isinstance(summary, dict):
            raise BadInput(f'{path}: not a JSON object')
        entries = summary.get('scenarios')
        if not isinstance(entries, list):
            raise BadInput(f'{path}: field "scenarios" is not a list')
        seen = set()
        for n, entry in enumerate(entries):
            scenario = entry.get('name') if isinstance(entry, dict) else None
            if not valid_name(scenario):
                raise BadInput(f'{path}: scenarios[{n}].name {scenario!r} is not a '
                               'scenario name (A-Z a-z 0-9 . _ -)')
            if scenario in seen:
                raise BadInput(f'{path}: scenario {scenario} listed twice')
            seen.add(scenario)
        for key in ('shard', 'switch', 'run_id', 'started', 'finished'):
            if key in summary and not isinstance(summary[key], (str, type(None))):
                raise BadInput(f'{path}: field "{key}" is not text')
        for key in ('argv',):
            if key in summary and not (isinstance(summary[key], list) and
                                       all(isinstance(a, str) for a in summary[key])):
                raise BadInput(f'{path}: field "argv" is not a list of text')
        if 'environment' in summary and not isinstance(summary['environment'], dict):
            raise BadInput(f'{path}: field "environment" is not an object')
        return summary
    except BadInput:
        if lenient:
            return {}
        raise


def read_matrix(path, scenario):
    """One matrix.json, checked field by field; BadInput naming the file and field."""
    matrix = read_json(path, 'matrix')
    if not isinstance(matrix, dict):
        raise BadInput(f'{path}: not a JSON object')
    if matrix.get('scenario') != scenario:
        raise BadInput(f'{path}: field "scenario" is {matrix.get("scenario")!r}, but the '
                       f'folder and summary say {scenario!r}')
    cells = matrix.get('cells')
    if not isinstance(cells, list):
        raise BadInput(f'{path}: field "cells" is not a list')
    for n, cell in enumerate(cells):
        check_cell(cell, f'{path}: cells[{n}]')
    for key in ('environment', 'topology', 'timings'):
        if key in matrix and not isinstance(matrix[key], (dict, type(None))):
            raise BadInput(f'{path}: field "{key}" is not an object')
    for key in ('steps', 'servers', 'faults'):
        if key in matrix and not (isinstance(matrix[key], list) and
                                  all(isinstance(x, dict) for x in matrix[key])):
            raise BadInput(f'{path}: field "{key}" is not a list of objects')
    for step in matrix.get('steps', []) + matrix.get('faults', []):
        if not isinstance(step.get('kind'), str):
            raise BadInput(f'{path}: a step without a kind')
    for key, value in (matrix.get('timings') or {}).items():
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise BadInput(f'{path}: timings.{key} is not a number')
    for key in ('title', 'problem', 'source'):
        if not isinstance(matrix.get(key), (str, type(None))):
            raise BadInput(f'{path}: field "{key}" is not text')
    check_topology(matrix.get('topology') or {}, f'{path}: topology')
    return matrix


def read_mutations(path):
    """mutations.json, checked: [{'name', 'target', 'cells': [cell + control, changed]}]."""
    data = read_json(path, 'mutations file')
    entries = data.get('mutations') if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise BadInput(f'{path}: field "mutations" is not a list')
    for n, entry in enumerate(entries):
        where = f'{path}: mutations[{n}]'
        if not isinstance(entry, dict) or not all(
                isinstance(entry.get(k), str) for k in ('name', 'target')):
            raise BadInput(f'{where}: needs name and target as text')
        if not isinstance(entry.get('cells'), list):
            raise BadInput(f'{where}: field "cells" is not a list')
        for k, cell in enumerate(entry['cells']):
            check_cell(cell, f'{where}.cells[{k}]')
            if not isinstance(cell.get('control'), (str, type(None))) or \
                    not isinstance(cell.get('changed'), bool):
                raise BadInput(f'{where}.cells[{k}]: needs control (text or null) and '
                               'changed (true/false)')
    return entries


def check_topology(topo, where):
    """BadInput unless topo has the shape the runner writes and the report draws:
    hosts and switches lists of objects (interfaces, if any, a list), links a list of
    lists."""
    for key, kind in (('hosts', dict), ('switches', dict), ('links', list)):
        group = topo.get(key, [])
        if not (isinstance(group, list) and all(isinstance(x, kind) for x in group)):
            raise BadInput(f'{where}.{key} is not a list of '
                           f'{"objects" if kind is dict else "lists"}')
    for node in topo.get('hosts', []) + topo.get('switches', []):
        if not isinstance(node.get('interfaces', []), list):
            raise BadInput(f'{where}: interfaces of {node.get("name")!r} is not a list')


def check_cell(cell, where):
    """BadInput unless cell is an object with the cell fields, each of its type."""
    if not isinstance(cell, dict):
        raise BadInput(f'{where}: not an object')
    for key, types in REQUIRED.items():
        if key not in cell:
            raise BadInput(f'{where}: no field "{key}"')
    for key, types in list(REQUIRED.items()) + list(OPTIONAL.items()):
        if key in cell and (not isinstance(cell[key], types) or
                            isinstance(cell[key], bool) and bool not in types):
            raise BadInput(f'{where}: field "{key}" has the wrong type '
                           f'({type(cell[key]).__name__})')
    if cell['kind'] not in KINDS:
        raise BadInput(f'{where}: kind {cell["kind"]!r} is not bind or connect')
    if cell['verdict'] not in VERDICTS:
        raise BadInput(f'{where}: verdict {cell["verdict"]!r} is not pass, fail or error')
    for key in ('after', 'expected_after'):
        if cell.get(key) is not None and cell[key] not in AFTERS:
            raise BadInput(f'{where}: field "{key}" is {cell[key]!r}, not one of '
                           f'{", ".join(AFTERS)}')
    if not all(isinstance(o, str) for o in cell.get('options', [])):
        raise BadInput(f'{where}: field "options" is not a list of text')
