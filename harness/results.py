"""The one writer of result files: every file whole or not at all (tmp + os.replace).

results/<run-id>/
    summary.json  summary.md  junit.xml  report.html
    <scenario>/matrix.json  bind.csv  connect.csv
results/latest -> <run-id>   (a symlink, replaced atomically)

matrix.json: scenario, title, topology (as built), environment (kernel, Mininet and
OVS versions, switch kind), steps (setup and faults, each with argv, why, ok),
servers (their serve records), timings, problem, and cells; a cell has id, kind, host,
addr, port, proto, options, column, expected, expected_peer, actual, peer, local,
verdict, reason, rule, message, elapsed_us.
"""

import csv
import html
import io
import json
import os
import time
import xml.etree.ElementTree as ET

CSV_FIELDS = ('host', 'addr', 'port', 'proto', 'options', 'expected', 'actual',
              'verdict', 'rule', 'reason', 'message')
CONNECT_EXTRA = ('expected_peer', 'peer', 'local')


def new_run_id():
    """20261125-121314-<pid>: sortable, unique per machine."""
    return time.strftime('%Y%m%d-%H%M%S', time.gmtime()) + f'-{os.getpid()}'


def write_file(path, text):
    """Write text to path whole or not at all."""
    tmp = f'{path}.tmp{os.getpid()}'
    with open(tmp, 'w', encoding='utf-8') as f:
        f.write(text)
    os.replace(tmp, path)


def counts(cells):
    """{'pass': n, 'fail': n, 'error': n} of cells."""
    out = {'pass': 0, 'fail': 0, 'error': 0}
    for cell in cells:
        out[cell['verdict']] += 1
    return out


# -- matrices (shared by console, markdown and HTML) -----------------------------------

def grid(cells, kind):
    """(row names, column labels, {(row, column): cell}) of one kind of cells."""
    rows, cols, table = [], [], {}
    for cell in cells:
        if cell['kind'] != kind:
            continue
        if cell['host'] not in rows:
            rows.append(cell['host'])
        if cell['column'] not in cols:
            cols.append(cell['column'])
        table[(cell['host'], cell['column'])] = cell
    return rows, cols, table


def short(cell):
    """Compact text of a cell: OK, an errno name, ERR; '!' marks a mismatch."""
    if cell is None:
        return ''
    if cell['verdict'] == 'error':
        return 'ERR!'
    text = cell['actual']
    if cell['actual'] == 'OK' and cell.get('expected_peer') and \
            cell.get('peer') != cell['expected_peer']:
        text = f'OK@{cell.get("peer")}'
    return text + ('!' if cell['verdict'] == 'fail' else '')


def mismatches(cells):
    """The cells that did not pass."""
    return [c for c in cells if c['verdict'] != 'pass']


def describe(cell):
    """One line naming a cell and what went wrong."""
    what = (f'{cell["host"]} {cell["kind"]} {cell["column"]}')
    if cell['verdict'] == 'error':
        return f'{what}: could not be measured: {cell["message"]}'
    got = cell['actual']
    if got == 'OK' and cell.get('expected_peer') and cell.get('peer') != cell['expected_peer']:
        got = f'OK answered by {cell.get("peer")}, expected {cell["expected_peer"]}'
    return f'{what}: expected {cell["expected"]}, got {got} ({cell["reason"]})'


# -- the writer -------------------------------------------------------------------------

def write_run(out_dir, run_id, meta, scenario_results):
    """Write every result file of a run; returns the run folder."""
    run_dir = os.path.join(out_dir, run_id)
    os.makedirs(run_dir, exist_ok=True)
    for res in scenario_results:
        write_scenario(run_dir, res, meta['environment'])
    summary = summary_data(run_id, meta, scenario_results)
    write_file(os.path.join(run_dir, 'summary.json'),
               json.dumps(summary, indent=1, sort_keys=True) + '\n')
    write_file(os.path.join(run_dir, 'summary.md'), summary_md(summary, scenario_results))
    write_file(os.path.join(run_dir, 'junit.xml'), junit_xml(run_id, scenario_results))
    write_file(os.path.join(run_dir, 'report.html'), full_report(run_dir, summary,
                                                               scenario_results))
    point_latest(out_dir, run_id)
    return run_dir


