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
verdict, reason, rule, message, elapsed_us; a connect cell also after and
expected_after (what followed the handshake: cells.py), also in connect.csv.  Compact
JSON, one cell a line (json_rows): at 80,000 cells an indented file took four times
as long to write.

A large run's files are written by two processes (write_files): a forked child
writes matrix.json, mutations.json and junit.xml while the writer writes the rest;
a failure in either fails write_run and removes the folder, as in one process.
"""

import csv
import functools
import io
import itertools
import json
from json.encoder import c_make_encoder, encode_basestring, encode_basestring_ascii
import os
import pickle
import re
import shutil
import signal
import threading
import time
import traceback

from ..errors import BadInput
from ..files import new_folder, point_latest, write_file
from ..judge import (_UNPRINTABLE, all_cells, counts, describe, grid, mismatches,
                     mutation_matrix, printable, short)
from ..scenarios import valid_name
from .page import render_page

CSV_FIELDS = ('host', 'addr', 'port', 'proto', 'options', 'expected', 'actual',
              'verdict', 'rule', 'reason', 'message')
CONNECT_EXTRA = ('expected_peer', 'peer', 'local', 'expected_after', 'after')


def new_run_id():
    """20261125-121314-<pid>: sortable, unique per machine."""
    return time.strftime('%Y%m%d-%H%M%S', time.gmtime()) + f'-{os.getpid()}'


# -- the writer -------------------------------------------------------------------------

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
        fork = sum(len(res['cells']) for res in scenario_results) >= FORK_CELLS
    write_files(jobs, fork)


def write_logs(run_dir, res):
    """Each program launch's stdout, stderr and trace: <scenario>/<log>.out|.err|..."""
    for entry in res.get('programs') or []:
        stem = os.path.join(run_dir, res['scenario'], entry['log'])
        folder = os.path.dirname(stem)
        if not os.path.isdir(folder):
            new_folder(folder)
        for ext, text in entry['files'].items():
            write_file(stem + ext, text)


def scenario_files(run_dir, res, environment):
    """The scenario's folder, made; the matrix with its mutations, as a reader gets
    them back, for the report page; and the Jobs of <scenario>/matrix.json, bind.csv,
    connect.csv (and mutations.json)."""
    if not valid_name(res['scenario']):
        raise BadInput(f'scenario name {res["scenario"]!r} is not A-Z a-z 0-9 . _ -')
    sdir = os.path.join(run_dir, res['scenario'])
    new_folder(sdir)
    env = dict(environment, switch=res['switch'])
    if res.get('builder'):      # the one that built it (a topology may fall back)
        env['builder'] = res['builder']
    matrix = {'scenario': res['scenario'], 'title': res['title'],
              'source': res['source'], 'topology': res['topology'], 'environment': env,
              'steps': res['steps'],
              'faults': [s for s in res['steps'] if s['kind'] == 'fault'],
              'servers': res['servers'], 'timings': res['timings'],
              'problem': res['problem'], 'counts': counts(res['cells']),
              'cells': res['cells']}
    jobs = [Job(os.path.join(sdir, 'matrix.json'),
                functools.partial(json_rows, matrix, 'cells'), apart=True)]
    if res.get('mutations') is not None:
        jobs.append(Job(os.path.join(sdir, 'mutations.json'), functools.partial(
            json_rows, {'mutations': res['mutations']}, 'mutations'), apart=True))
    for kind, extra in (('bind', ()), ('connect', CONNECT_EXTRA)):
        jobs.append(Job(os.path.join(sdir, f'{kind}.csv'),
                        functools.partial(cells_csv, res['cells'], kind, extra)))
    if res.get('mutations') is not None:      # the page's matrix, not matrix.json's
        matrix = dict(matrix, mutations=res['mutations'])
    return matrix, jobs


# -- two processes ------------------------------------------------------------------------

FORK_CELLS = 20000      # cells from which write_run writes in two processes


