"""Golden baselines: record the observed matrices of a run, check later runs against them.

An expectation file holds what a scenario's cells *did* (not what the scenario's rules
say they should do), so a CI job fails when anything changes: the network, the kernel,
or the user's own program (harness/probe/programs.py).  One file per scenario,
``<baseline dir>/<scenario>.json`` (default ``expectations/`` in the repository), written
for review in a pull request: fixed key order, cells sorted by kind, host and column,
one cell per line, so a changed cell is a one-line diff:

    {
     "format": "bindlab-baseline-1",
     "scenario": "wrong-host",
     "cells": [
      {"kind": "bind", "host": "h2", "column": "tcp 10.0.0.1", "actual": "EADDRNOTAVAIL", "method": "netprobe"},
      {"kind": "connect", "host": "h1", "column": "tcp 10.0.0.2:7001", "actual": "OK", "peer": "h2", "method": "netprobe"}
     ]
    }

A cell is named by (scenario, kind, host, column); what is compared is its outcome
(``actual``), for an answered connect who answered (``peer``), and for a connect what
followed its handshake (``after``: greeting, eof, reset, ...; absent, as in a file
written before it existed, means unknown and is not compared).  ``method`` (how
the outcome was recorded: netprobe, tracer, observed) is kept for the reader and not
compared.  A change prints as ``scenario kind host column: was -> now``, e.g.
``wrong-host bind h2 tcp 10.0.0.1: EADDRNOTAVAIL -> OK``; a connect answered
by another host prints ``OK@h3``, one closed without a byte ``OK/eof``; a cell that is missing on one side prints
``(absent)``.

Entry points (their options: harness/cli/run.py, diff.py, record.py, verify.py):
    run ... --record [--baseline DIR]   write the run's cells as the expectation files
    run ... --check  [--baseline DIR]   compare; exit 0 unchanged, 1 changed, 2 no baseline
    record RUN [--baseline DIR]         the same for a run folder already written
    verify RUN [--baseline DIR]         (e.g. one merged from shards; `check` is the
                                        lab's re-probe, harness/lab/lab.py)
    diff RUN_A RUN_B                    two run folders; exit 0 same, 1 differ, 2 bad input

A cell that could not be measured (verdict ``error``) is never recorded: a baseline of
``ERROR`` would let every later check pass without measuring anything.

A scenario the run skipped (not run here: the switch kind, a missing kernel module)
is neither recorded (its expectation file, if any, is left as it is) nor compared:
``record`` and ``verify`` print ``vrf-bind: skipped (why), not compared ...`` for it,
and it changes no exit status (a skip is a result of the run, in every result file,
not a change of the network).  ``diff`` prints one line for a scenario run in one
folder and skipped in the other (``vrf-bind: 12 cells -> skipped (why)``), a change.
"""

import json
import os
import sys

from .. import INSTALLED, PREFIX, REPO
from ..errors import BadInput
from ..files import make_folders, read_json, write_file
from ..judge import AFTER_SHORT, all_cells, natural, printable
from ..report import read_run
from ..scenarios import valid_name

FORMAT = 'bindlab-baseline-1'
# A clone's expectations/; an installed bindlab never writes into its own files.
DEFAULT_DIR = os.path.abspath('expectations') if INSTALLED else \
    os.path.join(REPO, 'expectations')
KIND_ORDER = {'bind': 0, 'connect': 1}
EXIT_SAME, EXIT_CHANGED, EXIT_BAD = 0, 1, 2


# -- cells as observations ----------------------------------------------------------------

def cell_key(cell):
    """(kind, host, column, mutation): what names a cell within its scenario (mutation
    '' for a cell of the unmutated network)."""
    return (cell.kind, cell.host, cell.column, cell.mutation or '')


def obs_key(obs):
    """cell_key of an observation (an expectation file's entry)."""
    return (obs['kind'], obs['host'], obs['column'], obs.get('mutation') or '')


def every_cell(matrix):
    """A matrix's cells and its mutated cells (cells.all_cells)."""
    return all_cells(matrix['cells'], matrix.get('mutations'))


def sort_key(key):
    kind, host, column, mutation = key
    return (natural(mutation), KIND_ORDER.get(kind, 9), kind, natural(host),
            natural(column))


def key_text(key):
    """'kind host column', plus ' [mutation]' for a mutated cell."""
    kind, host, column, mutation = key
    return f'{kind} {host} {column}' + (f' [{mutation}]' if mutation else '')


def observation(cell):
    """What a cell did, as stored in an expectation file (fixed key order)."""
    obs = {'kind': cell.kind, 'host': cell.host, 'column': cell.column}
    if cell.mutation:
        obs['mutation'] = cell.mutation
    obs['actual'] = 'ERROR' if cell.verdict == 'error' else cell.actual
    if cell.kind == 'connect' and obs['actual'] == 'OK' and cell.peer:
        obs['peer'] = cell.peer
    if cell.kind == 'connect' and obs['actual'] != 'ERROR' and cell.after:
        obs['after'] = cell.after
    obs['method'] = cell.method or 'netprobe'
    if obs['actual'] == 'ERROR' and cell.message:
        obs['message'] = cell.message
    return obs


