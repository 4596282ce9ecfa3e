"""The one reader of a run folder, for everything that reads one (baseline, diff,
merge, explain, the report page).

Run folders come from CI artifacts and pull requests: every field is checked before
use (cells by Cell.of_json) and a bad one is BadInput (exit 2) naming the file and
the field, never a traceback or a guess.  A matrix is read as a dict whose `cells`
are Cell objects; mutations.json's entries likewise.
"""

import os

from ..errors import BadInput
from ..files import read_json
from ..judge import Cell
from ..scenarios import valid_name


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
            _check_skip(entry, f'{path}: scenarios[{n}]', int)
        if not _count(summary.get('skipped', 0)):
            raise BadInput(f'{path}: field "skipped" is not a count of cases')
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
    matrix['cells'] = [Cell.of_json(cell, f'{path}: cells[{n}]')
                       for n, cell in enumerate(cells)]
    for key in ('environment', 'topology', 'timings'):
        if key in matrix and not isinstance(matrix[key], (dict, type(None))):
            raise BadInput(f'{path}: field "{key}" is not an object')
    for key in ('steps', 'servers', 'faults', 'timeline'):
        if key in matrix and not (isinstance(matrix[key], list) and
                                  all(isinstance(x, dict) for x in matrix[key])):
            raise BadInput(f'{path}: field "{key}" is not a list of objects')
    for step in matrix.get('steps', []) + matrix.get('faults', []) + \
            matrix.get('timeline', []):
        if not isinstance(step.get('kind'), str):
            raise BadInput(f'{path}: a step without a kind')
    for step in matrix.get('timeline', []):
        for key in ('at', 'fired_s', 'done_s'):
            if not isinstance(step.get(key), (int, float, type(None))) or \
                    isinstance(step.get(key), bool):
                raise BadInput(f'{path}: a timeline step\'s "{key}" is not a number')
    for key, value in (matrix.get('timings') or {}).items():
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise BadInput(f'{path}: timings.{key} is not a number')
    for key in ('title', 'problem', 'source'):
        if not isinstance(matrix.get(key), (str, type(None))):
            raise BadInput(f'{path}: field "{key}" is not text')
    _check_skip(matrix, path, list)
    if 'not_reproduced' in matrix and not (isinstance(matrix['not_reproduced'], list) and all(
            isinstance(x, dict) and all(isinstance(x.get(k), str) for k in ('what', 'why'))
            for x in matrix['not_reproduced'])):
        raise BadInput(f'{path}: field "not_reproduced" is not a list of {{what, why}}')
    if matrix.get('skipped') and matrix['cells']:
        raise BadInput(f'{path}: a skipped scenario with cells')
    check_topology(matrix.get('topology') or {}, f'{path}: topology')
    return matrix


def _count(value):
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _check_skip(data, where, cases):
    """BadInput unless data's `skipped` (why the scenario was not run here) is text or
    null, and its `cases` (the cells it would have had) is a count (summary.json,
    cases=int) or a list of {kind, host, column} texts (matrix.json, cases=list)."""
    if not isinstance(data.get('skipped'), (str, type(None))):
        raise BadInput(f'{where}: field "skipped" is not text')
    if 'cases' not in data:
        return
    got = data['cases']
    if cases is int and not _count(got):
        raise BadInput(f'{where}: field "cases" is not a count')
    if cases is list and not (isinstance(got, list) and all(
            isinstance(c, dict) and all(isinstance(c.get(k), str)
                                        for k in ('kind', 'host', 'column'))
            for c in got)):
        raise BadInput(f'{where}: field "cases" is not a list of {{kind, host, column}}')


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
        cells = []
        for k, cell in enumerate(entry['cells']):
            cells.append(Cell.of_json(cell, f'{where}.cells[{k}]'))
            if not isinstance(cell.get('changed'), bool):
                raise BadInput(f'{where}.cells[{k}]: needs control (text or null) and '
                               'changed (true/false)')
        entry['cells'] = cells
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