class Job:
    """One file to write: path, make() -> its text (a functools.partial, so that what
    it writes is bound when the job is made); apart: written by the second process
    of write_files (matrix.json and junit.xml: about half of the time)."""

    def __init__(self, path, make, apart=False):
        self.path, self.make, self.apart = path, make, apart

    def write(self):
        write_file(self.path, self.make())


def write_files(jobs, fork):
    """Write every job's file, in one process or (fork) in two: a child writes the
    jobs that are `apart` while this process writes the others (2 cores: at 80,000
    cells the files take half the time).  Whole or nothing as in one process: a
    child's exception is raised here (write_run then removes the folder); this one's
    stops the child; the child is always waited for before anything is raised.
    Without os.fork, or with other threads running (a lock one of them holds stays
    held in the child), one process."""
    if not fork or not hasattr(os, 'fork') or threading.active_count() > 1:
        for job in jobs:
            job.write()
        return
    pid, report = _fork_writer([job for job in jobs if job.apart])
    try:
        for job in jobs:
            if not job.apart:
                job.write()
        failure = _read_all(report)        # until the child is done
    except BaseException:
        os.kill(pid, signal.SIGKILL)
        raise
    finally:
        status = _reap(pid, report)
    if failure:
        raise _exception_of(failure)
    if status:
        code = os.waitstatus_to_exitcode(status)
        paths = ', '.join(job.path for job in jobs if job.apart)
        raise RuntimeError(f'the process writing {paths} ' + (
            f'was killed by signal {-code}' if code < 0 else f'exited with status {code}'))


_SIGNALS = {signal.SIGINT, signal.SIGTERM}


def _fork_writer(jobs):
    """(pid, pipe) of a child that writes jobs, then exits (os._exit: none of this
    process's code runs in it after them), with its exception, pickled, in the pipe
    if one was raised.  SIGINT and SIGTERM are blocked across the fork so the child
    ignores Ctrl-C (this process stops it) and dies at SIGTERM before running any
    Python code for them."""
    read_end, write_end = os.pipe()
    old = signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
    pid = os.fork()
    if pid == 0:                             # the child
        status = 1
        try:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.pthread_sigmask(signal.SIG_SETMASK, old)
            os.close(read_end)
            try:
                for job in jobs:
                    job.write()
                status = 0
            except BaseException as exc:
                _write_all_of(write_end, _pickled(exc))
        finally:
            os._exit(status)
    signal.pthread_sigmask(signal.SIG_SETMASK, old)
    os.close(write_end)
    return pid, read_end


def _pickled(exc):
    """The child's report of exc: (its traceback as text, exc pickled or None when
    pickle cannot take it), pickled."""
    where = ''.join(traceback.format_exception(exc))
    try:
        exc.add_note(f'(raised in the process that wrote the files apart)\n{where}')
        blob = pickle.dumps(exc)
    except Exception:
        blob = None
    return pickle.dumps((where, blob))


def _exception_of(report):
    """The exception a child reported (_pickled): the very one, or a RuntimeError
    with its traceback when it cannot be rebuilt here."""
    where, blob = pickle.loads(report)
    try:
        return pickle.loads(blob)
    except Exception:
        return RuntimeError(f'in the process that wrote the files apart:\n{where}')


def _write_all_of(fd, data):
    """os.write until all of data is written."""
    while data:
        data = data[os.write(fd, data):]


def _read_all(fd):
    """Everything read from fd until end of file."""
    chunks = []
    while chunk := os.read(fd, 65536):
        chunks.append(chunk)
    return b''.join(chunks)


def _reap(pid, fd):
    """Close fd and wait for the child pid; its wait status.  SIGINT and SIGTERM are
    blocked meanwhile so that no child is left behind (running or a zombie) when one
    arrives."""
    old = signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
    try:
        os.close(fd)
        return os.waitpid(pid, 0)[1]
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