def shown(obs):
    """How an observation prints in a change line: OK, EADDRNOTAVAIL, OK@h3, ERROR (why)."""
    if obs is None:
        return '(absent)'
    text = obs['actual']
    if obs.get('peer'):
        text += f'@{obs["peer"]}'
    text += AFTER_SHORT.get(obs.get('after'), '') if isinstance(obs.get('after'), str) else ''
    if text == 'ERROR' and obs.get('message'):
        text += f' ({obs["message"]})'
    return text


def same(a, b):
    """True if two observations (or None) are the same outcome."""
    if a is None or b is None:
        return a is b
    if (a['actual'], a.get('peer')) != (b['actual'], b.get('peer')):
        return False
    # what followed the handshake; absent (an older file) = unknown, not checked
    return a.get('after') is None or b.get('after') is None or a['after'] == b['after']


def observations(cells):
    """{cell key: observation} of a list of cells."""
    return {cell_key(c): observation(c) for c in cells}


def changes(scenario, was, now):
    """Change lines `scenario kind host column: was -> now`, in the stable cell order;
    a file's text in them has its control bytes and newlines made visible (printable),
    so a host or column cannot forge a line on the console or in a CI log.

    was, now: {cell key: observation}.
    """
    lines = []
    for key in sorted(set(was) | set(now), key=sort_key):
        a, b = was.get(key), now.get(key)
        if not same(a, b):
            lines.append(printable(f'{scenario} {key_text(key)}: {shown(a)} -> '
                                   f'{shown(b)}', one_line=True))
    return lines


# -- expectation files ----------------------------------------------------------------------

def baseline_path(directory, scenario):
    """<directory>/<scenario>.json (BadInput for a name that is not one path part)."""
    if not valid_name(scenario):
        raise BadInput(f'scenario name {scenario!r} is not A-Z a-z 0-9 . _ -')
    return os.path.join(directory, f'{scenario}.json')


def baseline_text(scenario, cells):
    """The expectation file of one scenario: stable order, one cell per line."""
    obs = observations(cells)
    lines = [json.dumps(obs[k]) for k in sorted(obs, key=sort_key)]
    return ('{\n'
            f' "format": {json.dumps(FORMAT)},\n'
            f' "scenario": {json.dumps(scenario)},\n'
            ' "cells": [\n  ' + ',\n  '.join(lines) + '\n ]\n}\n')


def unmeasured(matrix):
    """Lines naming the cells of a matrix that could not be measured (printable)."""
    return [printable(f'{matrix["scenario"]} {key_text(cell_key(c))}: '
                      f'{c.message or "no message"}', one_line=True)
            for c in every_cell(matrix) if c.verdict == 'error']


def skipped_notes(matrices, what):
    """A line per scenario the run skipped (not run here: the switch, a kernel
    module): `scenario: skipped (why), WHAT`; printable."""
    return [printable(f'{m["scenario"]}: skipped ({m["skipped"]}), {what}', one_line=True)
            for m in matrices if m.get('skipped')]


def record(matrices, directory):
    """Write one expectation file per scenario that ran (a skipped one's file, if
    any, is left as it is); returns the paths written.

    Raises BadInput (writing nothing) when any cell could not be measured.
    """
    matrices = [m for m in matrices if not m.get('skipped')]
    bad = [line for m in matrices for line in unmeasured(m)]
    if bad:
        raise BadInput(f'not recorded: {len(bad)} cells could not be measured, e.g. '
                       f'{bad[0]} (a baseline of ERROR would check nothing)')
    make_folders(directory)
    paths = []
    for m in matrices:
        path = baseline_path(directory, m['scenario'])
        write_file(path, baseline_text(m['scenario'], every_cell(m)))
        paths.append(path)
    return paths


def load_baseline(directory, scenario):
    """{cell key: observation} from <directory>/<scenario>.json; BadInput if unusable."""
    path = baseline_path(directory, scenario)
    if not os.path.lexists(path):   # anything else there is read_json's to refuse
        raise BadInput(f'no baseline for scenario {scenario} at {path}: record one with '
                       f'`python3 -m harness run {scenario} --record` (add --baseline '
                       'DIR for your own folder) and commit it')
    data = read_json(path, 'expectation file')
    if not isinstance(data, dict) or data.get('format') != FORMAT or \
            data.get('scenario') != scenario or not isinstance(data.get('cells'), list):
        raise BadInput(f'{path}: not a {FORMAT} file for scenario {scenario}')
    out = {}
    for obs in data['cells']:
        if not isinstance(obs, dict) or not all(
                isinstance(obs.get(k), str) for k in ('kind', 'host', 'column', 'actual')) \
                or not all(isinstance(obs.get(k, ''), str)
                           for k in ('peer', 'mutation', 'after')):
            raise BadInput(f'{path}: bad cell {str(obs)[:200]} (needs kind, host, column, '
                           'actual)')
        key = obs_key(obs)
        if key in out:
            raise BadInput(f'{path}: cell {printable(key_text(key), one_line=True)} '
                           'listed twice')
        out[key] = obs
    return out


