"""report.html: one self-contained page per run, for people.

The result files (summary.json, <scenario>/matrix.json) are for programs; this page is
for the teacher, the student and the developer reading a CI artifact.  It has

    an index       every scenario with its status (pass / fail / error) and counts;
    per scenario   the topology drawn as inline SVG, the bind and the connect matrix as
                   colour-coded grids (rows: the host that made the call; columns: the
                   address or server endpoint), the errno name in every cell, expected
                   against actual, the reason on hover (title) and inline (a table of
                   every cell under the grid), the faults applied, the environment, and
                   the scenario's lab sheet (labs/<scenario>.md) rendered.

The page is ONE file: inline CSS and SVG, no script, no external resource, so it opens
from a CI artifact store or an e-mail.  Everything that comes from a result file or a
lab sheet is escaped with html.escape before it is printed, host names and messages
included: a hostile host name cannot inject markup.  Markdown is rendered by a tiny
renderer of our own (headings, paragraphs, fenced code, inline code, bold, lists)
that escapes first and adds only its own tags.

Every grid cell carries data attributes (data-matrix, data-kind, data-verdict,
data-host, data-column, data-expected, data-actual) so tests and scripts can count
cells in the rendered page.

For a class (`bindlab grade`, harness/lab/grade.py) the same page style shows each lab
student's path, from their check records (harness/lab/records.py): every check with its
time, the hints used so far, the commands typed before it and the cells it saw
change, and the check at which the goal first held (``render_lab_paths``).

Entry points: ``render_run(run_dir) -> str`` and ``write_report(run_dir) -> path``
(whole file or nothing, harness/files.py); ``render_page(summary, matrices, name)`` is
the same page from data in memory (the writer's, which has just written those
files).  The run folder is read by reader.read_run in its lenient form: a matrix that cannot be used is shown as a problem, not hidden.
The topology drawing is harness/report/svg.py, the Markdown subset harness/report/markdown.py.
"""

import os
import re

from .. import REPO
from ..files import write_file
from ..judge import Cell, KINDS, mutation_cells, timeline
from .reader import read_run
from .grid import cell_tables, GRID_LIMIT, matrix_grid, mutation_grid, too_large, VERDICTS
from .markdown import esc, render_markdown
from .svg import topology_svg

LABS_DIR = os.path.join(REPO, 'labs')


def scenario_status(matrix):
    """'skipped', 'error', 'fail' or 'pass' for a scenario (its mutated cells included), and its
    {verdict: count}; a cell that is no object, or has another verdict, counts as an
    error.  Counted with a list's count(), not a dict update per cell."""
    verdicts = [c.verdict if isinstance(c, Cell) else None
                for c in matrix.get('cells') or ()]
    verdicts += [c.verdict for c in mutation_cells(matrix.get('mutations'))]
    counts = {v: verdicts.count(v) for v in VERDICTS}
    counts['error'] += len(verdicts) - sum(counts.values())
    if matrix.get('skipped') and not matrix.get('load_error') and not verdicts:
        status = 'skipped'           # not run here: the switch, a kernel module
    elif matrix.get('load_error') or matrix.get('problem') or counts['error']:
        status = 'error'
    elif counts['fail']:
        status = 'fail'
    elif counts['pass']:
        status = 'pass'
    else:
        status = 'error'
    return status, counts


# -- the page ------------------------------------------------------------------------

def render_run(run_dir, labs_dir=LABS_DIR):
    """The whole report of the run in run_dir, as one HTML document (a str)."""
    _folder, summary, matrices = read_run(run_dir, lenient=True)
    return render_page(summary, matrices, os.path.basename(os.path.normpath(run_dir)),
                       labs_dir)