_ENCODER = json.JSONEncoder(sort_keys=True)
_ATTR_SPECIAL = re.compile('[&<>"\r\n\t]')
# A text _csv_safe or csv.writer would change: a control byte (cells.printable), a
# line that starts with a formula character (the texts of a column are joined by
# newlines), a comma, a quote or a carriage return.
_CSV_CARE = re.compile(f'{_UNPRINTABLE.pattern}|^[=+\\-@]|[,"\r]', re.M)


def json_rows(data, rows):
    """data as JSON text with sorted keys, its list data[rows] last and one element a
    line: compact (the C encoder; indent= falls back to Python's, 4x slower at 80,000
    cells), and still one cell a line for grep and diff."""
    head = {k: v for k, v in data.items() if k != rows}
    text = encoded([head])[0][:-1] + (', ' if head else '')
    return text + f'"{rows}": [\n' + ',\n'.join(encoded(data[rows])) + '\n]}\n'


def encoded(values):
    """[_ENCODER.encode(v) for v in values] without its cost per value: encode()
    builds a new C encoder for every value it is given (80,000 cells), this builds
    one for all of them with _ENCODER's settings (what JSONEncoder.iterencode passes
    it) and calls it from map, not from Python.  Without the C module, encode()."""
    enc = _ENCODER
    if c_make_encoder is None:
        return list(map(enc.encode, values))
    encoder = c_make_encoder(
        {} if enc.check_circular else None, enc.default,
        encode_basestring_ascii if enc.ensure_ascii else encode_basestring, enc.indent,
        enc.key_separator, enc.item_separator, enc.sort_keys, enc.skipkeys, enc.allow_nan)
    return list(map(''.join, map(encoder, values, itertools.repeat(0))))


def cells_csv(cells, kind, extra):
    """CSV text of the cells of one kind, built column by column: a column is
    gathered in one list comprehension and each of its distinct values (OK, pass, a
    rule, a reason: the same few recur in thousands of cells) is made a CSV field
    once (csv_column); the rows are joined by str.join, not by a csv.writer call per
    row or a Python call per field (2 s at 80,000 cells).  The same bytes as a
    csv.writer row per cell (tests/test_report.py checks it)."""
    fields = CSV_FIELDS + extra
    mine = [cell for cell in cells if cell['kind'] == kind]
    columns = []
    for key in fields:
        if key == 'options':
            column = [' '.join(cell.get('options') or ()) for cell in mine]
        else:
            column = [cell.get(key) for cell in mine]
        columns.append(csv_column(column))
    rows = '\n'.join(map(','.join, zip(*columns)))
    return ','.join(fields) + '\n' + (rows + '\n' if mine else '')


def csv_column(values):
    """values as CSV field texts: None as '', a text through _csv_safe, each as
    csv.writer writes it (_csv_field).  Each distinct value is looked at once, and a
    column whose texts joined hold nothing _csv_safe or the CSV quoting would change
    (_CSV_CARE, or a newline of their own) keeps its texts as they are, without a
    call per text (connect.csv's `local` is a new text in every cell).  Only a
    column of texts, ints and None is looked up this way (1, 1.0 and True, equal as
    dict keys, must stay apart; a list in a hostile cell cannot be a key); another
    takes the slow way, a _csv_field call per value."""
    if not set(map(type, values)) <= {str, int, type(None)}:
        return [_csv_field(v) for v in values]
    distinct = set(values)
    texts = [v for v in distinct if type(v) is str]
    joined = '\n'.join(texts)
    clean = not _CSV_CARE.search(joined) and joined.count('\n') == len(texts) - 1
    table = {v: _csv_field(v) for v in distinct if not clean or type(v) is not str}
    return list(map(table.get, values, values)) if table else values


def _csv_field(value):
    """value as csv.writer writes it as one field of a row: None as '', a text made
    safe (_csv_safe), quoted when it must be."""
    _FIELD.seek(0)
    _FIELD.truncate()
    _FIELD_WRITER.writerow(('' if value is None else _csv_safe(value), ''))
    return _FIELD.getvalue()[:-3]       # the field, without ',\r\n'