def write_scenario(run_dir, res, environment):
    """<scenario>/matrix.json, bind.csv, connect.csv."""
    sdir = os.path.join(run_dir, res['scenario'])
    os.makedirs(sdir, exist_ok=True)
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
            writer.writerow(dict(cell, options=' '.join(cell['options'])))
    return buf.getvalue()


def point_latest(out_dir, run_id):
    """results/latest -> run_id, replaced atomically."""
    tmp = os.path.join(out_dir, f'.latest.tmp{os.getpid()}')
    if os.path.lexists(tmp):
        os.unlink(tmp)
    os.symlink(run_id, tmp)
    os.replace(tmp, os.path.join(out_dir, 'latest'))


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
    return '\n'.join(lines) + '\n'


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
                                 name=f'{cell["host"]} {cell["kind"]} {cell["column"]}')
            if cell['verdict'] == 'fail':
                ET.SubElement(case, 'failure', message=describe(cell)).text = \
                    json.dumps(cell, sort_keys=True)
            elif cell['verdict'] == 'error':
                ET.SubElement(case, 'error', message=describe(cell)).text = \
                    json.dumps(cell, sort_keys=True)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, 'unicode') + '\n'


def full_report(run_dir, summary, scenario_results):
    """The report page: harness/report_html.py's when it renders, else the plain one.

    A renderer that fails must not cost the run its results: the plain page says so.
    """
    try:
        from .report_html import render_run
    except ImportError:
        return report_html(summary, scenario_results)
    try:
        return render_run(run_dir)
    except Exception as exc:
        return report_html(summary, scenario_results,
                           note=f'the full report failed ({type(exc).__name__}: {exc})')


def report_html(summary, scenario_results, note=None):
    """report.html: one escaped table per matrix, mismatches highlighted."""
    e = html.escape
    out = ['<!doctype html><html><head><meta charset="utf-8">',
           f'<title>bindlab {e(summary["run_id"])}</title><style>',
           'body{font-family:sans-serif} table{border-collapse:collapse;margin:1em 0}',
           'td,th{border:1px solid #999;padding:2px 6px;font-family:monospace}',
           '.pass{background:#dfd}.fail{background:#fbb}.error{background:#fd8}',
           '</style></head><body>',
           f'<h1>bindlab run {e(summary["run_id"])}</h1>',
           f'<p>{summary["passed"]} passed, {summary["failed"]} failed; switch '
           f'{e(summary["switch"])}</p>']
    if note:
        out.append(f'<p class="error">{e(note)}</p>')
    for res in scenario_results:
        out.append(f'<h2>{e(res["scenario"])}: {e(res["title"])}</h2>')
        if res['problem']:
            out.append(f'<p class="error">{e(res["problem"])}</p>')
        for kind in ('bind', 'connect'):
            rows, cols, table = grid(res['cells'], kind)
            if not rows:
                continue
            out.append(f'<h3>{kind}</h3><table><tr><th>host</th>' +
                       ''.join(f'<th>{e(c)}</th>' for c in cols) + '</tr>')
            for row in rows:
                tds = []
                for col in cols:
                    cell = table.get((row, col))
                    if cell is None:
                        tds.append('<td></td>')
                        continue
                    tip = e(f'expected {cell["expected"]}: {cell["reason"]} '
                            f'[{cell["rule"]}] {cell.get("message") or ""}')
                    tds.append(f'<td class="{cell["verdict"]}" title="{tip}">'
                               f'{e(short(cell))}</td>')
                out.append(f'<tr><th>{e(row)}</th>{"".join(tds)}</tr>')
            out.append('</table>')
    out.append('</body></html>')
    return '\n'.join(out) + '\n'
