"""The one writer of result files: every file whole or not at all (harness/files.py).

results/<run-id>/
    summary.json  summary.md  junit.xml  report.html
    <scenario>/matrix.json  bind.csv  connect.csv
results/latest -> <run-id>   (a symlink, replaced atomically; never a real folder)

The run folder and its scenario folders are made fresh with mkdir (a planted symlink
or folder at a run id is refused), so nothing is written outside them.  Text that
came from a program or a file (messages, reasons) has its control bytes made visible
(cells.printable) in junit.xml, summary.md and the CSVs; a CSV field that a
spreadsheet would read as a formula (=, +, -, @) is prefixed with a quote.

matrix.json: scenario, title, topology (as built), environment (kernel, Mininet and
OVS versions, switch kind), steps (setup and faults, each with argv, why, ok),
servers (their serve records), timings, problem, and cells; a cell has id, kind, host,
addr, port, proto, options, column, expected, expected_peer, actual, peer, local,
verdict, reason, rule, message, elapsed_us.
"""

import csv
import io
import json
import os
import shutil
import time
import xml.etree.ElementTree as ET

from .cells import counts, describe, grid, mismatches, printable, short
from .files import new_folder, point_latest, write_file
from .errors import BadInput
from .report_page import render_run
from .scenario import valid_name

CSV_FIELDS = ('host', 'addr', 'port', 'proto', 'options', 'expected', 'actual',
              'verdict', 'rule', 'reason', 'message')
CONNECT_EXTRA = ('expected_peer', 'peer', 'local')


def new_run_id():
    """20261125-121314-<pid>: sortable, unique per machine."""
    return time.strftime('%Y%m%d-%H%M%S', time.gmtime()) + f'-{os.getpid()}'


# -- the writer -------------------------------------------------------------------------

def write_run(out_dir, run_id, meta, scenario_results):
    """Write every result file of a run; returns the run folder."""
    run_dir = os.path.join(out_dir, run_id)
    new_folder(run_dir)
    try:
        _write_all(run_dir, run_id, meta, scenario_results)
    except BaseException:          # whole or nothing: no half-written run folder
        shutil.rmtree(run_dir, ignore_errors=True)
        raise
    point_latest(out_dir, run_id)
    return run_dir


def _write_all(run_dir, run_id, meta, scenario_results):
    """Every file of the run folder, program logs included."""
    for res in scenario_results:
        write_scenario(run_dir, res, meta['environment'])
        write_logs(run_dir, res)
    summary = summary_data(run_id, meta, scenario_results)
    write_file(os.path.join(run_dir, 'summary.json'),
               json.dumps(summary, indent=1, sort_keys=True) + '\n')
    write_file(os.path.join(run_dir, 'summary.md'), summary_md(summary, scenario_results))
    write_file(os.path.join(run_dir, 'junit.xml'), junit_xml(run_id, scenario_results))
    write_file(os.path.join(run_dir, 'report.html'), render_run(run_dir))


def write_logs(run_dir, res):
    """Each program launch's stdout, stderr and trace: <scenario>/<log>.out|.err|..."""
    for entry in res.get('programs') or []:
        stem = os.path.join(run_dir, res['scenario'], entry['log'])
        folder = os.path.dirname(stem)
        if not os.path.isdir(folder):
            new_folder(folder)
        for ext, text in entry['files'].items():
            write_file(stem + ext, text)


def write_scenario(run_dir, res, environment):
    """<scenario>/matrix.json, bind.csv, connect.csv."""
    if not valid_name(res['scenario']):
        raise BadInput(f'scenario name {res["scenario"]!r} is not A-Z a-z 0-9 . _ -')
    sdir = os.path.join(run_dir, res['scenario'])
    new_folder(sdir)
    env = dict(environment, switch=res['switch'])
    matrix = {'scenario': res['scenario'], 'title': res['title'],
              'source': res['source'], 'topology': res['topology'], 'environment': env,
              'steps': res['steps'],
              'faults': [s for s in res['steps'] if s['kind'] == 'fault'],
              'servers': res['servers'], 'timings': res['timings'],
              'problem': res['problem'], 'counts': counts(res['cells']),
              'cells': res['cells']}
    write_file(os.path.join(sdir, 'matrix.json'),
               json.dumps(matrix, indent=1, sort_keys=True) + '\n')
    for kind, extra in (('bind', ()), ('connect', CONNECT_EXTRA)):
        write_file(os.path.join(sdir, f'{kind}.csv'), cells_csv(res['cells'], kind, extra))


