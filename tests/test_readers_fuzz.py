"""Property-based tests of the harness's readers of JSON files (issue 11, item 14).

Run folders, expectation files and shards come from CI artifacts and pull requests.
For any content -- near-valid documents (a real run's summary.json, matrix.json or
expectation file with fields dropped or replaced by other JSON types, odd strings such
as '../x', control bytes, huge numbers) and arbitrary JSON or text -- each reader gives
either a result its callers can use or BadInput/UsageError with a message: never
another exception, and never a write outside the output folder (the whole temporary
tree is compared before and after).  The state file (/run/bindlab/state.json,
harness/ledger/statefile.py) likewise: a usable state or StateError, and `clean-net`'s
reading of it (leftovers) never raises.

The base documents come from one real run of wrong-host (tests/test_hostile.py's
real_run), trimmed to a few cells so that each example is quick.  Run under the
Mininet lock:

    flock /tmp/bindlab-mininet.lock /usr/bin/python3 -m pytest -q tests/test_readers_fuzz.py
"""

import copy
import glob
import json
import os
import sys
import tempfile
import traceback

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

from test_hostile import REPO, changed_outside, real_run, tree, two_shards  # noqa: F401

sys.path.insert(0, REPO)
from harness.ci import baseline  # noqa: E402
from harness.judge import Cell, cells, KINDS  # noqa: E402
from harness.report import read_run  # noqa: E402
from harness.ci import merge  # noqa: E402
from harness.ledger import leftovers, read_state, state_path, workdirs  # noqa: E402
from harness.errors import UsageError  # noqa: E402

# Hypothesis keeps a cache (its Unicode tables) in .hypothesis/ of the current folder:
# keep it out of the work tree.
set_hypothesis_home_dir(os.path.join(tempfile.gettempdir(), 'bindlab-hypothesis'))
FUZZ = settings(max_examples=200, deadline=None, database=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow])
SCENARIO = 'wrong-host'
KEEP_CELLS = 6

ODD_TEXT = st.sampled_from([
    '', '.', '..', '../x', '../../x', '../../../pwned', '/etc/passwd', 'x/y', 'a b',
    'programs/x', 'programs/../../x', 'programs/..', '\x1b[31m\x07', '\x00', '\ud800',
    '=cmd|x', '@SUM(A1)', '-1', 'wrong-host', 'h1', 'OK', 'ERROR', 'NOCALL',
    'EADDRNOTAVAIL', 'bind', 'connect', 'pass', 'fail', 'error', 'netprobe', '1/1',
    '1/2', '2/2', '0/0', '2/1', '1/100000000', 'K/N', 'tcp 10.0.0.1', 'lxbr', 'NaN'])
ODD_NUMBERS = st.sampled_from([0, -1, 1, 2 ** 63, -2 ** 64, 10 ** 30, 1e308, -1e308,
                               float('nan'), float('inf'), float('-inf'), 0.5, True,
                               False])
SCALARS = (st.none() | st.booleans() | st.integers() | ODD_NUMBERS |
           st.floats(allow_nan=True, allow_infinity=True) | ODD_TEXT | st.text(max_size=12))
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) |
                    st.dictionaries(ODD_TEXT | st.text(max_size=6), inner, max_size=4),
                    max_leaves=12)


# -- generating documents --------------------------------------------------------------

def mutated(data, doc, rounds=3):
    """doc with up to `rounds` edits drawn from data, each at a random depth: a field
    or element dropped, replaced by other JSON or by an odd value of its own type,
    or duplicated."""
    doc = copy.deepcopy(doc)
    for _ in range(data.draw(st.integers(1, rounds), label='edits')):
        doc = _edit(data, doc)
    return doc


def _same_type(value):
    """Odd values of value's JSON type (text for text, numbers for numbers)."""
    if isinstance(value, str):
        return ODD_TEXT | st.text(max_size=12)
    if isinstance(value, bool) or value is None:
        return SCALARS
    if isinstance(value, (int, float)):
        return st.integers() | ODD_NUMBERS | st.floats()
    return JSON


