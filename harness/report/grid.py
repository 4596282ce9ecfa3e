"""The grids of report.html: a scenario's matrices and its mutation matrix, and the
tables of every cell with its reason (see report_page.py for the page around them)."""

from ..judge import mutation_matrix, then, VERDICTS
from ..scenarios import column_label
from .markdown import esc

# Each kind's matrix heading, and what its columns are.
MATRIX_LABELS = {'bind': 'Bind matrix', 'connect': 'Connect matrix',
                 'join': 'Join matrix', 'mcast-if': 'Multicast-interface matrix',
                 'send': 'Send matrix'}
COLUMN_WORDS = {'bind': 'the address it binds',
                'join': 'the group it joins @ the interface it names',
                'mcast-if': 'the group @ the interface it names for multicast sends',
                'send': 'the source it sends from -> the destination'}
GRID_LIMIT = 5000          # cells of one kind above which the grid is left out
_MARK = {'pass': '\u2713', 'fail': '\u2717', 'error': '!'}


def too_large(scenario, kind, cells):
    """A matrix above GRID_LIMIT cells (a benchmark-sized scale run): its counts and
    only the cells that differ, so the page stays a page; the CSV has every cell.
    Cells are numbered only when some differ (80,000 passing cells need no numbers)."""
    verdicts = verdict_counts(cells)
    label = MATRIX_LABELS.get(kind, 'Other cells')
    bad = [] if verdicts['pass'] == len(cells) else \
        [(n, c) for n, c in _numbered(cells) if c.verdict != 'pass']
    return (f'<h3>{label}</h3><p class="facts" data-matrix="{esc(scenario)}/{esc(kind)}" '
            f'data-omitted="{len(cells)}">{len(cells)} cells: {verdicts["pass"]} pass, '
            f'{verdicts["fail"]} fail, {verdicts["error"]} error. The grid is left out '
            f'above {GRID_LIMIT} cells; every cell is in {esc(kind)}.csv and '
            'matrix.json.</p>'
            + (_cell_table(bad[:GRID_LIMIT], 'differs') if bad else ''))


def verdict_counts(cells):
    """{verdict: number of cells} of pass, fail and error (another verdict is in no
    count): a list's count() per verdict, not a Python test per cell and verdict."""
    verdicts = [cell.verdict for cell in cells]
    return {v: verdicts.count(v) for v in VERDICTS}


def cell_column(cell):
    """The column label of a cell: its own 'column' (every harness cell has one)."""
    return str(cell.column or column_label(
        str(cell.kind), _proto(cell), str(_or(cell.addr, '?')),
        _or(cell.port, '?'), [str(o) for o in cell.options or ()]))


def _or(value, default):
    """value, or default when it is None."""
    return default if value is None else value


def _proto(cell):
    return cell.proto or 'tcp'


def _outcome(value):
    """An expected/actual value as text ('OK', 'EADDRNOTAVAIL', 'ERROR')."""
    return 'ERROR' if value is None else str(value)


def _title(cell):
    """The hover text of a cell: where, expected vs actual, reason, rule, message."""
    lines = [f'{cell.host} {cell.kind} {cell_column(cell)}'
             f' port {cell.port}',
             f'expected {_outcome(cell.expected)}, actual '
             f'{_outcome(cell.actual)}: {cell.verdict}']
    for key in ('reason', 'rule', 'message', 'expected_peer', 'peer', 'local',
                'expected_after', 'after', 'elapsed_us'):
        if getattr(cell, key) not in (None, ''):
            lines.append(f'{key}: {getattr(cell, key)}')
    return '\n'.join(lines)


