"""The words of a cell (Cell: cell.py) and of many cells: how a cell reads in full,
in short and in a grid; the wrong-peer and after rules; a run's totals.

The wrong-peer rule: a connect expected OK from host X that was answered by another
host did not pass (`wrong_peer`); "connected, then closed" (after eof, no peer) is
not an answer from X.  The after rule: a connect whose handshake was followed by
something else than its expected_after did not pass (`wrong_after`).  Every module
that shows or compares cells uses the functions here: results (files), console,
report, baseline, merge, lab.
"""

import re

from ..scenarios import NOCALL, OK
from .cell import VERDICTS
from .history import expected_words, words

# How a connect's `after` reads in compact text (OK/eof, ETIMEDOUT/silent) and in a
# cell's words (greeting: the answer itself; reset: the errno says it).
AFTER_SHORT = {'data': '/data', 'eof': '/eof', 'timeout': '/silent'}
AFTER_TEXT = {'data': 'connected, then bytes that are no greeting',
              'eof': 'connected, then closed without a byte',
              'reset': 'connected, then reset',
              'timeout': 'connected, then nothing within the timeout',
              'error': 'connected, then a read error'}


# -- one cell ----------------------------------------------------------------------------

def wrong_peer(cell):
    """True when a connect expected OK from a host was answered by another one."""
    return cell.actual == OK and bool(cell.expected_peer) and \
        cell.peer != cell.expected_peer


def wrong_after(cell):
    """True when a connect's handshake was followed by something else than expected
    (an unknown `after`, as in an older run folder, is not checked)."""
    want = cell.expected_after
    return bool(want) and cell.after is not None and cell.after != want


def then(cell):
    """'' or the words for what followed a connect's handshake when it was not an
    answer: 'connected, then closed without a byte'."""
    after = cell.after
    return AFTER_TEXT.get(after, '') if cell.kind == 'connect' and \
        isinstance(after, str) else ''


def name(cell):
    """'h2 bind tcp 10.0.0.1': the host, the kind and the column of a cell."""
    return f'{cell.host} {cell.kind} {cell.column}'


def state(cell):
    """'OK', 'OK (answered by h3)', 'OK (connected, then closed without a byte)',
    'EADDRNOTAVAIL', 'ERROR (message)'."""
    text = cell.actual
    if cell.actual == OK and cell.peer:
        text += f' (answered by {cell.peer})'
    elif then(cell) and cell.verdict != 'error':
        text += f' ({then(cell)})'
    if cell.verdict == 'error' and cell.message:
        text += f' ({cell.message})'
    return text


def short(cell):
    """Compact text of a cell: OK, an errno name, ERR; OK/eof for a connect that was
    closed without a byte (also /data, /silent); '!' marks a mismatch."""
    if cell is None:
        return ''
    if cell.verdict == 'error':
        return 'ERR!'
    text = cell.actual
    if cell.kind == 'connect' and cell.after in AFTER_SHORT:
        text += AFTER_SHORT[cell.after]
    elif wrong_peer(cell):
        text = f'OK@{cell.peer}'
    return text + ('!' if cell.verdict == 'fail' else '')


def describe(cell):
    """One line naming a cell and what went wrong."""
    if cell.verdict == 'error':
        return f'{name(cell)}: could not be measured: {cell.message}'
    got = cell.actual
    if then(cell):
        got = f'{got}, {then(cell)}'
    if wrong_peer(cell) and cell.peer:
        got = f'OK answered by {cell.peer}, expected {cell.expected_peer}'
    elif wrong_peer(cell):
        got = f'{got}, not an answer from {cell.expected_peer}'
    elif wrong_after(cell):
        got = f'{got}, expected {AFTER_TEXT.get(cell.expected_after, "an answer")}'
    elif got == NOCALL:           # what the program said on its way out
        got = f'NOCALL: {cell.message}'
    if cell.tries:                # a cell in time: its history (history.py)
        got = f'{got} ({words(cell)})'
    return f'{name(cell)}: expected {expected_words(cell)}, got {got} ({cell.reason})'


# -- many cells ---------------------------------------------------------------------------

def counts(cells):
    """{'pass': n, 'fail': n, 'error': n} of cells."""
    out = {v: 0 for v in VERDICTS}
    for cell in cells:
        out[cell.verdict] += 1
    return out


def mismatches(cells):
    """The cells that did not pass."""
    return [c for c in cells if c.verdict != 'pass']


def grid(cells, kind):
    """(row names, column labels, {(row, column): cell}) of one kind of cells.  Rows
    and columns in the order they first appear, gathered as dict keys (a list's `in`
    would make it quadratic in the hosts)."""
    mine = [cell for cell in cells if cell.kind == kind]
    table = {(cell.host, cell.column): cell for cell in mine}
    rows = list(dict.fromkeys([host for host, _column in table]))
    cols = list(dict.fromkeys([column for _host, column in table]))
    return rows, cols, table


def mutation_cells(mutations):
    """Every mutated cell of a scenario's mutations (mutations.json's entries, or
    None), each with its `mutation` ('NAME TARGET')."""
    return [c.but(mutation=f'{m["name"]} {m["target"]}')
            for m in mutations or () for c in m['cells']]


def all_cells(cells, mutations=None):
    """A scenario's cells and its mutated cells: what counts in a run's totals."""
    return list(cells) + mutation_cells(mutations)


def mutation_matrix(mutations):
    """(rows 'NAME TARGET', hosts, {(row, host): text}) of a scenario's mutations.

    A host's entry is its program's outcome where a program chose its own address
    (one cell: `EADDRNOTAVAIL*`, * = differs from control), else `K/N` changed of
    its cells (the program's, when programs ran); `!` marks a failed cell; `n/a` a
    mutation the target could not take.
    """
    rows, hosts, table = [], [], {}
    for m in mutations or ():
        row = f'{m["name"]} {m["target"]}'
        rows.append(row)
        if m.get('skipped'):
            table[(row, '*')] = 'n/a'
        for cell in m['cells']:
            if cell.host not in hosts:
                hosts.append(cell.host)
        for host in hosts:
            mine = [c for c in m['cells'] if c.host == host]
            pick = [c for c in mine if c.program] or mine
            if not pick:
                continue
            bad = '!' if any(c.verdict != 'pass' for c in pick) else ''
            if len(pick) == 1 and pick[0].program:
                text = pick[0].actual + ('*' if pick[0].changed else '')
            else:
                text = f'{sum(bool(c.changed) for c in pick)}/{len(pick)}'
            table[(row, host)] = text + bad
    return rows, hosts, table


def natural(text):
    """Sort key that puts h2 before h10 and 10.0.0.2 before 10.0.0.10."""
    return [(0, int(part), '') if part.isdecimal() else (1, 0, part)
            for part in re.split(r'(\d+)', str(text)) if part]


UNPRINTABLE = re.compile('[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]')
UNPRINTABLE_LINE = re.compile(f'{UNPRINTABLE.pattern}|[\n\r\u2028\u2029]')


def printable(text, one_line=False):
    """text with every byte XML 1.0 forbids, and every other control character, made
    visible as \\xNN: a program's stderr (ESC, BEL) cannot break junit.xml or a
    terminal.  Tabs and newlines stay; one_line: newlines and carriage returns are made
    visible too (a console line built from a file's text cannot become two lines)."""
    pattern = UNPRINTABLE_LINE if one_line else UNPRINTABLE
    return pattern.sub(lambda m: f'\\x{ord(m.group()):02x}', str(text))
