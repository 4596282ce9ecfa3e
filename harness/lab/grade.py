"""A class's lab records graded: grades.csv, grades.xlsx and grades.md.

    python3 -m harness grade DIR... [--out OUT]        (bindlab grade DIR...)

Each DIR is a collected results/ folder, its lab/ folder, or one scenario's folder
of lab records (results/lab/<scenario>/<student>.jsonl, harness/lab/records.py); the
records of one student in one lab from several DIRs (several machines) are taken
together, in time order.  Every file and line is read as hostile: a malformed or
foreign record, a file whose name is no student ID, a symlink, is reported (one line
each, on stderr and in grades.md) and skipped, never fatal.

One row per student and lab:
    solved       the goal held at some check and nothing else broke (the sheet's
                 guard: no collateral damage)
    points       100 when solved, 10 less for each hint used before the first solve
                 (at least 50), 20 less again when a check before it had the goal
                 holding with collateral damage (repaired later); half the points
                 of a solve when the goal only ever held with damage; 0 when the
                 goal never held.  The columns beside it let a teacher grade otherwise.
    checks, first_solved_check, first_solved_at, hints_used (at the first solve, else
    at the last check), hints_total, commands (typed in the lab, in all),
    failed_goals (the last check's unmet requirements when never solved),
    collateral (what the first "solution" with damage broke), damaged_at_check (that
    check), repaired_at_check (the first clean solve after it).
grades.xlsx (Debian's python3-openpyxl) has a summary sheet (students x labs,
points), one sheet per lab with those rows, and a sheet of the failed goals.  Text
from records never becomes a spreadsheet formula.  paths.html (report_page.py) shows
each student's path through each lab: every check, what changed, what broke, where
the goal first held, where the damage was repaired.
"""

import csv
import io
import os

from ..errors import UsageError
from ..files import make_folders, write_file
from ..judge import natural, printable
from ..scenarios import valid_name
from .records import read_records, valid_student

COLUMNS = ('student', 'lab', 'solved', 'points', 'checks', 'first_solved_check',
           'first_solved_at', 'hints_used', 'hints_total', 'commands', 'failed_goals',
           'collateral', 'damaged_at_check', 'repaired_at_check')
_LIST_COLUMNS = ('failed_goals', 'collateral')
DAMAGE_POINTS = 20         # off a solve that came after a "solution" with collateral damage


def _files(folder, problems):
    """[(scenario, student, path)] under one DIR."""
    if os.path.isdir(os.path.join(folder, 'lab')) and \
            not os.path.islink(os.path.join(folder, 'lab')):
        folder = os.path.join(folder, 'lab')
    try:
        entries = list(os.scandir(folder))
    except OSError as exc:
        problems.append(f'{folder}: cannot read it ({exc.strerror}): skipped')
        return []
    if any(e.name.endswith('.jsonl') for e in entries):      # one scenario's folder
        return _student_files(os.path.basename(os.path.normpath(folder)), folder,
                              problems)
    out = []
    for entry in sorted(entries, key=lambda e: e.name):
        if entry.is_symlink() or not entry.is_dir():
            problems.append(f'{entry.path}: not a real folder of a lab: skipped')
        elif not valid_name(entry.name):
            problems.append(f'{entry.path}: {entry.name!r} is no lab name: skipped')
        else:
            out += _student_files(entry.name, entry.path, problems)
    return out


def _student_files(scenario, folder, problems):
    if not valid_name(scenario):
        problems.append(f'{folder}: {scenario!r} is no lab name: skipped')
        return []
    out = []
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        student = entry.name[:-len('.jsonl')] if entry.name.endswith('.jsonl') else None
        if student is None or not valid_student(student):
            problems.append(f'{entry.path}: not a student\'s record file '
                            '(<student ID>.jsonl): skipped')
        elif entry.is_symlink() or not entry.is_file():
            problems.append(f'{entry.path}: not a regular file: skipped')
        else:
            out.append((scenario, student, entry.path))
    return out


def collect(dirs):
    """({(scenario, student): [records in time order]}, [problems])."""
    problems, found = [], {}
    for folder in dirs:
        if not os.path.isdir(folder):
            problems.append(f'{folder}: not a folder: skipped')
            continue
        for scenario, student, path in _files(folder, problems):
            recs, bad = read_records(path, scenario, student)
            problems += [f'{os.path.dirname(os.path.dirname(path))}: {p}' for p in bad]
            found.setdefault((scenario, student), []).extend(recs)
    for recs in found.values():
        recs.sort(key=lambda r: (r['time'], r['check']))
    return {k: v for k, v in found.items() if v}, problems


def grade_one(student, lab, recs):
    """One row (a dict of COLUMNS) from a student's records of one lab."""
    first = next((r for r in recs if r['solved']), None)
    damaged = next((r for r in recs if r['goal_held'] and r['broken'] and
                    (first is None or r['check'] < first['check'])), None)
    hints = (first or damaged or recs[-1])['hints_used']
    base = max(50, 100 - 10 * hints)
    points = (base - DAMAGE_POINTS if damaged else base) if first else \
        base // 2 if damaged else 0
    return {'student': student, 'lab': lab, 'solved': first is not None,
            'points': points, 'checks': len(recs),
            'first_solved_check': first['check'] if first else None,
            'first_solved_at': first['time'] if first else None, 'hints_used': hints,
            'hints_total': recs[-1]['hints_total'],
            'commands': sum(len(r['commands']) for r in recs),
            'failed_goals': [] if first else list(recs[-1]['missing']),
            'collateral': list(damaged['broken']) if damaged else [],
            'damaged_at_check': damaged['check'] if damaged else None,
            'repaired_at_check': first['check'] if first and damaged else None}


