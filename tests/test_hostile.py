"""Hostile input (issue 11): a clear error, nothing lost, nothing touched.

Run folders, shards and expectation files come from CI artifacts and pull requests, and
the harness runs as root.  Each test here hands the real command line
(`python3 -m harness ...`, a subprocess in the repository) or the real writer one
hostile input and checks what a user sees: exit status 2 with a message naming the file
and the field, no traceback, nothing written outside the output folder, no symlink
followed, nothing built.  Each test names the issue-11 item it covers.

Hostile run folders are made by editing a copy of one real run of wrong-host (made once
per module; ~5 s), so run under the Mininet lock:

    flock /tmp/bindlab-mininet.lock /usr/bin/python3 -m pytest -q tests/test_hostile.py

The helpers real_run, tree, changed_outside and two_shards are shared with
tests/test_readers_fuzz.py.  Harness modules that came with the redesign (harness.files,
harness.errors) are imported inside the tests that use them, so that run
against older code each test fails on its own account, not all at import.
"""

import csv
import io
import json
import os
import re
import resource
import shutil
import tempfile
import time
import xml.etree.ElementTree as ET

import pytest

import harness_util as hu

REPO = hu.REPO
root_and_clean = pytest.fixture(autouse=True)(hu.root_and_clean)
# A control byte XML 1.0 forbids or a terminal acts on (tab and newline are fine).
RAW_CONTROL = re.compile('[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]')
CLIMB = '../../pwned'


# -- shared helpers (also used by test_readers_fuzz.py) ---------------------------------

@pytest.fixture(scope='module')
def real_run(tmp_path_factory):
    """The folder of one real `harness run wrong-host` (do not modify it: copy it)."""
    if os.geteuid() != 0:
        pytest.skip('a real run builds a Mininet network: run as root')
    out = tmp_path_factory.mktemp('real')
    res = hu.harness('run', 'wrong-host', '--out', str(out))
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    return os.path.realpath(out / 'latest')


def tree(root):
    """{relative path: what is there} for everything under root, symlinks not followed:
    ('dir',), ('link', target) or ('file', bytes)."""
    out = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(folder, name)
            rel = os.path.relpath(path, root)
            if os.path.islink(path):
                out[rel] = ('link', os.readlink(path))
            elif os.path.isdir(path):
                out[rel] = ('dir',)
            else:
                with open(path, 'rb') as f:
                    out[rel] = ('file', f.read())
    return out


def changed_outside(before, after, inside):
    """Paths that appeared, vanished or changed in a tree() and are not under inside
    (a path relative to the same root)."""
    keys = set(before) | set(after)
    return sorted(k for k in keys if before.get(k) != after.get(k)
                  and not (k == inside or k.startswith(inside + os.sep)))


def shard(run, dest):
    """A copy of the run folder run at dest (a str); returns dest."""
    shutil.copytree(run, dest, symlinks=True)
    return dest


def edit_json(path, change):
    """Rewrite the JSON file at path with change(data); change returns the new data."""
    with open(path, encoding='utf-8') as f:
        data = json.load(f)
    with open(path, 'w', encoding='utf-8') as f:
        json.dump(change(data), f)


def two_shards(run, root):
    """Shards 1/2 and 2/2 made from one run folder: the second holds a copy of its
    scenario renamed wrong-host-b.  Returns the two folders (under root, a str)."""
    first = shard(run, os.path.join(root, 'shard1'))
    edit_json(os.path.join(first, 'summary.json'), lambda s: dict(s, shard='1/2'))
    second = shard(run, os.path.join(root, 'shard2'))
    os.rename(os.path.join(second, 'wrong-host'), os.path.join(second, 'wrong-host-b'))

    def rename(summary):
        summary['scenarios'][0]['name'] = 'wrong-host-b'
        return dict(summary, shard='2/2')
    edit_json(os.path.join(second, 'summary.json'), rename)
    edit_json(os.path.join(second, 'wrong-host-b', 'matrix.json'),
              lambda m: dict(m, scenario='wrong-host-b'))
    return first, second