def matrix_grid(scenario, kind, cells, proto=''):
    """A colour-coded grid: rows hosts, columns addresses or endpoints, one per cell.

    proto: when a matrix has both TCP and UDP cells it is drawn as one grid per
    protocol (narrower); the grid's heading names it.  Cell numbers restart per grid
    and match the numbers in the cell tables (see _cell_tables, which numbers in the
    same order: by protocol, then matrix.json order).

    A host that has several cells for one column (the same endpoint probed twice,
    e.g. held connects) gets extra columns "LABEL #2", "#3" ..., so every cell of
    matrix.json is exactly one grid cell.  Cells are numbered; the table under the
    grid uses the same numbers.
    """
    hosts, columns, where, seen = [], [], {}, {}
    for n, cell in _numbered(cells):
        host, col = str(cell.host), cell_column(cell)
        k = seen[(host, col)] = seen.get((host, col), 0) + 1
        if k > 1:
            col = f'{col} #{k}'
        if host not in hosts:
            hosts.append(host)
        if col not in columns:
            columns.append(col)
        where[(host, col)] = (n, cell)
    label = MATRIX_LABELS.get(kind, 'Other cells')
    label += f' ({esc(proto)})' if proto else ''
    verdicts = verdict_counts(cells)
    head = ''.join(f'<th scope="col" title="{esc(c)}">{esc(c)}</th>' for c in columns)
    body = []
    for host in hosts:
        tds = []
        for col in columns:
            entry = where.get((host, col))
            tds.append(_grid_cell(scenario, kind, *entry) if entry else
                       '<td class="v-none" title="not probed">\u00b7</td>')
        body.append(f'<tr><th scope="row">{esc(host)}</th>{"".join(tds)}</tr>')
    summary = (f'{len(cells)} cells: {verdicts["pass"]} pass, {verdicts["fail"]} fail, '
               f'{verdicts["error"]} error')
    return (f'<h3>{label}</h3>'
            f'<p class="facts">rows: the host that made the call; columns: '
            f'{COLUMN_WORDS.get(kind, "the endpoint it reaches")}'
            f'. {esc(summary)}</p>'
            f'<div class="grid-wrap"><table class="grid" data-matrix="{esc(scenario)}/'
            f'{esc(kind)}" data-proto="{esc(proto)}" data-cells="{len(cells)}"><thead>'
            f'<tr><th></th>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>')


def _grid_cell(scenario, kind, n, cell):
    """One <td> of a grid: the actual outcome (and who answered a connect), and the
    expected outcome under it when they differ."""
    verdict = cell.verdict if cell.verdict in VERDICTS else 'error'
    actual, expected = _outcome(cell.actual), _outcome(cell.expected)
    shown = actual
    if cell.peer and actual == 'OK':
        shown = f'OK \u2192{cell.peer}'
    elif then(cell):             # connected, then closed / reset / silent
        shown = f'{actual}, {cell.after}' if actual == 'OK' else actual
    if cell.expected_after in ('eof', 'data', 'timeout') and expected == 'OK':
        expected = f'OK, {cell.expected_after}'
    if cell.expected_peer and expected == 'OK':
        expected = f'OK \u2192{cell.expected_peer}'
    exp = '' if verdict == 'pass' else f'<span class="exp">expected {esc(expected)}</span>'
    attrs = (f'class="v-{verdict}" data-matrix="{esc(scenario)}/{esc(kind)}" '
             f'data-kind="{esc(cell.kind)}" data-verdict="{verdict}" '
             f'data-host="{esc(cell.host)}" data-column="{esc(cell_column(cell))}" '
             f'data-expected="{esc(expected)}" data-actual="{esc(actual)}" '
             f'title="{esc(_title(cell))}"')
    return (f'<td {attrs}><span class="no">{n}</span>{_MARK[verdict]} {esc(shown)}'
            f'{exp}</td>')


def _numbered(cells):
    """[(number, cell)]: a cell's number is its position among the cells of its
    kind and protocol, so the number in a grid and in the tables agree.  Cells all
    of one kind and protocol (the usual matrix) are numbered by enumerate."""
    keys = [(cell.kind, str(_proto(cell))) for cell in cells]
    if len(set(keys)) <= 1:
        return list(enumerate(cells, 1))
    counters, out = {}, []
    for key, cell in zip(keys, cells):
        counters[key] = counters.get(key, 0) + 1
        out.append((counters[key], cell))
    return out


