"""Teaching a class: hints, explain, per-student variants, records and grades.

Without a network: every sheet's hints; variants are deterministic, differ between
students and keep every goal naming real cells; records refuse hostile student IDs
and symlinks; `grade` over three simulated students gives the expected CSV rows and
an xlsx that openpyxl reads back, and reports a corrupted record and skips it.

On real Mininet networks (under the machine's lock, through a pty as a student):
the wrong-host lab as alice's variant (hint in order, explain on the seed's cell,
her own fix from her own sheet, check SOLVED, her records), `explain` offline on a
real run folder, and each lab solved once on a network, from its sheet as written or
from a student's variant by turns (every lab; TEACH_LABS=a,b picks fewer), trying the
sheet's tempting wrong fix first (not solved, what broke named; a student graded
below full marks).
"""

import csv
import json
import os
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness_util as hu  # noqa: E402
from test_lab import (SOLUTIONS, PROMPT, WRONG_FIXES, lab_leftovers,  # noqa: E402
                      see_what_the_sheet_says, sigterm_the_lab, type_line, wait_exit,
                      _cells)

from harness.lab import goals  # noqa: E402
from harness.lab import grade  # noqa: E402
from harness.lab import records  # noqa: E402
from harness.errors import UsageError  # noqa: E402
from harness.scenarios.suite import load_all  # noqa: E402
from harness.lab.variants import variant_for, variant_of  # noqa: E402

PYTHON = '/usr/bin/python3'
LESSONS = {sc.name: sc for sc in load_all([])[0]}
STUDENTS = ('alice', 'bob', 's-0042')
# Every lab once on a real network: the lesson or a student's variant, by turns (all
# three IDs offline).  TEACH_LABS=wrong-host,ipv6-dad picks fewer (when working on one lab).
LABS = [x for x in os.environ.get('TEACH_LABS', ','.join(sorted(SOLUTIONS))).split(',')
        if x]


# -- without a network ---------------------------------------------------------------------

@pytest.mark.parametrize('name', sorted(SOLUTIONS))
def test_every_sheet_has_hints_and_sheet_hides_them(name):
    text = goals.sheet_text(LESSONS[name])[0]
    hints = goals.read_hints(text)
    assert len(hints) >= 3 and all(len(h) > 40 for h in hints), hints
    assert '```hints' not in goals.without_hints(text)
    assert '```goal' in goals.without_hints(text)
    assert '```guard' in goals.without_hints(text)


@pytest.mark.parametrize('name', sorted(SOLUTIONS))
def test_variants_are_deterministic_differ_and_keep_the_goal(name):
    lesson = LESSONS[name]
    a, a2, b = (variant_of(lesson, s) for s in ('alice', 'alice', 'bob'))
    assert a.sheet_text == a2.sheet_text and a.cases == a2.cases
    assert a.sheet_text != b.sheet_text and a.cases != b.cases
    for student in STUDENTS:
        var = variant_of(lesson, student)
        reqs = goals.parse_goal(goals.read_goal(var.sheet_text), _cells(var), student)
        assert reqs or name == 'scale'
        translate = variant_for(lesson, student)
        for line in SOLUTIONS[name]:        # the fix is in the student's own sheet
            assert f'mininet> {translate.text(line)}' in var.sheet_text, line


def test_student_ids_are_checked(tmp_path):
    for bad in ('', '..', '../x', 'a/b', '-rf', 'x' * 65, 'é', 'a b', '.hidden'):
        assert not records.valid_student(bad), bad
        with pytest.raises(UsageError):
            records.record_path(str(tmp_path), 'wrong-host', bad)
    os.makedirs(tmp_path / 'lab')
    os.symlink('/etc', tmp_path / 'lab' / 'wrong-host')
    rec = records.record('wrong-host', 'alice', None, 1, 'lab', [], [], False, [], [],
                         0, 3, [])
    with pytest.raises(UsageError, match='not a real folder'):
        records.append_record(str(tmp_path), rec)
    assert not os.path.exists('/etc/alice.jsonl')