def scenario_file(folder, name='hostile', cases="bind('h1', '10.0.0.1', 6677, "
                  "explicit('OK', 'h1 holds it'))"):
    """A scenario file in folder with one wrong-host scenario; returns its path.

    name is put in as a Python string; cases is Python source of the cases."""
    path = os.path.join(folder, 'hostile_scenario.py')
    with open(path, 'w', encoding='utf-8') as f:
        f.write(SCENARIO % (name, cases))
    return path


SCENARIO = '''
"""A scenario file written by a stranger (tests/test_hostile.py)."""
from harness.scenario import Scenario, bind, connect, explicit
from topologies.wrong_host import WrongHostTopo

scenarios = [Scenario(name=%r, title='a hostile scenario file', topo=WrongHostTopo,
                      cases=(%s,))]
'''


def refused(res, *words):
    """Assert exit 2, no traceback, and every word in stderr."""
    assert res.returncode == 2, res.stdout[-2000:] + res.stderr[-2000:]
    assert 'Traceback' not in res.stderr, res.stderr[-3000:]
    for word in words:
        assert word in res.stderr, (word, res.stderr[-2000:])


def nothing_built(res):
    """Assert the run stopped before any network: no scenario was started."""
    assert '[1/' not in res.stdout + res.stderr, res.stdout[-2000:]


def no_run_folder(out):
    """Assert the --out folder holds no run folder and no latest."""
    assert not os.path.exists(out) or os.listdir(out) == [], os.listdir(out)


# -- item 1: names from files never leave the output folder ---------------------------

def climbing_shard(real_run, tmp_path):
    """A shard whose summary says wrong-host but whose matrix.json says ../../pwned
    (the old merge and record used the matrix's word as a path)."""
    folder = shard(real_run, str(tmp_path / 'shards' / 'run'))
    edit_json(os.path.join(folder, 'wrong-host', 'matrix.json'),
              lambda m: dict(m, scenario=CLIMB))
    return folder


def test_merge_refuses_a_matrix_whose_scenario_climbs_out(real_run, tmp_path):
    """Item 1: `merge` of a shard whose matrix.json says "scenario": "../../pwned"
    exits 2 naming the field, and writes nothing: not beside --out, not in it."""
    folder = climbing_shard(real_run, tmp_path)
    out = tmp_path / 'o1' / 'o2'
    before = tree(tmp_path)
    res = hu.harness('merge', folder, '--out', str(out))
    refused(res, 'matrix.json', '"scenario"')
    assert changed_outside(before, tree(tmp_path), os.path.join('o1', 'o2')) == []
    no_run_folder(out)


def test_record_refuses_a_matrix_whose_scenario_climbs_out(real_run, tmp_path):
    """Item 1: `record` of such a run folder exits 2 and writes no expectation file
    anywhere (the old one wrote <baseline>/../../pwned.json)."""
    folder = climbing_shard(real_run, tmp_path)
    before = tree(tmp_path)
    res = hu.harness('record', folder, '--baseline', str(tmp_path / 'b1' / 'expect'))
    refused(res, 'matrix.json', '"scenario"')
    assert tree(tmp_path) == before


def programs_symlink(folder):
    """A cell naming program logs whose .out is a symlink to /etc/passwd."""
    sdir = os.path.join(folder, 'wrong-host')
    os.mkdir(os.path.join(sdir, 'programs'))
    os.symlink('/etc/passwd', os.path.join(sdir, 'programs', 'x.out'))

    def add_log(matrix):
        matrix['cells'][0]['log'] = 'programs/x'
        return matrix
    edit_json(os.path.join(sdir, 'matrix.json'), add_log)


def scenario_folder_symlink(folder):
    """The scenario folder itself a symlink to a folder outside the shard."""
    sdir = os.path.join(folder, 'wrong-host')
    elsewhere = os.path.join(os.path.dirname(os.path.dirname(folder)), 'elsewhere')
    shutil.move(sdir, elsewhere)
    os.symlink(elsewhere, sdir)


@pytest.mark.parametrize('plant', [programs_symlink, scenario_folder_symlink])
def test_merge_refuses_a_symlink_in_a_shard(real_run, tmp_path, plant):
    """Item 1: a shard holding a symlink (a program log -> /etc/passwd, or its scenario
    folder) is refused by `merge` with exit 2 naming the symlink; nothing is copied
    (the old merge copied the target's contents into the merged run)."""
    folder = shard(real_run, str(tmp_path / 'shards' / 'run'))
    plant(folder)
    out = tmp_path / 'out'
    res = hu.harness('merge', folder, '--out', str(out))
    refused(res, 'symlink')
    no_run_folder(out)