def render_page(summary, matrices, folder_name, labs_dir=LABS_DIR):
    """The report of a run given as read (summary.json's dict, the matrix.json dicts
    with their mutations): the writer passes what it has just written, so that a
    large run is not read back (results.write_run).  folder_name names the run when
    the summary does not."""
    run_id = summary.get('run_id') or summary.get('run') or folder_name
    statuses = [scenario_status(matrix) for matrix in matrices]   # once: 80,000 cells
    parts = [_head(f'bindlab run {run_id}'),
             f'<header><h1>bindlab run <code>{esc(run_id)}</code></h1>',
             _run_facts(summary, matrices, statuses), '</header>',
             _legend(), _index(matrices, statuses)]
    for matrix, status in zip(matrices, statuses):
        parts.append(_scenario_section(matrix, status, labs_dir))
    if not matrices:
        parts.append('<p class="empty">This run has no scenario results '
                     '(no <code>matrix.json</code> in the folder).</p>')
    parts.append('</body></html>\n')
    return '\n'.join(parts)


def write_report(run_dir, path=None, labs_dir=LABS_DIR):
    """Render run_dir and write it to path (default run_dir/report.html); return path."""
    path = path or os.path.join(run_dir, 'report.html')
    write_file(path, render_run(run_dir, labs_dir))
    return path


def render_lab_paths(found, problems=()):
    """One HTML page: per lab, per student, every check in order, what changed, and
    where the goal first held.  found: {(lab, student): [records in time order]}."""
    parts = [_head('bindlab: the students\' paths'),
             '<header><h1>bindlab lab paths</h1>',
             f'<p class="facts">{len({s for _l, s in found})} students, '
             f'{len({lab for lab, _s in found})} labs</p></header>']
    for lab in sorted({lab for lab, _s in found}):
        parts.append(f'<section class="scenario" id="{_anchor(lab)}"><h2>{esc(lab)}</h2>')
        for (name, student), recs in sorted(found.items()):
            if name == lab:
                parts.append(_student_path(student, recs))
        parts.append('</section>')
    if problems:
        parts.append('<section class="scenario"><h2>Skipped records</h2><ul>'
                     + ''.join(f'<li>{esc(p)}</li>' for p in problems) + '</ul></section>')
    parts.append('</body></html>\n')
    return '\n'.join(parts)


def _student_path(student, recs):
    """A student's checks of one lab as a table: the first solving check marked, and
    the checks whose goal held with collateral damage (what broke), and where that was
    repaired."""
    first = next((n for n, r in enumerate(recs) if r['solved']), None)
    damaged = [n for n, r in enumerate(recs) if r['goal_held'] and r['broken']
               and (first is None or n < first)]
    status = ('<span class="badge st-pass">solved</span> at check '
              f'{recs[first]["check"]} ({esc(recs[first]["time"])})' if first is not None
              else '<span class="badge st-fail">not solved</span>')
    if damaged:
        status += (f' <span class="badge st-error">collateral damage</span> at check '
                   f'{recs[damaged[0]]["check"]}'
                   + (f', repaired at check {recs[first]["check"]}' if first is not None
                      else ', never repaired'))
    rows = []
    for n, rec in enumerate(recs):
        mark = ' class="r-pass first-solved"' if n == first else \
            (' class="r-error damaged"' if n in damaged else
             ' class="r-fail"' if not rec['solved'] else '')
        goal = ('goal first held here' + (' (the damage repaired)' if damaged else '')
                if n == first else 'goal holds' if rec['solved'] else
                'goal holds, but the fix broke other cells' if rec['goal_held'] else
                '; '.join(esc(m) for m in rec['missing'][:3]) or 'goal does not hold')
        rows.append(
            f'<tr{mark} data-check="{rec["check"]}" data-solved="{str(rec["solved"]).lower()}">'
            f'<td>{rec["check"]}</td><td>{esc(rec["time"])}</td><td>{esc(rec["where"])}</td>'
            f'<td>{rec["hints_used"]}/{rec["hints_total"]}</td>'
            f'<td>{"<br>".join(f"<code>{esc(c)}</code>" for c in rec["commands"])}</td>'
            f'<td>{len(rec["changed"])} changed'
            + ('<br>' + '<br>'.join(esc(c) for c in rec['changed'][:12])
               if rec['changed'] else '')
            + f'</td><td>{"<br>".join(esc(b) for b in rec["broken"][:12])}</td>'
            f'<td>{goal}</td></tr>')
    return (f'<h3 data-student="{esc(student)}">{esc(student)} {status}</h3>'
            '<table class="cells"><tr><th>check</th><th>time</th><th>where</th>'
            '<th>hints</th><th>commands typed before it</th><th>cells changed</th>'
            '<th>broke (must keep their outcome)</th><th>goal</th></tr>'
            + ''.join(rows) + '</table>')


