"""The texts of a run's files: matrix.json's rows, the CSVs, summary.json and
summary.md (junit.xml: junit.py).  Text that came from a program or a file (messages,
reasons) has its control bytes made visible (cells.printable) in summary.md and the
CSVs; a CSV field that a spreadsheet would read as a formula (=, +, -, @) is
prefixed with a quote."""

import csv
import io
import json
import re

from ..judge import (all_cells, cell_json, counts, describe, grid, KINDS, mismatches,
                     mutation_matrix, printable, short, timeline, UNPRINTABLE)

CSV_FIELDS = ('host', 'addr', 'port', 'proto', 'options', 'expected', 'actual',
              'verdict', 'rule', 'reason', 'message')
CONNECT_EXTRA = ('expected_peer', 'peer', 'local', 'expected_after', 'after')
_ENCODER = json.JSONEncoder(sort_keys=True, default=cell_json)
# A text _csv_safe or csv.writer would change: a control byte (cells.printable), a
# line that starts with a formula character (the texts of a column are joined by
# newlines), a comma, a quote or a carriage return.
_CSV_CARE = re.compile(f'{UNPRINTABLE.pattern}|^[=+\\-@]|[,"\r]', re.M)


def json_rows(data, rows):
    """data as JSON text with sorted keys, its list data[rows] last and one element a
    line: compact (indent= would take the pure-Python encoder), and still one cell a
    line for grep and diff.  The text comes in pieces (files.write_file writes them
    as they come): a 400-host matrix.json is 146 MB, twice that while joined."""
    head = {k: v for k, v in data.items() if k != rows}
    yield encoded([head])[0][:-1] + (', ' if head else '') + f'"{rows}": [\n'
    values = data[rows]
    for start in range(0, len(values), ROWS_A_PIECE):
        piece = ',\n'.join(encoded(values[start:start + ROWS_A_PIECE]))
        yield piece + (',\n' if start + ROWS_A_PIECE < len(values) else '')
    yield '\n]}\n'


ROWS_A_PIECE = 2048


def encoded(values):
    """Each value as compact JSON text with sorted keys (a Cell as its to_json())."""
    return list(map(_ENCODER.encode, values))


def cells_csv(cells, kind, extra):
    """CSV text of the cells of one kind, built column by column: a column is
    gathered in one list comprehension and each of its distinct values (OK, pass, a
    rule, a reason: the same few recur in thousands of cells) is made a CSV field
    once (csv_column); the rows are joined by str.join, not by a csv.writer call per
    row or a Python call per field.  The same bytes as a
    csv.writer row per cell (tests/test_report.py checks it)."""
    fields = CSV_FIELDS + extra
    mine = [cell for cell in cells if cell.kind == kind]
    columns = []
    for key in fields:
        if key == 'options':
            column = [' '.join(cell.options or ()) for cell in mine]
        else:
            column = [getattr(cell, key) for cell in mine]
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
        every = all_cells(res.cells, res.mutations)
        c = counts(every)
        for k in total:
            total[k] += c[k]
        entry = {'name': res.scenario, 'title': res.title, 'switch': res.switch,
                 'counts': c, 'cells': len(every), 'problem': res.problem,
                 'skipped': res.skipped, 'timings': res.timings,
                 'mismatches': [described(x) for x in mismatches(every)]}
        if res.skipped:
            entry['cases'] = len(res.cases or ())
        if res.mutations is not None:
            entry['mutations'] = len(res.mutations)
        scenarios.append(entry)
    return dict(meta, run_id=run_id, scenarios=scenarios, counts=total,
                passed=total['pass'], failed=total['fail'] + total['error'],
                skipped=sum(s.get('cases', 0) for s in scenarios if s['skipped']))


def summary_md(summary, scenario_results):
    """summary.md: a table of scenarios, then each scenario's matrices."""
    skipped = summary.get('skipped') and f', {summary["skipped"]} skipped'
    lines = [f'# bindlab run {summary["run_id"]}', '',
             f'{summary["passed"]} passed, {summary["failed"]} failed{skipped or ""} '
             f'(switch {summary["switch"]}, kernel {summary["environment"]["kernel"]})', '',
             '| scenario | pass | fail | error | problem |', '|---|---|---|---|---|']
    for s in summary['scenarios']:
        c = s['counts']
        shown = ('-', '-', '-') if s.get('skipped') else (c['pass'], c['fail'], c['error'])
        why = f'skipped: {s["skipped"]}' if s.get('skipped') else s['problem'] or ''
        lines.append(f'| {s["name"]} | ' + ' | '.join(map(str, shown)) +
                     f' | {why.replace("|", "/")} |')
    for res in scenario_results:
        lines += ['', f'## {res.scenario}: {res.title}']
        if res.skipped:
            lines += ['', f'skipped, {len(res.cases or ())} cases not run: {res.skipped}']
        for kind in KINDS:
            rows, cols, table = grid(res.cells, kind)
            if not rows:
                continue
            lines += ['', f'{kind} matrix (rows: hosts; `!` = differs from expected)', '',
                      '| host | ' + ' | '.join(cols) + ' |',
                      '|---' * (len(cols) + 1) + '|']
            for row in rows:
                lines.append(f'| {row} | ' + ' | '.join(short(table.get((row, c)))
                                                       for c in cols) + ' |')
        lines += mutations_md(res)
        steps = timeline(res.timeline, res.cells)
        if steps:
            lines += ['', 'timeline (seconds into the probe phase)', '', '```'] + steps + \
                ['```']
        bad = mismatches(all_cells(res.cells, res.mutations))
        if bad:
            lines += [''] + [f'- {described(c)}' for c in bad]
    return printable('\n'.join(lines)) + '\n'


def described(cell):
    """describe(cell), naming the mutation of a mutated cell."""
    text = describe(cell)
    return f'[{cell.mutation}] {text}' if cell.mutation else text


def mutations_md(res):
    """The mutation matrix of a scenario as Markdown lines ([] without mutations)."""
    rows, hosts, table = mutation_matrix(res.mutations)
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