@pytest.mark.parametrize('name', ['.', '..', 'a b', 'x/y'])
def test_run_refuses_a_scenario_name_that_is_not_one_path_part(tmp_path, name):
    """Item 1: a scenario file naming a scenario ., .., 'a b' or x/y: `run
    --scenario-file` exits 2 naming the scenario, before building anything."""
    path = scenario_file(str(tmp_path), name=name)
    out = tmp_path / 'out'
    res = hu.harness('run', '--scenario-file', path, '--out', str(out))
    refused(res, 'hostile_scenario.py', f'{name!r}', 'name')
    nothing_built(res)
    no_run_folder(out)


# -- item 2: the writer follows no symlink and replaces no real latest ------------------

def test_run_refuses_a_latest_that_is_a_real_folder(tmp_path):
    """Item 2: --out DIR whose latest is a real folder: `run` exits 2 naming latest
    before building anything, and leaves latest and its contents as they were (the
    old run wrote every file, then gave a traceback)."""
    out = tmp_path / 'out'
    (out / 'latest').mkdir(parents=True)
    (out / 'latest' / 'mine.txt').write_text('a user keeps this here')
    before = tree(tmp_path)
    res = hu.harness('run', 'wrong-host', '--out', str(out))
    refused(res, os.path.join(str(out), 'latest'))
    nothing_built(res)
    assert tree(tmp_path) == before


def test_new_folder_refuses_a_planted_symlink(tmp_path):
    """Item 2: a symlink (or folder) planted at a run folder's path: files.new_folder
    raises UsageError naming it, and nothing is made in the symlink's target."""
    from harness.errors import UsageError
    from harness.files import new_folder
    victim = tmp_path / 'victim'
    victim.mkdir()
    os.symlink(victim, tmp_path / 'run')
    with pytest.raises(UsageError, match='run already exists'):
        new_folder(str(tmp_path / 'run'))
    (tmp_path / 'planted').mkdir()
    with pytest.raises(UsageError, match='planted already exists'):
        new_folder(str(tmp_path / 'planted'))
    assert os.listdir(victim) == []
    assert os.path.islink(tmp_path / 'run')


def test_merge_refuses_a_symlink_planted_at_its_run_id(real_run, tmp_path):
    """Item 2: run ids are predictable (YYYYmmdd-HHMMSS-PID); symlinks planted at
    every id of the coming seconds in --out: the merge refuses (UsageError naming the
    path) and writes nothing into the symlinks' target (the old writer wrote the
    whole run there)."""
    from harness.ci.merge import merge
    out, victim = tmp_path / 'out', tmp_path / 'victim'
    out.mkdir()
    victim.mkdir()
    now = time.time()
    for t in range(-2, 30):
        stamp = time.strftime('%Y%m%d-%H%M%S', time.gmtime(now + t))
        os.symlink(victim, out / f'{stamp}-{os.getpid()}')
    with pytest.raises(Exception) as refusal:
        merge([real_run], str(out))
    assert os.listdir(victim) == []
    assert not os.path.lexists(out / 'latest')
    from harness.errors import UsageError     # after the checks: f9c482c has no errors.py
    assert refusal.type is UsageError and 'already exists' in str(refusal.value)


def test_write_file_follows_no_symlink(tmp_path, monkeypatch):
    """Item 2: files.write_file over a path that is a symlink replaces the symlink and
    leaves its target alone; a symlink planted at a temporary name (the old
    predictable `<path>.tmp<PID>`, or the name mkstemp tries first) is never opened:
    mkstemp's O_EXCL makes it pick another name."""
    from harness import files
    victim = tmp_path / 'victim'
    victim.write_text('root-owned, must stay')
    target = tmp_path / 'summary.json'
    os.symlink(victim, target)
    files.write_file(str(target), 'the result')
    assert not os.path.islink(target) and target.read_text() == 'the result'
    assert victim.read_text() == 'root-owned, must stay'

    monkeypatch.setattr(tempfile, '_get_candidate_names',
                        lambda: iter(['planted', 'fresh']))
    os.symlink(victim, tmp_path / '.junit.xml.planted.tmp')
    os.symlink(victim, tmp_path / f'junit.xml.tmp{os.getpid()}')
    files.write_file(str(tmp_path / 'junit.xml'), '<testsuites/>')
    assert (tmp_path / 'junit.xml').read_text() == '<testsuites/>'
    assert victim.read_text() == 'root-owned, must stay'
    assert os.path.islink(tmp_path / '.junit.xml.planted.tmp')