_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;
 max-width:1200px;padding:0 16px 48px;color:#1d1f23;background:#fff}
h1{font-size:22px;margin:18px 0 6px}h2{font-size:19px;margin:0 0 8px}
h3{font-size:16px;margin:18px 0 6px}
code,pre{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:12.5px}
pre{background:#f4f5f7;border:1px solid #dde0e4;padding:8px 10px;overflow-x:auto}
p code,li code,td code{background:#f1f2f4;padding:0 3px;border-radius:3px}
.facts{color:#555;margin:0 0 10px}.facts span{margin-right:16px}
section.scenario{border-top:3px solid #ccd;margin-top:28px;padding-top:12px}
.badge{display:inline-block;min-width:44px;text-align:center;border-radius:10px;
 padding:1px 8px;font-weight:600;font-size:12px}
.st-pass{background:#cdeccd;color:#164d16}.st-fail{background:#f6c9c9;color:#7a1010}
.st-error{background:#ffe7a6;color:#664800}.st-skipped{background:#e4e6ea;color:#333}
table{border-collapse:collapse}
table.index td,table.index th,table.cells td,table.cells th,table.kv td,table.md td,
table.md th{
 border:1px solid #dde0e4;padding:3px 8px;text-align:left;vertical-align:top}
.grid-wrap{overflow-x:auto;max-width:100%}
table.grid{border-collapse:separate;border-spacing:2px;font-size:12px}
table.grid th{font-weight:600;padding:2px 6px;white-space:nowrap;background:#f4f5f7}
table.grid thead th{writing-mode:vertical-rl;transform:rotate(180deg);text-align:left;
 vertical-align:bottom;max-height:260px;overflow:hidden}
table.grid td{min-width:60px;padding:2px 4px;font-size:11.5px;text-align:center;white-space:nowrap;
 border:2px solid transparent}
td.v-pass{background:#cdeccd;color:#164d16}
td.v-fail{background:#f3a5a5;color:#5c0000;border-color:#b30000;font-weight:700}
td.v-error{background:#ffe08a;color:#5a4000;border-color:#c79a00}
td.v-none{background:#fafafa;color:#bbb}
td .exp{display:block;font-size:10.5px;font-weight:400}
td .no{font-size:9px;color:inherit;opacity:.6;margin-right:3px;vertical-align:top}
tr.r-fail td{background:#fde8e8}tr.r-error td{background:#fff5d6}
tr.first-solved td{background:#cdeccd;font-weight:600}
details{margin:6px 0}summary{cursor:pointer;color:#334}
.legend span{margin-right:10px}.legend .badge{min-width:0}
.lab{background:#fbfbfd;border:1px solid #e3e4ea;padding:4px 16px;margin-top:10px}
.lab h1{font-size:18px}.lab h2{font-size:16px}.lab h3{font-size:14px}
.problem{background:#fff0f0;border:1px solid #e7b3b3;padding:6px 10px}
svg.topo{border:1px solid #e3e4ea;background:#fcfcfd;max-width:100%;height:auto}
"""


def _head(title):
    """<!doctype> .. <body>: the document head with the inline stylesheet."""
    return ('<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<title>{esc(title)}</title><style>{_CSS}</style></head><body>')


def _run_facts(summary, matrices, statuses):
    """One line of run facts: totals, switch, kernel, start time (what is known);
    statuses: scenario_status() of each matrix."""
    totals = {v: 0 for v in VERDICTS}
    for _status, counts in statuses:
        for verdict, n in counts.items():
            totals[verdict] += n
    facts = [f'{len(matrices)} scenario(s)', f'{totals["pass"]} passed',
             f'{totals["fail"]} failed', f'{totals["error"]} error(s)']
    skipped = [s for s, _counts in statuses].count('skipped')
    if skipped:
        facts.append(f'{skipped} scenario(s) skipped')
    env = summary.get('environment') if isinstance(summary.get('environment'), dict) \
        else (matrices[0].get('environment') if matrices else None)
    if isinstance(env, dict):
        for key in ('switch', 'kernel', 'mininet'):
            if env.get(key):
                facts.append(f'{key} {env[key]}')
    for key in ('started', 'finished', 'exit_status'):
        if summary.get(key) is not None:
            facts.append(f'{key.replace("_", " ")} {summary[key]}')
    return '<p class="facts">' + ''.join(f'<span>{esc(f)}</span>' for f in facts) + '</p>'


def _legend():
    """What the colours mean (colour is never the only signal: each cell has a mark)."""
    return ('<p class="legend">Cells: <span class="badge st-pass">\u2713 pass</span>'
            'actual = expected <span class="badge st-fail">\u2717 fail</span>'
            'actual differs (the expected outcome is shown under it) '
            '<span class="badge st-error">! error</span>could not be measured. '
            'Hover a cell for its reason; the table under each grid lists them all.</p>')


def _anchor(name):
    """A safe id for a scenario section."""
    return 'sc-' + re.sub(r'[^A-Za-z0-9_-]', '-', str(name))


def _index(matrices, statuses):
    """The index table: scenario, title, status, counts, link to its section."""
    rows = []
    for matrix, (status, counts) in zip(matrices, statuses):
        name = matrix.get('scenario')
        rows.append(
            f'<tr data-scenario="{esc(name)}" data-status="{status}">'
            f'<td><a href="#{esc(_anchor(name))}">{esc(name)}</a></td>'
            f'<td>{esc(matrix.get("title", ""))}</td>'
            f'<td><span class="badge st-{status}">{status}</span></td>'
            + ''.join(f'<td>{"-" if status == "skipped" else counts[v]}</td>'
                      for v in ('pass', 'fail', 'error')) + '</tr>')
    return ('<h2>Scenarios</h2><table class="index"><thead><tr><th>scenario</th>'
            '<th>title</th><th>status</th><th>pass</th><th>fail</th><th>error</th>'
            '</tr></thead><tbody>' + ''.join(rows) + '</tbody></table>')


def _scenario_section(matrix, status_counts, labs_dir):
    """One scenario: heading, problems, topology, matrices, faults, environment, lab;
    status_counts: its scenario_status()."""
    name = matrix.get('scenario')
    status, counts = status_counts
    out = [f'<section class="scenario" id="{esc(_anchor(name))}" '
           f'data-scenario="{esc(name)}" data-status="{status}">',
           f'<h2>{esc(name)} <span class="badge st-{status}">{status}</span></h2>']
    if matrix.get('title'):
        out.append(f'<p>{esc(matrix["title"])}</p>')
    for key in ('load_error', 'problem', 'error'):
        if matrix.get(key):
            out.append(f'<p class="problem">{esc(matrix[key])}</p>')
    if status == 'skipped':     # not run here: why, and nothing measured to show
        out += [f'<p class="problem skipped">skipped, {len(matrix.get("cases") or ())} '
                f'cases not run: {esc(matrix["skipped"])}</p>',
                _environment(matrix.get('environment')), _lab_sheet(name, labs_dir),
                '</section>']
        return '\n'.join(x for x in out if x)
    out.append(f'<p class="facts">{counts["pass"]} passed, {counts["fail"]} failed, '
               f'{counts["error"]} error(s)</p>')
    topo = matrix.get('topology')
    if topo:
        out.append('<h3>Topology</h3>' + topology_svg(topo))
    cells = [c for c in matrix.get('cells') or () if isinstance(c, Cell)]
    for kind in KINDS:
        mine = [c for c in cells if c.kind == kind]
        if not mine:
            continue
        if len(mine) > GRID_LIMIT:
            out.append(too_large(name, kind, mine))
            continue
        protos = sorted({str(c.proto or 'tcp') for c in mine})
        for proto in protos:
            out.append(matrix_grid(name, kind, [c for c in mine
                                                if str(c.proto or 'tcp') == proto],
                                   proto if len(protos) > 1 else ''))
        out.append(cell_tables(kind, mine))
    other = [c for c in cells if c.kind not in KINDS]
    if other:
        out.append(matrix_grid(name, 'other', other))
        out.append(cell_tables('other', other))
    out.append(mutation_grid(matrix))
    lines = timeline(matrix.get('timeline'), cells)
    if lines:               # a scenario in time: when each step fired, each history
        out.append('<h3>Timeline (seconds into the probe phase)</h3><pre class="timeline">'
                   + esc('\n'.join(lines)) + '</pre>')
    out.append(_faults(matrix))
    out.append(_environment(matrix.get('environment')))
    out.append(_lab_sheet(name, labs_dir))
    out.append('</section>')
    return '\n'.join(x for x in out if x)


# -- faults, environment ---------------------------------------------------------------

def _faults(matrix):
    """The setup steps and the misconfigurations applied, as commands with their why.

    matrix.json's 'steps' (each with kind setup|fault, host, argv, why, ok, error);
    a step that did not apply is marked.
    """
    steps = [s for s in matrix.get('steps') or () if isinstance(s, dict)]
    if not steps:
        steps = [dict(s, kind='fault') for s in matrix.get('faults') or ()
                 if isinstance(s, dict)]
    out = []
    for kind, label in (('setup', 'Setup steps'), ('fault', 'Faults applied')):
        items = []
        for step in (s for s in steps if s.get('kind') == kind):
            argv = step.get('argv') or ()
            cmd = ' '.join(str(a) for a in argv) if isinstance(argv, (list, tuple)) \
                else str(argv)
            why = step.get('why') or ''
            failed = step.get('ok') is False or step.get('error')
            bad = (f' <strong class="problem">did not apply: {esc(step.get("error"))}'
                   '</strong>') if failed else ''
            items.append(f'<li><code>{esc(step.get("host", ""))}: {esc(cmd)}</code>'
                         f'{" &mdash; " + esc(why) if why else ""}{bad}</li>')
        if items:
            out.append(f'<h3>{label}</h3><ul>{"".join(items)}</ul>')
    if not any(s.get('kind') == 'fault' for s in steps):
        out.append('<p class="facts">No fault applied after start: what fails here '
                   'fails on a correctly built network.</p>')
    return ''.join(out)


def _environment(env):
    """The environment the matrices were taken in, as a small key/value table."""
    if not isinstance(env, dict) or not env:
        return ''
    rows = ''.join(f'<tr><td>{esc(k)}</td><td>{esc(v)}</td></tr>'
                   for k, v in sorted(env.items(), key=lambda kv: str(kv[0])))
    return (f'<details><summary>Environment</summary><table class="kv">{rows}'
            '</table></details>')


def _lab_sheet(name, labs_dir):
    """The scenario's lab sheet (labs/<name>.md) rendered, or a line saying none."""
    path = os.path.join(labs_dir, f'{name}.md') if labs_dir else None
    if not path or '/' in str(name) or not os.path.isfile(path):
        return f'<p class="facts">No lab sheet for {esc(name)}.</p>'
    with open(path, encoding='utf-8') as f:
        text = f.read()
    return (f'<details class="lab-wrap"><summary>Lab sheet '
            f'(labs/{esc(name)}.md)</summary><div class="lab">{render_markdown(text)}'
            '</div></details>')