# csv.writer quotes a field holding a character of its lineterminator: with '\r\n',
# a carriage return is quoted too (with '\n' alone, 'a\rb' split the row in two for
# any CSV reader).
_FIELD = io.StringIO()
_FIELD_WRITER = csv.writer(_FIELD, lineterminator='\r\n')


def _csv_safe(value):
    """A CSV field: control bytes made visible, a would-be formula quoted."""
    if not isinstance(value, str):
        return value
    value = printable(value)
    return "'" + value if value[:1] in ('=', '+', '-', '@') else value


def summary_json(summary):
    """summary.json's text: indented (a few hundred lines), keys sorted."""
    return json.dumps(summary, indent=1, sort_keys=True) + '\n'


def summary_data(run_id, meta, scenario_results):
    """The content of summary.json."""
    scenarios = []
    total = {'pass': 0, 'fail': 0, 'error': 0}
    for res in scenario_results:
        every = all_cells(res)
        c = counts(every)
        for k in total:
            total[k] += c[k]
        entry = {'name': res['scenario'], 'title': res['title'], 'switch': res['switch'],
                 'counts': c, 'cells': len(every), 'problem': res['problem'],
                 'timings': res['timings'],
                 'mismatches': [_described(x) for x in mismatches(every)]}
        if res.get('mutations') is not None:
            entry['mutations'] = len(res['mutations'])
        scenarios.append(entry)
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
        lines += mutations_md(res)
        bad = mismatches(all_cells(res))
        if bad:
            lines += [''] + [f'- {_described(c)}' for c in bad]
    return printable('\n'.join(lines)) + '\n'


def _described(cell):
    """describe(cell), naming the mutation of a mutated cell."""
    text = describe(cell)
    return f'[{cell["mutation"]}] {text}' if cell.get('mutation') else text


def mutations_md(res):
    """The mutation matrix of a scenario as Markdown lines ([] without mutations)."""
    rows, hosts, table = mutation_matrix(res)
    if not rows:
        return []
    lines = ['', 'mutation matrix (rows: mutation and target; columns: hosts; `*` = '
             'differs from the unmutated network, `K/N` = cells changed, `!` = a cell '
             'failed)', '', '| mutation | ' + ' | '.join(hosts) + ' |',
             '|---' * (len(hosts) + 1) + '|']
    for row in rows:
        cells = [table.get((row, h), table.get((row, '*'), '')) for h in hosts]
        lines.append(f'| {row} | ' + ' | '.join(cells) + ' |')
    return lines


def junit_xml(run_id, scenario_results):
    """junit.xml: a testsuite per scenario, a testcase per cell, and one per
    (mutation, target, host) of a mutation run.  Written as text, byte for byte what
    ElementTree with ET.indent() writes (tests/test_report.py checks it), at a
    fraction of its time for 80,000 test cases."""
    suites = [_junit_suite(res) for res in scenario_results]
    root = _attrs(name=f'bindlab {run_id}')
    body = (f'<testsuites{root}>\n' + '\n'.join(suites) + '\n</testsuites>' if suites
            else f'<testsuites{root} />')
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + '\n'