def check(matrices, directory):
    """All change lines of matrices against their baselines (BadInput: no baseline);
    a skipped scenario is not compared (skipped_notes says so)."""
    lines = []
    for m in matrices:
        if m.get('skipped'):
            continue
        lines += changes(m['scenario'], load_baseline(directory, m['scenario']),
                         observations(every_cell(m)))
    return lines


def diff_runs(path_a, path_b):
    """Change lines from run A to run B, scenario by scenario (A's order, then B's)."""
    _fa, _sa, mats_a = read_run(path_a)
    _fb, _sb, mats_b = read_run(path_b)
    by_a = {m['scenario']: m for m in mats_a}
    by_b = {m['scenario']: m for m in mats_b}
    names = list(by_a) + [n for n in by_b if n not in by_a]
    lines = []
    for name in names:
        a, b = by_a.get(name), by_b.get(name)
        skipped = [bool(m and m.get('skipped')) for m in (a, b)]
        if any(skipped):      # not run in one (a line) or in both (nothing to compare)
            if not all(skipped):
                lines.append(printable(f'{name}: {_ran(a)} -> {_ran(b)}', one_line=True))
            continue
        was = observations(every_cell(by_a[name])) if name in by_a else {}
        now = observations(every_cell(by_b[name])) if name in by_b else {}
        lines += changes(name, was, now)
    return lines


def _ran(matrix):
    """How a scenario's run shows in a diff line: '(absent)', 'skipped (why)', 'N cells'."""
    if matrix is None:
        return '(absent)'
    if matrix.get('skipped'):
        return f'skipped ({matrix["skipped"]})'
    return f'{len(every_cell(matrix))} cells'


# -- command line -----------------------------------------------------------------------------

def _say(msg, err=False):
    """One line with the harness's prefix, on stdout (or stderr when err); control
    bytes made visible (a message may quote a file)."""
    print(f'{PREFIX}{printable(msg)}', file=sys.stderr if err else sys.stdout, flush=True)


def report(lines, what):
    """Print change lines and the closing line; returns the exit status."""
    for line in lines:
        print(line, flush=True)
    if lines:
        _say(f'{len(lines)} cells changed {what}')
        return EXIT_CHANGED
    _say(f'no cell changed {what}')
    return EXIT_SAME


def cmd_diff(args):
    """`harness diff RUN_A RUN_B`: 0 same, 1 differ, 2 bad input."""
    try:
        lines = diff_runs(args.run_a, args.run_b)
    except BadInput as exc:
        _say(str(exc), err=True)
        return EXIT_BAD
    return report(lines, f'from {args.run_a} to {args.run_b}')


def cmd_record(args):
    """`harness record RUN`: write RUN's matrices as the expectation files."""
    try:
        _folder, _summary, matrices = read_run(args.run)
        return record_matrices(matrices, args.baseline)
    except BadInput as exc:
        _say(str(exc), err=True)
        return EXIT_BAD


def cmd_verify(args):
    """`harness verify RUN`: 0 unchanged, 1 changed, 2 no baseline or bad input."""
    try:
        _folder, _summary, matrices = read_run(args.run)
        return check_matrices(matrices, args.baseline)
    except BadInput as exc:
        _say(str(exc), err=True)
        return EXIT_BAD


def record_matrices(matrices, directory):
    """Record and say where; returns the exit status (BadInput propagates)."""
    for path in record(matrices, directory):
        _say(f'recorded {path}')
    for line in skipped_notes(matrices, 'not recorded: its expectation file is left as '
                                       'it is'):
        _say(line)
    return EXIT_SAME


def check_matrices(matrices, directory):
    """Check and print the changes; returns the exit status (BadInput propagates).
    A skipped scenario is said, not compared: neither a pass nor a change."""
    lines = check(matrices, directory)
    for line in skipped_notes(matrices, 'not compared with its expectation file'):
        _say(line)
    return report(lines, f'against {directory}')


def after_run(args, run_dir, status):
    """After `harness run` wrote run_dir: --record or --check, else status unchanged.

    With --check the baseline decides the exit status (0 unchanged, 1 changed, 2 no
    baseline): the baseline *is* the expectation.  With --record the run's cells become
    the expectation and the status is 0 (2 if a cell could not be measured).
    """
    if not (getattr(args, 'record', False) or getattr(args, 'check', False)):
        return status
    try:
        _folder, _summary, matrices = read_run(run_dir)
        if args.record:
            return record_matrices(matrices, args.baseline)
        return check_matrices(matrices, args.baseline)
    except BadInput as exc:
        _say(str(exc), err=True)
        return EXIT_BAD