def cells_csv(cells, kind, extra):
    """CSV text of the cells of one kind."""
    buf = io.StringIO()
    fields = CSV_FIELDS + extra
    writer = csv.DictWriter(buf, fieldnames=fields, extrasaction='ignore',
                            lineterminator='\n')
    writer.writeheader()
    for cell in cells:
        if cell['kind'] == kind:
            row = dict(cell, options=' '.join(cell.get('options') or ()))
            writer.writerow({k: _csv_safe(row.get(k)) for k in fields})
    return buf.getvalue()


def _csv_safe(value):
    """A CSV field: control bytes made visible, a would-be formula quoted."""
    if not isinstance(value, str):
        return value
    value = printable(value)
    return "'" + value if value[:1] in ('=', '+', '-', '@') else value


def summary_data(run_id, meta, scenario_results):
    """The content of summary.json."""
    scenarios = []
    total = {'pass': 0, 'fail': 0, 'error': 0}
    for res in scenario_results:
        c = counts(res['cells'])
        for k in total:
            total[k] += c[k]
        scenarios.append({'name': res['scenario'], 'title': res['title'],
                          'switch': res['switch'], 'counts': c, 'cells': len(res['cells']),
                          'problem': res['problem'], 'timings': res['timings'],
                          'mismatches': [describe(x) for x in mismatches(res['cells'])]})
    return dict(meta, run_id=run_id, scenarios=scenarios, counts=total,
                passed=total['pass'], failed=total['fail'] + total['error'])


def summary_md(summary, scenario_results):
    """summary.md: a table of scenarios, then each scenario's matrices."""
    lines = [f'# bindlab run {summary["run_id"]}', '',
             f'{summary["passed"]} passed, {summary["failed"]} failed '
             f'(switch {summary["switch"]}, kernel {summary["environment"]["kernel"]})', '',
             '| scenario | pass | fail | error | problem |', '|---|---|---|---|---|']
    for s in summary['scenarios']:
        c = s['counts']
        lines.append(f'| {s["name"]} | {c["pass"]} | {c["fail"]} | {c["error"]} | '
                     f'{(s["problem"] or "").replace("|", "/")} |')
    for res in scenario_results:
        lines += ['', f'## {res["scenario"]}: {res["title"]}']
        for kind in ('bind', 'connect'):
            rows, cols, table = grid(res['cells'], kind)
            if not rows:
                continue
            lines += ['', f'{kind} matrix (rows: hosts; `!` = differs from expected)', '',
                      '| host | ' + ' | '.join(cols) + ' |',
                      '|---' * (len(cols) + 1) + '|']
            for row in rows:
                lines.append(f'| {row} | ' + ' | '.join(short(table.get((row, c)))
                                                       for c in cols) + ' |')
        bad = mismatches(res['cells'])
        if bad:
            lines += [''] + [f'- {describe(c)}' for c in bad]
    return printable('\n'.join(lines)) + '\n'


def junit_xml(run_id, scenario_results):
    """junit.xml: a testsuite per scenario, a testcase per cell."""
    root = ET.Element('testsuites', name=f'bindlab {run_id}')
    for res in scenario_results:
        c = counts(res['cells'])
        suite = ET.SubElement(root, 'testsuite', name=res['scenario'],
                              tests=str(len(res['cells'])), failures=str(c['fail']),
                              errors=str(c['error']),
                              time=f'{sum(res["timings"].values()):.3f}')
        for cell in res['cells']:
            case = ET.SubElement(suite, 'testcase',
                                 classname=f'bindlab.{res["scenario"]}.{cell["kind"]}',
                                 name=printable(f'{cell["host"]} {cell["kind"]} '
                                                f'{cell["column"]}'))
            if cell['verdict'] in ('fail', 'error'):
                tag = 'failure' if cell['verdict'] == 'fail' else 'error'
                ET.SubElement(case, tag, message=printable(describe(cell))).text = \
                    json.dumps(cell, sort_keys=True)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, 'unicode') + '\n'
