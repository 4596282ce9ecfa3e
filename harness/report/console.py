"""What a person sees: progress per scenario, compact matrices, the closing line.

Every line starts with the fixed prefix "bindlab: " except the matrix rows.  Colour
(red for a mismatch) only when stdout is a terminal; plain text otherwise.
"""

import sys

from .. import PREFIX
from ..judge import (counts, describe, grid, KINDS, mismatches, mutation_matrix,
                     printable, short, timeline)


def log(msg):
    """A progress or notice line on stdout, flushed at once."""
    print(f'{PREFIX}{msg}', flush=True)


def warn(msg):
    """A problem line on stderr; control bytes made visible (a message may quote a
    file or a program)."""
    print(f'{PREFIX}{printable(msg)}', file=sys.stderr, flush=True)


def _paint(text, bad):
    if bad and sys.stdout.isatty():
        return f'\033[31m{text}\033[0m'
    return text


def scenario_line(res):
    """One line: the scenario's counts and the time of each phase."""
    c = counts(res.cells)
    t = res.timings
    return (f'{res.scenario}: {c["pass"]} passed, {c["fail"]} failed, {c["error"]} '
            f'errors ({res.switch}; build {t["build_s"]:.1f} s, setup+ready '
            f'{t["prepare_s"]:.1f} s, servers {t["servers_s"]:.2f} s, probe '
            f'{t["probe_s"]:.2f} s, teardown '
            f'{t["teardown_s"]:.1f} s)')


def print_matrices(scenario, cells, limit=40):
    """Each matrix of a scenario (its name, its cells), compact; hosts are columns when that is narrower.

    Matrices with more than `limit` rows and columns (the scale scenario) print only
    their mismatches.
    """
    for kind in KINDS:
        rows, cols, table = grid(cells, kind)
        if not rows:
            continue
        if len(rows) > limit and len(cols) > limit:
            log(f'{scenario} {kind} matrix: {len(rows)} x {len(cols)} cells '
                '(too large to print; see the result files)')
            continue
        print(f'  {kind} matrix of {scenario} (! = differs from expected)')
        if len(cols) > len(rows):   # transpose: columns become rows
            lines = _table(['' ] + rows, [[c] + [short(table.get((r, c))) for r in rows]
                                          for c in cols])
        else:
            lines = _table([''] + cols, [[r] + [short(table.get((r, c))) for c in cols]
                                         for r in rows])
        for line in lines:
            print('    ' + _paint(line, '!' in line))
    for cell in mismatches(cells):
        warn('  ' + printable(describe(cell)))
    sys.stdout.flush()


def print_timeline(res):
    """A scenario in time: its timed steps as they took effect and its cells'
    histories, ordered by time (nothing for a scenario without either)."""
    lines = timeline(res.timeline, res.cells)
    if lines:
        print(f'  timeline of {res.scenario} (seconds into the probe phase)')
        for line in lines:
            print('    ' + printable(line, one_line=True))
        sys.stdout.flush()


def _table(header, body):
    widths = [max(len(str(x)) for x in col) for col in zip(header, *body)]
    fmt = lambda row: '  '.join(str(x).ljust(w) for x, w in zip(row, widths)).rstrip()
    return [fmt(header)] + [fmt(row) for row in body]


def print_mutations(res):
    """The mutation matrix of a scenario, compact (rows: mutation and target)."""
    rows, hosts, table = mutation_matrix(res.mutations)
    if not rows:
        return
    print(f'  mutation matrix of {res.scenario} (* = differs from the unmutated '
          'network, K/N = cells changed, ! = a cell failed)')
    body = [[row] + [table.get((row, h), table.get((row, '*'), '')) for h in hosts]
            for row in rows]
    for line in _table(['mutation'] + hosts, body):
        print('    ' + _paint(line, '!' in line))
    sys.stdout.flush()