# -- item 3: control bytes and formulas are made harmless ----------------------------------

NOISY_CLIENT = ('python3 -c "import sys; sys.stderr.write(chr(27) + \'[31m\' + chr(7) '
                '+ \'boom\'); sys.exit(1)"')
FORMULA_CASES = ("bind('h1', '10.0.0.1', 6677, explicit('EADDRNOTAVAIL', "
                 "'=HYPERLINK(\"http://evil/\")')), "
                 "bind('h2', '10.0.0.1', 6677, explicit('OK', '@SUM(A1)\\x07\\x1b[2J'))")


@pytest.fixture(scope='module')
def noisy_run(tmp_path_factory):
    """One real run whose client program prints ESC and BEL on stderr and exits 1
    without connecting, and whose reasons start with = and @ (and hold BEL, ESC)."""
    if os.geteuid() != 0:
        pytest.skip('a real run builds a Mininet network: run as root')
    root = tmp_path_factory.mktemp('noisy')
    path = scenario_file(str(root), name='noisy', cases=FORMULA_CASES)
    res = hu.harness('run', '--scenario-file', path, '--client', NOISY_CLIENT,
                     '--out', str(root / 'out'))
    assert res.returncode == 1, res.stdout[-2000:] + res.stderr[-2000:]
    return os.path.realpath(root / 'out' / 'latest')


def test_control_bytes_from_a_program_keep_junit_valid(noisy_run):
    """Item 3: a client program's stderr with ESC and BEL reaches the cells' messages;
    junit.xml still parses (the old one was invalid XML) and shows them as \\x1b
    \\x07; summary.md holds no raw control byte."""
    with open(os.path.join(noisy_run, 'noisy', 'matrix.json'), encoding='utf-8') as f:
        cells = json.load(f)['cells']
    assert any('\x1b[31m\x07boom' in (c.get('message') or '') for c in cells), \
        'the program stderr did not reach a cell: the test would prove nothing'
    root = ET.parse(os.path.join(noisy_run, 'junit.xml')).getroot()
    messages = [e.get('message') for e in root.iter() if e.tag in ('error', 'failure')]
    assert any('\\x1b[31m\\x07boom' in m for m in messages), messages
    with open(os.path.join(noisy_run, 'summary.md'), encoding='utf-8') as f:
        md = f.read()
    assert '\\x07' in md and not RAW_CONTROL.search(md)


def test_csv_fields_that_look_like_formulas_are_neutralised(noisy_run):
    """Item 3: a reason beginning with = or @ (from a scenario file's explicit()) is
    written to bind.csv behind a quote ('=...), with its control bytes made visible,
    so a spreadsheet shows text, not a formula."""
    with open(os.path.join(noisy_run, 'noisy', 'bind.csv'), encoding='utf-8') as f:
        text = f.read()
    assert not RAW_CONTROL.search(text)
    reasons = {row['host']: row['reason'] for row in csv.DictReader(io.StringIO(text))}
    assert reasons == {'h1': "'=HYPERLINK(\"http://evil/\")",
                       'h2': "'@SUM(A1)\\x07\\x1b[2J"}


# -- item 4: files of the wrong shape are refused by name -------------------------------------

def _first_cell(change):
    def edit(matrix):
        matrix['cells'][0] = change(matrix['cells'][0])
        return matrix
    return edit


def _drop(key):
    return lambda cell: {k: v for k, v in cell.items() if k != key}