def _junit_suite(res):
    """One scenario's <testsuite>: a passing cell is one line, built from attribute
    texts escaped once per distinct host, kind and column (_case_attrs); a cell that
    did not pass, and each mutation case, as before."""
    cells = res['cells']
    verdicts = [cell['verdict'] for cell in cells]
    lines = [f'    <testcase{attrs} />' if verdict == 'pass' else
             _failed_case(attrs, [cell], [cell])
             for attrs, verdict, cell in zip(_case_attrs(res['scenario'], cells),
                                             verdicts, cells)]
    failures, errors = verdicts.count('fail'), verdicts.count('error')
    mutated = _mutation_cases(res)
    for classname, name, group in mutated:
        attrs = f' classname="{_attr(classname)}" name="{_attr(printable(name))}"'
        wrong = [c for c in group if c['verdict'] != 'pass']
        lines.append(_failed_case(attrs, group, wrong) if wrong else
                     f'    <testcase{attrs} />')
        failures += bool(wrong) and wrong[0]['verdict'] == 'fail'
        errors += bool(wrong) and wrong[0]['verdict'] == 'error'
    head = _attrs(name=res['scenario'], tests=str(len(cells) + len(mutated)),
                  failures=str(failures), errors=str(errors),
                  time=f'{sum(res["timings"].values()):.3f}')
    return (f'  <testsuite{head}>\n' + '\n'.join(lines) + '\n  </testsuite>' if lines
            else f'  <testsuite{head} />')


def _failed_case(attrs, group, wrong):
    """A <testcase> with its <failure> or <error>: what went wrong in words (at most
    five cells) and the cells as JSON."""
    tag = 'failure' if wrong[0]['verdict'] == 'fail' else 'error'
    message = _attrs(message=printable('; '.join(_described(c) for c in wrong[:5])))
    text = _xml_text(json.dumps(wrong[0] if len(group) == 1 else wrong, sort_keys=True))
    return (f'    <testcase{attrs}>\n      <{tag}{message}>{text}</{tag}>\n'
            '    </testcase>')


def _case_attrs(scenario, cells):
    """' classname="bindlab.S.KIND" name="HOST KIND COLUMN"' of each cell, escaped.
    printable and _attr change each character on its own, so the name is escaped
    piece by piece (_name_piece), and each piece once per distinct text (_each_once):
    200 hosts, 2 kinds and 400 columns, not 80,000 names."""
    kinds = [cell['kind'] for cell in cells]
    classes = _each_once(kinds, lambda kind: _attr(f'bindlab.{scenario}.{kind}'))
    hosts = _each_once([cell['host'] for cell in cells], _name_piece)
    columns = _each_once([cell['column'] for cell in cells], _name_piece)
    return [f' classname="{c}" name="{h} {k} {o}"'
            for c, h, k, o in zip(classes, hosts, _each_once(kinds, _name_piece), columns)]


def _name_piece(value):
    """A piece of a test case's name as its attribute text: control bytes visible,
    escaped."""
    return _attr(printable(f'{value}'))


def _each_once(values, make):
    """[make(v) for v in values], make called once per distinct text.  Values that
    are not all texts (1 and True are equal keys, a list is none) are made one by
    one."""
    if set(map(type, values)) - {str}:
        return list(map(make, values))
    table = {v: make(v) for v in set(values)}
    return list(map(table.__getitem__, values))


def _xml_text(text):
    """text escaped as XML character data (as ElementTree escapes it)."""
    return text.replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;')


def _attrs(**attrs):
    """' key="value" ...' with each value escaped as ElementTree escapes attributes."""
    return ''.join(f' {key}="{_attr(value)}"' for key, value in attrs.items())


def _attr(value):
    """value escaped as an XML attribute value (as ElementTree escapes it)."""
    if not _ATTR_SPECIAL.search(value):
        return value
    return (_xml_text(value).replace('"', '&quot;').replace('\r', '&#13;')
            .replace('\n', '&#10;').replace('\t', '&#09;'))


def _mutation_cases(res):
    """[(classname, name, cells)]: one test case per (mutation, target, host)."""
    out = []
    for m in res.get('mutations') or ():
        hosts = {}
        for cell in m['cells']:
            hosts.setdefault(cell['host'], []).append(dict(
                cell, mutation=f'{m["name"]} {m["target"]}'))
        for host, cells in hosts.items():
            out.append((f'bindlab.{res["scenario"]}.mutation.{m["name"]}',
                        f'{host} under {m["name"]} on {m["target"]}', cells))
    return out