def cell_tables(kind, cells):
    """The reasons, inline: a table of the cells that differ (always shown, when there
    are any) and a folded table of every cell of this kind."""
    numbered = _numbered(cells)
    bad = [(n, c) for n, c in numbered if c.verdict != 'pass']
    out = []
    if bad:
        out.append(f'<p><strong>{len(bad)} {esc(kind)} cell(s) differ or could not be '
                   'measured:</strong></p>' + _cell_table(bad, 'differs'))
    out.append(f'<details class="reasons"><summary>Every {esc(kind)} cell with its '
               f'reason ({len(cells)})</summary>{_cell_table(numbered, "all")}</details>')
    return ''.join(out)


def _cell_table(numbered, which):
    """Rows of (number, cell): where, expected, actual, verdict, reason, rule, note."""
    rows = []
    for n, cell in numbered:
        verdict = cell.verdict if cell.verdict in VERDICTS else 'error'
        note = cell.message or ''
        if cell.peer:
            note = f'{note} answered by {cell.peer}'.strip()
        if cell.expected_peer and cell.peer != cell.expected_peer:
            note = f'{note} (expected an answer from {cell.expected_peer})'.strip()
        if then(cell):
            note = f'{note} {then(cell)}'.strip()
        if cell.expected_after and cell.after != cell.expected_after:
            note = f'{note} (expected after the handshake: {cell.expected_after})'.strip()
        if cell.local:
            note = f'{note} local {cell.local}'.strip()
        rows.append(
            f'<tr class="r-{verdict}"><td>{esc(_or(cell.proto, ""))} {n}</td>'
            f'<td>{esc(cell.host)}</td>'
            f'<td><code>{esc(cell_column(cell))}</code></td><td>{esc(cell.port)}'
            f'</td><td>{esc(_outcome(cell.expected))}</td>'
            f'<td>{esc(_outcome(cell.actual))}</td>'
            f'<td><span class="badge st-{verdict}">{verdict}</span></td>'
            f'<td>{esc(cell.reason)}</td><td>{esc(cell.rule)}</td>'
            f'<td>{esc(note)}</td></tr>')
    return (f'<table class="cells" data-table="{which}"><thead><tr>'
            '<th>#</th><th>host</th><th>column</th><th>port</th><th>expected</th>'
            '<th>actual</th><th>verdict</th><th>reason</th><th>rule</th><th>note</th>'
            '</tr></thead><tbody>' + ''.join(rows) + '</tbody></table>')


def mutation_grid(matrix):
    """The mutation matrix: rows (mutation, target), columns hosts ('' without)."""
    rows, hosts, table = mutation_matrix(matrix.get('mutations'))
    if not rows:
        return ''
    entries = {f'{m["name"]} {m["target"]}': m for m in matrix.get('mutations') or ()}
    head = ''.join(f'<th scope="col">{esc(h)}</th>' for h in hosts)
    body = []
    for row in rows:
        m = entries[row]
        tds = []
        for host in hosts:
            text = table.get((row, host), table.get((row, '*'), ''))
            cls = 'v-fail' if '!' in text else ('v-none' if text in ('', 'n/a') else
                                                 'v-pass')
            tds.append(f'<td class="{cls}" data-mutation="{esc(row)}" '
                       f'data-host="{esc(host)}">{esc(text)}</td>')
        why = f'{m.get("does", "")} ({m.get("stands_for", "")})'
        body.append(f'<tr><th scope="row" title="{esc(why)}">{esc(row)}</th>'
                    f'{"".join(tds)}</tr>')
    return ('<h3>Mutation matrix</h3><p class="facts">rows: the misconfiguration and '
            'the host it was applied to, each on a fresh network; columns: hosts. '
            '<code>*</code> = differs from the unmutated network, <code>K/N</code> = '
            'cells changed, <code>!</code> = a cell failed; every cell is in '
            'mutations.json.</p><div class="grid-wrap"><table class="grid" '
            f'data-matrix="{esc(matrix.get("scenario"))}/mutations"><thead><tr><th></th>'
            f'{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>')