# (label, file in the run folder, change, words the message must hold)
BAD_SHAPES = [
    ('summary-is-a-list', 'summary.json', lambda s: [], ['summary.json']),
    ('matrix-is-a-list', 'wrong-host/matrix.json', lambda m: [], ['matrix.json']),
    ('cell-not-an-object', 'wrong-host/matrix.json', _first_cell(lambda c: 7),
     ['matrix.json', 'cells[0]']),
    ('cell-without-kind', 'wrong-host/matrix.json', _first_cell(_drop('kind')),
     ['matrix.json', 'cells[0]', '"kind"']),
    ('unknown-verdict', 'wrong-host/matrix.json',
     _first_cell(lambda c: dict(c, verdict='maybe')), ['matrix.json', 'cells[0]', 'verdict']),
    ('unknown-kind', 'wrong-host/matrix.json',
     _first_cell(lambda c: dict(c, kind='teleport')), ['matrix.json', 'cells[0]', 'kind']),
    ('host-not-text', 'wrong-host/matrix.json',
     _first_cell(lambda c: dict(c, host=['h1'])), ['matrix.json', 'cells[0]', '"host"']),
    ('port-not-a-number', 'wrong-host/matrix.json',
     _first_cell(lambda c: dict(c, port='80')), ['matrix.json', 'cells[0]', '"port"']),
    ('topology-links-not-a-list', 'wrong-host/matrix.json',
     lambda m: dict(m, topology=dict(m['topology'], links=5)),
     ['matrix.json', 'topology.links']),
    ('interfaces-not-a-list', 'wrong-host/matrix.json',
     lambda m: dict(m, topology=dict(m['topology'], hosts=[{'name': 'h1', 'interfaces': 5}])),
     ['matrix.json', 'interfaces']),
    # issue 27, item 5: why a scenario was skipped, and the cases it would have had
    ('skipped-not-text', 'wrong-host/matrix.json', lambda m: dict(m, skipped=5),
     ['matrix.json', '"skipped"']),
    ('skipped-with-cells', 'wrong-host/matrix.json', lambda m: dict(m, skipped='no vrf'),
     ['matrix.json', 'skipped scenario with cells']),
    ('cases-not-cells', 'wrong-host/matrix.json',
     lambda m: dict(m, skipped='no vrf', cells=[],
                    cases=[{'kind': 'bind', 'host': ['h1'], 'column': 'tcp ::'}]),
     ['matrix.json', '"cases"']),
    ('summary-skipped-not-text', 'summary.json',
     lambda s: dict(s, scenarios=[dict(s['scenarios'][0], skipped=['no vrf'])]),
     ['summary.json', 'scenarios[0]', '"skipped"']),
    ('summary-cases-not-a-count', 'summary.json',
     lambda s: dict(s, scenarios=[dict(s['scenarios'][0], cases=-1)]),
     ['summary.json', 'scenarios[0]', '"cases"']),
    ('summary-skipped-not-a-count', 'summary.json', lambda s: dict(s, skipped='3'),
     ['summary.json', '"skipped"']),
]


def bad_run(real_run, tmp_path, rel, change):
    folder = shard(real_run, str(tmp_path / 'bad' / 'run'))
    edit_json(os.path.join(folder, rel), change)
    return folder


def _verify(folder, good, tmp):
    return hu.harness('verify', folder, '--baseline', os.path.join(REPO, 'expectations'))


def _diff(folder, good, tmp):
    return hu.harness('diff', good, folder)


def _record(folder, good, tmp):
    return hu.harness('record', folder, '--baseline', os.path.join(tmp, 'expect'))


def _merge(folder, good, tmp):
    return hu.harness('merge', folder, '--out', os.path.join(tmp, 'merged'))


@pytest.mark.parametrize('command', [_verify, _diff, _record, _merge],
                         ids=['verify', 'diff', 'record', 'merge'])
@pytest.mark.parametrize('label, rel, change, words', BAD_SHAPES,
                         ids=[s[0] for s in BAD_SHAPES])
def test_a_run_folder_of_the_wrong_shape_is_refused_by_name(real_run, tmp_path, command,
                                                            label, rel, change, words):
    """Item 4: verify, diff, record and merge given a run folder whose summary.json or
    matrix.json has the wrong shape: exit 2, the message names the file and the
    field, no traceback, and no expectation file or merged folder is written."""
    folder = bad_run(real_run, tmp_path, rel, change)
    res = command(folder, real_run, str(tmp_path))
    refused(res, *words)
    assert not os.path.exists(tmp_path / 'expect')
    no_run_folder(tmp_path / 'merged')