def _edit(data, node):
    if not isinstance(node, (dict, list)) or not node:
        return data.draw(_same_type(node) | JSON, label='replacement')
    keys = list(node) if isinstance(node, dict) else list(range(len(node)))
    inner = [k for k in keys if isinstance(node[k], (dict, list)) and node[k]]
    action = data.draw(st.sampled_from(['down'] * 4 + ['odd'] * 2 +
                                       ['replace', 'drop', 'copy']), label='action')
    if action == 'down' and not inner:
        action = 'odd'
    key = data.draw(st.sampled_from(inner if action == 'down' else keys), label='at')
    if action == 'down':
        node[key] = _edit(data, node[key])
    elif action == 'odd':
        node[key] = data.draw(_same_type(node[key]), label='odd value')
    elif action == 'replace':
        node[key] = data.draw(JSON, label='replacement')
    elif action == 'drop':
        del node[key]
    elif isinstance(node, list):
        node.append(copy.deepcopy(node[key]))
    return node


def document(data, base):
    """Mostly a mutation of base; else arbitrary JSON, or text that is not JSON."""
    kind = data.draw(st.sampled_from(['mutated'] * 6 + ['json', 'text']), label='kind')
    if kind == 'mutated':
        return json.dumps(mutated(data, base))
    if kind == 'json':
        return json.dumps(data.draw(JSON, label='document'))
    return data.draw(st.text(max_size=40) | st.just('{"cells": [') | st.just('\ufeff{}'),
                     label='text')


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w', encoding='utf-8', errors='surrogatepass') as f:
        f.write(text)


def load(path):
    with open(path, encoding='utf-8') as f:
        return json.load(f)