def _simulate(results, student, lab, checks):
    """Append a student's records: checks is [(solved, hints_used, missing[, broken])]
    (a check with broken cells and nothing missing: the goal held with damage)."""
    reqs = [{'text': 'h2 bind tcp 10.0.0.1 -> OK'}]
    for n, (solved, hints, missing, *broken) in enumerate(checks, 1):
        broken = broken[0] if broken else []
        rec = records.record(lab, student, f'{student}-x', n, 'lab', [], [], solved,
                             reqs, missing, hints, 3, [f'cmd {n}'], broken=broken,
                             goal_held=not missing)
        records.append_record(results, rec)


def test_grade_three_students(tmp_path):
    res = str(tmp_path / 'results')
    _simulate(res, 'alice', 'wrong-host', [(False, 1, ['goal missing']), (True, 2, [])])
    _simulate(res, 'bob', 'wrong-host', [(False, 3, ['=HYPERLINK("x") not OK'])])
    _simulate(res, 'carol', 'wrong-host', [(True, 0, [])])
    _simulate(res, 'carol', 'lost-address', [(False, 0, ['h1 bind is EADDRNOTAVAIL'])])
    dup = 'h1 connect tcp 10.0.0.2:7001: OK (answered by h2) -> ETIMEDOUT'
    _simulate(res, 'dave', 'wrong-host', [(False, 0, [], [dup]), (True, 0, [])])
    _simulate(res, 'erin', 'wrong-host', [(False, 1, ['x']), (False, 1, [], [dup])])
    with open(os.path.join(res, 'lab', 'wrong-host', 'frank.jsonl'), 'w') as f:
        f.write(json.dumps({k: v for k, v in records.record(
            'wrong-host', 'frank', None, 1, 'lab', [], [], True, [], [], 0, 3,
            []).items() if k not in ('broken', 'goal_held')} | {'version': 1}) + '\n')
    with open(os.path.join(res, 'lab', 'wrong-host', 'alice.jsonl'), 'a') as f:
        f.write('{"format": "bindlab-lab-record", "version": 1, "check": "x"}\n{oops\n')
    with open(os.path.join(res, 'lab', 'wrong-host', 'mallory.jsonl'), 'w') as f:
        f.write(json.dumps(dict(json.loads(open(os.path.join(
            res, 'lab', 'wrong-host', 'carol.jsonl')).readline()), student='carol')) + '\n')
    out = tmp_path / 'grades'
    proc = subprocess.run([PYTHON, '-m', 'harness', 'grade', res, '--out', str(out)],
                          cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert 'alice.jsonl line 3' in proc.stderr and 'alice.jsonl line 4' in proc.stderr
    assert 'does not belong in wrong-host/mallory.jsonl' in proc.stderr
    with open(out / 'grades.csv', newline='') as f:
        table = list(csv.DictReader(f))
    rows = [(r['student'], r['lab'], r['solved'], r['points'], r['checks'],
             r['hints_used'], r['failed_goals']) for r in table]
    assert rows == [('alice', 'wrong-host', 'yes', '80', '2', '2', ''),
                    ('bob', 'wrong-host', 'no', '0', '1', '3',
                     '\'=HYPERLINK("x") not OK'),
                    ('carol', 'lost-address', 'no', '0', '1', '0',
                     'h1 bind is EADDRNOTAVAIL'),
                    ('carol', 'wrong-host', 'yes', '100', '1', '0', ''),
                    ('dave', 'wrong-host', 'yes', '80', '2', '0', ''),     # repaired
                    ('erin', 'wrong-host', 'no', '45', '2', '1', ''),      # never
                    ('frank', 'wrong-host', 'yes', '100', '1', '0', '')]   # version 1
    damage = {r['student']: (r['collateral'], r['damaged_at_check'],
                             r['repaired_at_check']) for r in table}
    assert damage['dave'] == (dup, '1', '2') and damage['erin'] == (dup, '2', '')
    assert damage['alice'] == damage['frank'] == ('', '', '')
    openpyxl = pytest.importorskip('openpyxl', reason='python3-openpyxl not installed')
    book = openpyxl.load_workbook(out / 'grades.xlsx')
    assert book.sheetnames == ['Summary', 'lost-address', 'wrong-host', 'Failed goals']
    summary = [[c.value for c in row] for row in book['Summary'].iter_rows()]
    assert summary[0] == ['student', 'lost-address', 'wrong-host', 'total', 'labs solved']
    assert summary[1:] == [['alice', None, 80, 80, 1], ['bob', None, 0, 0, 0],
                           ['carol', 0, 100, 100, 1], ['dave', None, 80, 80, 1],
                           ['erin', None, 45, 45, 0], ['frank', None, 100, 100, 1]]
    failed = [[c.value for c in row] for row in book['Failed goals'].iter_rows()]
    assert ['bob', 'wrong-host', '\'=HYPERLINK("x") not OK'] in failed
    assert all(c.data_type != 'f' for row in book['Failed goals'].iter_rows()
               for c in row)
    md = (out / 'grades.md').read_text()
    assert '| alice | wrong-host | yes | 80 |' in md and 'Skipped' in md
    assert f'check 1 broke: {dup}; repaired at check 2' in md
    assert f'check 2 broke: {dup}; never repaired' in md
    page = (out / 'paths.html').read_text()      # each student's path
    alice = page.split('data-student="alice"', 1)[1].split('<h3', 1)[0]
    assert 'solved</span> at check 2' in alice
    assert alice.count('data-check=') == 2 and 'goal first held here' in alice
    assert '<code>cmd 2</code>' in alice and 'goal missing' in alice
    assert '=HYPERLINK(&quot;x&quot;)' in page and '<script' not in page
    dave = page.split('data-student="dave"', 1)[1].split('<h3', 1)[0]
    assert 'collateral damage</span> at check 1, repaired at check 2' in dave
    assert 'goal holds, but the fix broke other cells' in dave
    assert dup.replace('>', '&gt;') in dave


# -- on real networks ----------------------------------------------------------------------

def open_lab(scenario, student, results):
    """The lab in a pty under the lock: the student's variant, or the lesson (None)."""
    import pexpect
    argv = hu.lock_argv() + [PYTHON, '-m', 'harness.lab', scenario, '--switch', 'lxbr'] + \
        (['--student', student, '--results', str(results)] if student else [])
    child = pexpect.spawn(argv[0], argv[1:], cwd=REPO, encoding='utf-8', timeout=120,
                          env=dict(os.environ, TERM='dumb'))
    child.expect([PROMPT, pexpect.EOF], timeout=600)
    assert child.after == PROMPT, f'the lab did not open:\n{child.before[-3000:]}'
    return child


def test_alice_variant_hint_explain_fix_check_records(tmp_path):
    """wrong-host as alice's variant: hints in order, explain names the holder and the
    fixes, her own sheet's fix solves it, each check is recorded."""
    lesson = LESSONS['wrong-host']
    var, tr = variant_of(lesson, 'alice'), variant_for(lesson, 'alice')
    hints = goals.read_hints(var.sheet_text)
    holder, server = tr.name('h1'), tr.name('h2')
    addr = tr.text('10.0.0.1')
    child = open_lab('wrong-host', 'alice', tmp_path)
    try:
        assert f'{server} bind tcp {addr} -> OK' in child.before      # her goal
        assert tr.text('10.0.0.2/24') in child.before
        for n, hint in enumerate(hints, 1):
            out = type_line(child, 'hint')
            assert f'Hint {n} of {len(hints)}: {hint}' in ' '.join(out.split())
        assert 'No more hints' in type_line(child, 'hint')
        out = type_line(child, f'explain {server} bind tcp {addr}')
        assert f'{addr} is not on {server} ({holder} holds it)' in out, out
        assert 'EADDRNOTAVAIL' in out and 'fix: ' in out and 'ip_nonlocal_bind' in out
        assert 'no cell' in type_line(child, 'explain h9 bind tcp 1.2.3.4')
        out = type_line(child, 'check')
        assert 'not solved yet' in out and f'hints used: {len(hints)} of' in out
        for line in SOLUTIONS['wrong-host']:
            assert f'mininet> {tr.text(line)}' in var.sheet_text
            type_line(child, tr.text(line))
        out = type_line(child, 'check')
        assert 'SOLVED' in out, out
        proc = subprocess.run([PYTHON, '-m', 'harness.lab', 'check', '--student', 'bob'],
                              cwd=REPO, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 2 and "alice's, not bob's" in proc.stderr
        proc = subprocess.run([PYTHON, '-m', 'harness.lab', 'check', '--student', 'alice'],
                              cwd=REPO, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0 and 'SOLVED' in proc.stdout, proc
        child.sendline('exit')
        assert wait_exit(child) == 0
    finally:
        if child.isalive():
            child.terminate(force=True)
    assert lab_leftovers() == []
    recs, problems = records.read_records(
        str(tmp_path / 'lab' / 'wrong-host' / 'alice.jsonl'), 'wrong-host', 'alice')
    assert problems == [] and [r['solved'] for r in recs] == [False, True, True]
    assert [r['where'] for r in recs] == ['lab', 'lab', 'outside']
    assert recs[0]['hints_used'] == len(hints) and recs[0]['variant'] == var.variant
    assert recs[1]['commands'] == [tr.text(c) for c in SOLUTIONS['wrong-host']]
    assert any(f'{server} bind tcp {addr}: EADDRNOTAVAIL -> OK' == c
               for c in recs[1]['changed'])


def test_explain_offline_on_a_run(tmp_path):
    """bindlab explain RUN CELL on a real run folder, and bad cell names exit 2."""
    proc = subprocess.run(hu.lock_argv() + [PYTHON, '-m', 'harness', 'run', 'wrong-host',
                                            '--switch', 'lxbr', '--out', str(tmp_path)],
                          cwd=REPO, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    proc = subprocess.run([PYTHON, '-m', 'harness', 'explain', str(tmp_path),
                           'h2', 'bind', 'tcp', '10.0.0.1'], cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert 'wrong-host: h2 bind tcp 10.0.0.1 (port 6677): EADDRNOTAVAIL' in proc.stdout
    assert '10.0.0.1 is not on h2 (h1 holds it)' in proc.stdout
    assert 'the lab sheet says:' in proc.stdout
    proc = subprocess.run([PYTHON, '-m', 'harness', 'explain', str(tmp_path), 'h2 bind x'],
                          cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and 'no cell' in proc.stderr and 'Traceback' not in \
        proc.stderr


def test_explain_a_connect_names_route_neighbour_and_the_rule_that_hit(tmp_path):
    """routed-subnets (the lesson): h4's SYN is dropped by r1, h1 has no route, h3 is
    refused by r1's reset in srv's name: explain says which, from the live network."""
    import pexpect
    argv = hu.lock_argv() + [PYTHON, '-m', 'harness.lab', 'routed-subnets', '--switch',
                             'lxbr']
    child = pexpect.spawn(argv[0], argv[1:], cwd=REPO, encoding='utf-8', timeout=120,
                          env=dict(os.environ, TERM='dumb'))
    child.expect([PROMPT, pexpect.EOF], timeout=600)
    try:
        assert child.after == PROMPT, child.before[-3000:]
        out = type_line(child, 'explain h4 connect tcp 10.0.2.10:5001 timeout=300')
        assert 'ETIMEDOUT' in out and '10.0.2.10 via 10.0.1.1 dev h4-eth0' in out, out
        assert '10.0.1.1 lladdr' in out
        assert 'ip saddr 10.0.1.14 drop  (handle' in out and '+1 packet(s)' in out, out
        out = type_line(child, 'explain h1 connect tcp 10.0.2.10:5001 timeout=300')
        assert 'ENETUNREACH' in out and 'Network is unreachable' in out
        assert 'none: no counted rule of the scenario matched it' in out
        out = type_line(child, 'explain h3 connect tcp 10.0.2.10:5001 timeout=300')
        assert 'reject with tcp reset  (handle' in out, out
        child.sendline('exit')
        assert wait_exit(child) == 0
    finally:
        if child.isalive():
            child.terminate(force=True)


def who_solves(scenario):
    """The one run of a lab on a real network: the lesson as written (None) for every
    other lab in order, alice's or bob's variant by turns for the rest; wrong-host's
    lesson is test_lab's own test, so a student's variant here."""
    n = sorted(SOLUTIONS).index(scenario)
    if n % 2 == 0 and scenario != 'wrong-host':
        return None
    return STUDENTS[(n // 2) % 2]


def test_every_lab_has_its_lesson_and_a_variant_solved_on_a_network():
    """Across the labs, the one-run-a-lab rotation reaches the lesson as written and
    both students' variants (so neither path goes untested as labs are added)."""
    who = {who_solves(name) for name in SOLUTIONS}
    assert who >= {None, STUDENTS[0], STUDENTS[1]}, who


@pytest.mark.parametrize('scenario', LABS)
def test_each_lab_solved_from_its_sheets(scenario, tmp_path):
    """One network, one run per lab: the lesson as written or a student's variant
    (who_solves: by turns; every sheet's lesson and every variant's fix and wrong fix
    are checked in its text here, and each variant's goal against its cells offline).
    The banner says the goal does not hold yet (scale: it does, healthy on purpose);
    what the sheet shows comes out as shown; the sheet's tempting wrong fix first:
    `check` is not SOLVED and names what broke; undone, then the fix gives SOLVED.  A
    student's grade follows: the row shows what broke, when it was repaired, and not
    full marks.  Scale's lab is ended by SIGTERM (nothing may be left either way)."""
    lesson, student = LESSONS[scenario], who_solves(scenario)
    for who in (None,) + STUDENTS[:2]:      # every sheet: lesson and variants, as text
        text = variant_of(lesson, who).sheet_text if who else goals.sheet_text(lesson)[0]
        tr = variant_for(lesson, who).text if who else (lambda x: x)
        for line in SOLUTIONS[scenario] + WRONG_FIXES[scenario][0]:
            assert f'mininet> {tr(line)}' in text, (who, line)
    var = variant_of(lesson, student) if student else lesson
    text = var.sheet_text if student else goals.sheet_text(lesson)[0]
    tr = variant_for(lesson, student).text if student else (lambda x: x)
    fix = [tr(line) for line in SOLUTIONS[scenario]]
    wrong, undo, broke = ([tr(x) for x in part] for part in WRONG_FIXES[scenario][:3])
    child = open_lab(scenario, student, tmp_path)
    try:
        now = 'now: not solved yet' if SOLUTIONS[scenario] else 'now: the goal holds'
        assert now in child.before, (student, child.before[-3000:])
        see_what_the_sheet_says(child, text)
        for line in wrong:
            type_line(child, line)
        out = type_line(child, 'check', timeout=120)
        assert 'not solved' in out and 'SOLVED' not in out, (student, out)
        for name in broke:
            assert f'    {name}' in out, (student, name, out)
        for line in undo + fix:
            type_line(child, line)
        out = type_line(child, 'check', timeout=120)
        assert 'SOLVED' in out, (student, out)
        if scenario == 'scale':
            sigterm_the_lab(child)
        else:
            child.sendline('exit')
            assert wait_exit(child, timeout=120) == 0
    finally:
        if child.isalive():
            child.terminate(force=True)
    assert lab_leftovers() == []
    rows, problems, _found = grade.grade([str(tmp_path)])
    assert problems == [] and len(rows) == (student is not None), (rows, problems)
    if student is None:
        return
    (row,) = rows
    name = variant_for(lesson, student).text(WRONG_FIXES[scenario][2][0])
    assert row['solved'] and row['first_solved_check'] == 2, row
    if not WRONG_FIXES[scenario][3]:   # the goal did not hold with it: no damage
        assert row['points'] == 100 and row['collateral'] == []
    else:
        assert row['points'] < 100 and any(c.startswith(name + ': ')
                                           for c in row['collateral']), row
        assert (row['damaged_at_check'], row['repaired_at_check']) == (1, 2)
        assert f'check 1 broke: {row["collateral"][0]}' in grade._damage(row)