@pytest.mark.parametrize('field', ['switch', 'environment', 'environment.kernel'])
def test_merge_refuses_a_shard_without_the_run_fields(real_run, tmp_path, field):
    """Item 4: a shard whose summary.json lacks switch, environment or its kernel
    (every run writes them; the merged summary is made of them): `merge` exits 2
    naming the field, no traceback (it was a KeyError after reading), nothing in --out."""
    def drop(summary):
        if field == 'environment.kernel':
            del summary['environment']['kernel']
        else:
            del summary[field]
        return summary
    folder = bad_run(real_run, tmp_path, 'summary.json', drop)
    res = hu.harness('merge', folder, '--out', str(tmp_path / 'merged'))
    refused(res, 'summary.json', f'"{field}"')
    no_run_folder(tmp_path / 'merged')


@pytest.mark.parametrize('started, status', [(None, 0), (5, 2)])
def test_merge_of_shards_whose_start_times_differ_in_type(real_run, tmp_path, started,
                                                         status):
    """Item 4: two shards, one whose summary says "started": null (a start time not
    known: merged, exit 0) or 5 (not text: exit 2 naming "started"); never a traceback
    (comparing the two start times was a TypeError)."""
    first, second = two_shards(real_run, str(tmp_path / 'in'))
    edit_json(os.path.join(second, 'summary.json'), lambda s: dict(s, started=started))
    res = hu.harness('merge', first, second, '--out', str(tmp_path / 'merged'))
    assert res.returncode == status, res.stdout[-2000:] + res.stderr[-2000:]
    assert 'Traceback' not in res.stderr
    if status == 2:
        refused(res, 'summary.json', '"started"')
        no_run_folder(tmp_path / 'merged')


def folder_at_expectation(tmp):
    os.makedirs(os.path.join(tmp, 'expect', 'wrong-host.json'))
    return ['record', '--baseline', os.path.join(tmp, 'expect')], 'wrong-host.json'


def file_at_baseline(tmp):
    open(os.path.join(tmp, 'expect'), 'w').close()
    return ['record', '--baseline', os.path.join(tmp, 'expect')], 'expect'


def file_at_out(tmp):
    open(os.path.join(tmp, 'merged'), 'w').close()
    return ['merge', '--out', os.path.join(tmp, 'merged')], 'merged'


@pytest.mark.parametrize('plant', [folder_at_expectation, file_at_baseline, file_at_out])
def test_an_output_path_that_cannot_be_written_is_a_message(real_run, tmp_path, plant):
    """Item 4: `record` whose expectation file is a folder or whose --baseline is a
    file, `merge` whose --out is a file: exit 2 naming the path, no traceback (each was
    an OSError traceback, exit 1), and the planted thing is left as it was."""
    (command, *options), name = plant(str(tmp_path))
    before = tree(tmp_path)
    res = hu.harness(command, real_run, *options)
    refused(res, name, 'cannot')
    assert tree(tmp_path) == before


BAD_EXPECTATIONS = [
    ('file-is-a-list', []),
    ('file-is-null', None),
    ('cell-not-an-object', {'cells': [7]}),
    ('cell-without-kind', {'cells': [{'host': 'h1', 'column': 'tcp 10.0.0.1',
                                      'actual': 'OK'}]}),
    ('peer-not-text', {'cells': [{'kind': 'connect', 'host': 'h1', 'actual': 'OK',
                                  'column': 'tcp 10.0.0.1:7001', 'peer': 5}]}),
]


@pytest.mark.parametrize('label, content', BAD_EXPECTATIONS,
                         ids=[b[0] for b in BAD_EXPECTATIONS])
def test_an_expectation_file_of_the_wrong_shape_is_refused_by_name(real_run, tmp_path,
                                                                   label, content):
    """Item 4: `verify RUN --baseline DIR` whose DIR/wrong-host.json has the wrong shape:
    exit 2 naming the file, no traceback (the old verify crashed on [] and null)."""
    base = tmp_path / 'expect'
    base.mkdir()
    if isinstance(content, dict):
        content = dict(content, format='bindlab-baseline-1', scenario='wrong-host')
    (base / 'wrong-host.json').write_text(json.dumps(content))
    res = hu.harness('verify', real_run, '--baseline', str(base))
    refused(res, 'wrong-host.json')