@pytest.fixture(scope='module')
def small_run(real_run, tmp_path_factory):
    """A copy of the real run with a few of its cells kept (bind and connect ones) and
    only the files the readers read (summary.json, matrix.json)."""
    folder = str(tmp_path_factory.mktemp('small') / 'run')
    summary = load(os.path.join(real_run, 'summary.json'))
    matrix = load(os.path.join(real_run, SCENARIO, 'matrix.json'))
    matrix['cells'] = [c for c in matrix['cells'] if c['kind'] == 'bind'][:KEEP_CELLS // 2] + \
        [c for c in matrix['cells'] if c['kind'] == 'connect'][:KEEP_CELLS // 2]
    summary['scenarios'][0]['cells'] = len(matrix['cells'])
    write(os.path.join(folder, 'summary.json'), json.dumps(summary))
    write(os.path.join(folder, SCENARIO, 'matrix.json'), json.dumps(matrix))
    return folder


@pytest.fixture(scope='module')
def base(small_run):
    """{'summary', 'matrix', 'expectation'}: the documents of small_run."""
    matrix = load(os.path.join(small_run, SCENARIO, 'matrix.json'))
    return {'summary': load(os.path.join(small_run, 'summary.json')), 'matrix': matrix,
            'expectation': json.loads(baseline.baseline_text(SCENARIO, [
                Cell.of_json(c, 'cell') for c in matrix['cells']]))}


def run_folder(root, summary, matrix):
    """A run folder under root holding the given summary.json and matrix.json texts."""
    folder = os.path.join(root, 'run')
    write(os.path.join(folder, 'summary.json'), summary)
    write(os.path.join(folder, SCENARIO, 'matrix.json'), matrix)
    return folder


def outcome(call):
    """(what call() returned, None), or (None, the exception it raised)."""
    try:
        return call(), None
    except Exception as exc:      # noqa: BLE001 (the property is about its type)
        return None, exc


def is_refusal(exc):
    """True when exc is None; else assert it is the harness's refusal (UsageError,
    exit 2) with a message.  A failure shows the traceback in ASCII (the input may
    hold lone surrogates a terminal cannot print)."""
    if exc is None:
        event('accepted')
        return False
    event(f'refused: {type(exc).__name__}')
    where = ''.join(traceback.format_exception(exc)).encode('ascii', 'backslashreplace')
    assert isinstance(exc, UsageError), where.decode()
    assert str(exc).strip()
    return True


def usable(matrices):
    """What the callers of read_run do with the matrices must work."""
    for m in matrices:
        assert isinstance(m['scenario'], str) and isinstance(m['cells'], list)
        cells.counts(m['cells'])
        for cell in m['cells']:
            cells.describe(cell), cells.short(cell), cells.state(cell)
        for kind in KINDS:
            cells.grid(m['cells'], kind)
        baseline.changes(m['scenario'], {}, baseline.observations(m['cells']))
        baseline.unmeasured(m)


# -- the readers ------------------------------------------------------------------------

@FUZZ
@given(data=st.data())
def test_read_run_gives_a_run_or_bad_input(base, data):
    """Item 14: cells.read_run on any summary.json and matrix.json: a Run whose
    matrices the callers can use, or BadInput with a message; it writes nothing."""
    with tempfile.TemporaryDirectory() as root:
        folder = run_folder(root, document(data, base['summary']),
                            document(data, base['matrix']))
        before = tree(root)
        run, exc = outcome(lambda: read_run(folder))
        if not is_refusal(exc):
            usable(run.matrices)
        assert tree(root) == before


@FUZZ
@given(data=st.data())
def test_expectation_file_gives_changes_or_bad_input(base, data):
    """Item 14: baseline.load_baseline and check on any expectation file: change lines
    (text) or BadInput with a message; nothing is written."""
    with tempfile.TemporaryDirectory() as root:
        write(os.path.join(root, f'{SCENARIO}.json'), document(data, base['expectation']))
        before = tree(root)
        matrix = dict(base['matrix'], cells=[Cell.of_json(c, 'cell')
                                             for c in base['matrix']['cells']])
        lines, exc = outcome(lambda: baseline.check([matrix], root))
        if not is_refusal(exc):
            assert all(isinstance(line, str) for line in lines)
        assert tree(root) == before


def mutated_shards(root, small_run, data):
    """Shards 1/2 and 2/2 (test_hostile.two_shards), any of their summary.json and
    matrix.json files mutated; returns their folders."""
    folders = two_shards(small_run, root)
    for folder in folders:
        for path in (os.path.join(folder, 'summary.json'),
                     glob.glob(os.path.join(folder, '*', 'matrix.json'))[0]):
            if data.draw(st.booleans(), label=f'mutate {os.path.relpath(path, root)}'):
                write(path, document(data, load(path)))
    return folders


@FUZZ
@given(data=st.data())
def test_merge_gives_a_run_or_bad_input_and_writes_only_into_out(base, small_run, data):
    """Item 14: merge.merge of one or two shards with any summary.json and matrix.json:
    a merged run that read_run accepts, or BadInput/UsageError with a message and no
    folder in --out; either way nothing changes outside --out (three levels deep, so
    a name climbing out with ../../.. would land inside the compared tree)."""
    with tempfile.TemporaryDirectory() as root:
        if data.draw(st.booleans(), label='two shards'):
            shards = mutated_shards(os.path.join(root, 'in'), small_run, data)
        else:
            shards = [run_folder(os.path.join(root, 'in'), document(data, base['summary']),
                                 document(data, base['matrix']))]
        out = os.path.join('a', 'b', 'out')
        os.makedirs(os.path.join(root, 'a', 'b'))
        before = tree(root)
        merged, exc = outcome(lambda: merge.merge(shards, os.path.join(root, out)))
        if is_refusal(exc):
            assert not os.path.exists(os.path.join(root, out)) or \
                os.listdir(os.path.join(root, out)) == []
        else:
            run_dir, summary = merged
            assert os.path.dirname(run_dir) == os.path.join(root, out)
            usable(read_run(run_dir).matrices)
            assert isinstance(summary['passed'], int) and isinstance(summary['failed'], int)
        assert changed_outside(before, tree(root), out) == []


STATE = {'version': 2, 'run_id': '20261201-120000-4242', 'pid': 4242,
         'pids': {'1234': {'pid': 1234, 'start': 5678901, 'marker': 'mininet:h1'}},
         'netns': [{'host': 'h1', 'pid': 1234, 'start': 5678901, 'ino': 4026532951}],
         'links': ['s1-eth1'], 'bridges': ['s1'], 'ovs_bridges': []}


@FUZZ
@given(data=st.data())
def test_state_file_gives_a_state_or_state_error(data):
    """Item 14: read_state on any state.json: a state whose leftovers can be
    listed (text lines), or StateError (exit 2) with a message; never another
    exception, and the file is left as it was."""
    saved = workdirs.RUN_DIR
    with tempfile.TemporaryDirectory() as root:
        workdirs.RUN_DIR = root
        try:
            write(state_path(), document(data, STATE))
            before = tree(root)
            got, exc = outcome(read_state)
            if not is_refusal(exc):
                assert isinstance(got, dict)
                assert all(isinstance(x, str) for x in leftovers(got))
            assert tree(root) == before
        finally:
            workdirs.RUN_DIR = saved
