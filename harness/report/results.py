"""The one writer of result files: every file whole or not at all (harness/files.py).

results/<run-id>/
    summary.json  summary.md  junit.xml  report.html
    <scenario>/matrix.json  bind.csv  connect.csv
results/latest -> <run-id>   (a symlink, replaced atomically; never a real folder)

The run folder and its scenario folders are made fresh with mkdir (a planted symlink
or folder at a run id is refused), so nothing is written outside them.  The texts
are made in formats.py and junit.py; a large run's files are written by two
processes (forked.py).

matrix.json: scenario, title, topology (as built), environment (kernel, Mininet and
OVS versions, switch kind, builder), steps (setup and faults, each with argv, why,
ok), servers (their serve records), timings, problem, skipped (why the scenario was
not run here, or null; a skipped one has no cells and lists its `cases`, each
{kind, host, column}), counts, and cells (the fields of harness/judge/cell.py), compact, one cell a line (formats.json_rows: for grep
and diff).
"""

import functools
import os
import shutil
import time

from ..errors import BadInput
from ..files import new_folder, point_latest, write_file
from ..judge import counts
from ..scenarios import valid_name
from .forked import Job, write_files
from .formats import (cells_csv, CONNECT_EXTRA, json_rows, summary_data, summary_json,
                      summary_md)
from .junit import junit_xml
from .page import render_page

FORK_CELLS = 20000      # cells from which write_run writes in two processes


def new_run_id():
    """20261125-121314-<pid>: sortable, unique per machine."""
    return time.strftime('%Y%m%d-%H%M%S', time.gmtime()) + f'-{os.getpid()}'


def write_run(out_dir, run_id, meta, scenario_results, fork=None):
    """Write every result file of a run; returns the run folder.  fork: write the
    files in two processes (write_files); None: when the run has FORK_CELLS cells or
    more, True/False: always/never (the tests compare both)."""
    run_dir = os.path.join(out_dir, run_id)
    new_folder(run_dir)
    try:
        _write_all(run_dir, run_id, meta, scenario_results, fork)
    except BaseException:          # whole or nothing: no half-written run folder
        shutil.rmtree(run_dir, ignore_errors=True)
        raise
    point_latest(out_dir, run_id)
    return run_dir


def _write_all(run_dir, run_id, meta, scenario_results, fork):
    """Every file of the run folder, program logs included.  report.html is rendered
    from the data being written, not by reading 80,000 cells back from the files
    (tests/test_report.py checks that both give the same page).  The folders and the
    program logs first, then the files (write_files)."""
    matrices, jobs = [], []
    for res in scenario_results:
        matrix, scenario_jobs = scenario_files(run_dir, res, meta['environment'])
        matrices.append(matrix)
        jobs += scenario_jobs
        write_logs(run_dir, res)
    summary = summary_data(run_id, meta, scenario_results)
    jobs += [Job(os.path.join(run_dir, 'summary.json'),
                 functools.partial(summary_json, summary)),
             Job(os.path.join(run_dir, 'summary.md'),
                 functools.partial(summary_md, summary, scenario_results)),
             Job(os.path.join(run_dir, 'junit.xml'),
                 functools.partial(junit_xml, run_id, scenario_results), apart=True),
             Job(os.path.join(run_dir, 'report.html'),
                 functools.partial(render_page, summary, matrices, run_id))]
    if fork is None:
        fork = sum(len(res.cells) for res in scenario_results) >= FORK_CELLS
    write_files(jobs, fork)


def write_logs(run_dir, res):
    """Each program launch's stdout, stderr and trace: <scenario>/<log>.out|.err|..."""
    for entry in res.programs or []:
        stem = os.path.join(run_dir, res.scenario, entry['log'])
        folder = os.path.dirname(stem)
        if not os.path.isdir(folder):
            new_folder(folder)
        for ext, text in entry['files'].items():
            write_file(stem + ext, text)


def scenario_files(run_dir, res, environment):
    """The scenario's folder, made; the matrix with its mutations, as a reader gets
    them back, for the report page; and the Jobs of <scenario>/matrix.json, bind.csv,
    connect.csv (and mutations.json; join.csv, mcast-if.csv, send.csv where the
    scenario has such cells)."""
    if not valid_name(res.scenario):
        raise BadInput(f'scenario name {res.scenario!r} is not A-Z a-z 0-9 . _ -')
    sdir = os.path.join(run_dir, res.scenario)
    new_folder(sdir)
    env = dict(environment, switch=res.switch)
    if res.builder:      # the one that built it (a topology may fall back)
        env['builder'] = res.builder
    matrix = {'scenario': res.scenario, 'title': res.title,
              'source': res.source, 'topology': res.topology, 'environment': env,
              'steps': res.steps,
              'faults': [s for s in res.steps if s['kind'] == 'fault'],
              'servers': res.servers, 'timings': res.timings,
              'problem': res.problem, 'skipped': res.skipped,
              'counts': counts(res.cells), 'cells': res.cells}
    if res.timeline is not None:     # timed steps: when each really took effect
        matrix['timeline'] = res.timeline
    if res.skipped:          # the cells it would have had, for junit.xml and a merge
        matrix['cases'] = res.cases or []
    if res.not_reproduced is not None:      # a replica: what it could not reproduce
        matrix['not_reproduced'] = res.not_reproduced
    jobs = [Job(os.path.join(sdir, 'matrix.json'),
                functools.partial(json_rows, matrix, 'cells'), apart=True)]
    if res.mutations is not None:
        jobs.append(Job(os.path.join(sdir, 'mutations.json'), functools.partial(
            json_rows, {'mutations': res.mutations}, 'mutations'), apart=True))
    for kind, extra in (('bind', ()), ('connect', CONNECT_EXTRA)):
        jobs.append(Job(os.path.join(sdir, f'{kind}.csv'),
                        functools.partial(cells_csv, res.cells, kind, extra)))
    for kind, extra in (('join', ()), ('mcast-if', ()), ('send', ('local',))):
        if any(cell.kind == kind for cell in res.cells):    # only where they are
            jobs.append(Job(os.path.join(sdir, f'{kind}.csv'),
                            functools.partial(cells_csv, res.cells, kind, extra)))
    if res.mutations is not None:      # the page's matrix, not matrix.json's
        matrix = dict(matrix, mutations=res.mutations)
    return matrix, jobs