def test_diff_names_a_cell_whose_host_holds_a_superscript_digit(real_run, tmp_path):
    """Item 4: a matrix.json cell whose host is 'h1\u00b2' (the superscript two is a
    digit to str.isdigit, not to int()): `diff` lists the change (exit 1) instead of
    a ValueError traceback from sorting the cells by name."""
    folder = bad_run(real_run, tmp_path, 'wrong-host/matrix.json',
                     _first_cell(lambda c: dict(c, host='h1\u00b2')))
    res = hu.harness('diff', real_run, folder)
    assert res.returncode == 1, res.stdout[-2000:] + res.stderr[-2000:]
    assert 'Traceback' not in res.stderr
    assert 'wrong-host bind h1\u00b2 tcp 10.0.0.1: (absent) -> OK' in res.stdout


def limited_memory():
    """preexec_fn: at most 1 GiB of address space (a shard count must not make the
    harness allocate per shard)."""
    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
    return limit


def test_run_refuses_a_huge_shard_count(tmp_path):
    """Item 4: `run --shard 1/100000000` exits 2 at once naming --shard; nothing built."""
    res = hu.harness('run', 'wrong-host', '--shard', '1/100000000',
                     '--out', str(tmp_path / 'out'), preexec=limited_memory())
    refused(res, '--shard', '1000')
    nothing_built(res)
    no_run_folder(tmp_path / 'out')


def test_merge_refuses_a_shard_that_claims_a_huge_count(real_run, tmp_path):
    """Item 4: a shard whose summary says "shard": "1/100000000": `merge` exits 2 at
    once naming the field, in bounded memory (the old one listed 10^8 missing shards)."""
    folder = bad_run(real_run, tmp_path, 'summary.json',
                     lambda s: dict(s, shard='1/100000000'))
    res = hu.harness('merge', folder, '--out', str(tmp_path / 'merged'),
                     preexec=limited_memory())
    refused(res, 'summary.json', 'shard', '1000')
    no_run_folder(tmp_path / 'merged')


# -- item 5: --program-timeout -----------------------------------------------------------

@pytest.mark.parametrize('value', ['nan', 'inf', '-1', '0'])
def test_program_timeout_must_be_a_finite_number_above_0(tmp_path, value):
    """Item 5: `run --client ... --program-timeout nan|inf|-1|0` exits 2 naming
    --program-timeout, before building anything."""
    out = tmp_path / 'out'
    res = hu.harness('run', 'wrong-host', '--client', 'true', '--program-timeout', value,
                     '--out', str(out))
    refused(res, '--program-timeout', value)
    nothing_built(res)
    no_run_folder(out)


# -- item 7: nothing in a scenario file can start another plan line ---------------------------

@pytest.mark.parametrize('cases, words', [
    ("bind('h1', 'fe80::1%x\\n9 bind tcp 0.0.0.0 80', 6677, explicit('OK', 'scoped'))",
     ['address', 'space or control byte']),
    ("bind('h1', 'fe80::1%x 9', 6677, explicit('OK', 'scoped'))",
     ['address', 'space or control byte']),
    ("connect('h2', '10.0.0.1', 7001, explicit('OK', 'a listener'), "
     "options=('timeout=100\\nh2 bind tcp 0.0.0.0 80',))",
     ['option', 'space or control byte']),
    ("connect('h2', '10.0.0.1', 7001, explicit('OK', 'a listener'), "
     "options=('timeout=100 x',))",
     ['option', 'space or control byte']),
    ("bind('h1', '10.0.0.1', 6677, explicit('EFOO', 'no such errno'))",
     ["'EFOO'", 'errno name']),
], ids=['scope-newline', 'scope-space', 'option-newline', 'option-space', 'outcome-EFOO'])
def test_run_refuses_a_case_that_could_smuggle_a_plan_line(tmp_path, cases, words):
    """Item 7: a scenario file whose address scope or option holds a newline or a space,
    or whose expected outcome is no errno (EFOO): `run --scenario-file F` exits 2
    naming F and the problem, before building anything."""
    path = scenario_file(str(tmp_path), cases=cases)
    out = tmp_path / 'out'
    res = hu.harness('run', '--scenario-file', path, '--out', str(out))
    refused(res, 'hostile_scenario.py', *words)
    nothing_built(res)
    no_run_folder(out)