def grade(dirs):
    """(rows sorted by student then lab, problems, the records found)."""
    found, problems = collect(dirs)
    rows = [grade_one(student, lab, recs) for (lab, student), recs in found.items()]
    rows.sort(key=lambda r: (natural(r['student']), r['lab']))
    return rows, problems, found


def _safe(text):
    """Text a spreadsheet will never read as a formula."""
    text = printable('' if text is None else text)
    return "'" + text if text[:1] in ('=', '+', '-', '@', '\t', '\r') else text


def _csv_row(row):
    return [_safe('; '.join(row[c])) if c in _LIST_COLUMNS else
            ('yes' if row[c] else 'no') if c == 'solved' else
            '' if row[c] is None else _safe(str(row[c])) for c in COLUMNS]


def write_csv(rows, path):
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator='\n')
    writer.writerow(COLUMNS)
    writer.writerows(_csv_row(r) for r in rows)
    write_file(path, buf.getvalue())


def write_xlsx(rows, path):
    """grades.xlsx: Summary, one sheet per lab, Failed goals (every cell a string or
    a number, never a formula)."""
    try:
        from openpyxl import Workbook
    except ImportError:
        raise UsageError('grades.xlsx needs Debian\'s python3-openpyxl: '
                         'sudo apt-get install python3-openpyxl') from None
    book = Workbook()
    labs = sorted({r['lab'] for r in rows})
    students = sorted({r['student'] for r in rows}, key=natural)
    points = {(r['student'], r['lab']): r['points'] for r in rows}
    solved = {(r['student'], r['lab']) for r in rows if r['solved']}

    def put(sheet, values):
        sheet.append([v if isinstance(v, (int, float)) and not isinstance(v, bool)
                      else _safe(v) for v in values])
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str):
                cell.data_type = 's'
    summary = book.active
    summary.title = 'Summary'
    put(summary, ['student'] + labs + ['total', 'labs solved'])
    for student in students:
        mine = [points.get((student, lab)) for lab in labs]
        put(summary, [student] + ['' if p is None else p for p in mine]
            + [sum(p or 0 for p in mine), sum(1 for lab in labs if
                                              (student, lab) in solved)])
    for lab in labs:
        sheet = book.create_sheet(lab[:31])
        put(sheet, COLUMNS)
        for row in rows:
            if row['lab'] == lab:
                put(sheet, [row[c] if isinstance(row[c], int) and
                            not isinstance(row[c], bool) else v
                            for c, v in zip(COLUMNS, _csv_row(row))])
    failed = book.create_sheet('Failed goals')
    put(failed, ['student', 'lab', 'failed goal'])
    for row in rows:
        for goal in row['failed_goals']:
            put(failed, [row['student'], row['lab'], goal])
    buf = io.BytesIO()
    book.save(buf)
    write_file(path, buf.getvalue())


def write_md(rows, problems, path):
    def md(text):
        return printable(text).replace('|', '\\|').replace('\n', ' ')
    lines = ['# Lab grades', '', f'{len({r["student"] for r in rows})} students, '
             f'{len(rows)} lab results, {sum(r["solved"] for r in rows)} solved.', '',
             '| student | lab | solved | points | checks | hints | failed goals | '
             'collateral damage |',
             '|---|---|---|---|---|---|---|---|']
    for r in rows:
        lines.append(f'| {md(r["student"])} | {md(r["lab"])} | '
                     f'{"yes" if r["solved"] else "no"} | {r["points"]} | {r["checks"]} | '
                     f'{r["hints_used"]}/{r["hints_total"]} | '
                     f'{md("; ".join(r["failed_goals"]))} | {md(_damage(r))} |')
    if problems:
        lines += ['', '## Skipped (malformed or foreign records)', '']
        lines += [f'- {md(p)}' for p in problems]
    write_file(path, '\n'.join(lines) + '\n')


def _damage(row):
    """'check 2 broke: ...; repaired at check 3' (or never), '' without damage."""
    if not row['collateral']:
        return ''
    when = (f'repaired at check {row["repaired_at_check"]}'
            if row['repaired_at_check'] is not None else 'never repaired')
    return f'check {row["damaged_at_check"]} broke: {"; ".join(row["collateral"])}; {when}'


def write_grades(dirs, out, log, warn):
    """`grade DIR... --out OUT`: the grade files of the records under dirs, written
    into out; exit 0 (1 when nothing could be graded)."""
    from ..report import render_lab_paths
    rows, problems, found = grade(dirs)
    for problem in problems:
        warn(problem)
    make_folders(out)
    write_csv(rows, os.path.join(out, 'grades.csv'))
    write_xlsx(rows, os.path.join(out, 'grades.xlsx'))
    write_md(rows, problems, os.path.join(out, 'grades.md'))
    write_file(os.path.join(out, 'paths.html'), render_lab_paths(found, problems))
    log(f'{len(rows)} lab results of {len({r["student"] for r in rows})} students '
        f'({len(problems)} problems skipped): grades.csv, grades.xlsx, grades.md, '
        f'paths.html in {out}')
    return 0 if rows else 1
