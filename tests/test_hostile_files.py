"""Hostile input, continued (issue 28, items 2 and 5): what a file *is*, and what its
text does to a terminal.

Item 2: a run folder, shard, expectation file or state file comes from a CI artifact
(a tar extracted as root can hold a FIFO or a device node).  Where a JSON file should
be, a FIFO made every reader wait for a writer forever and /dev/zero made it read
until the machine ran out of memory; now each is refused by name (exit 2, at once).
Each command runs under a guard (HANG_GUARD_S, then the test fails instead of
hanging) and in 1 GiB of address space.

Item 5: a cell's host, address or column is text from a file; `diff`, `verify` and
`explain` printed it raw, so a newline and a forged closing line ("no cell changed")
or an escape sequence reached the console and the CI log as if the harness wrote them.

Hostile run folders are copies of one real run of wrong-host (tests/test_hostile.py's
real_run, which builds a Mininet network): run under the Mininet lock:

    flock /tmp/bindlab-mininet.lock /usr/bin/python3 -m pytest -q tests/test_hostile_files.py
"""

import os
import shutil
import stat
import subprocess
import tempfile

import pytest

import harness_util as hu
from test_hostile import (RAW_CONTROL, REPO, edit_json, limited_memory, no_run_folder,
                          real_run, refused, shard)  # noqa: F401

root_and_clean = pytest.fixture(autouse=True)(hu.root_and_clean)
# A guard against a harness that waits on a FIFO, not an assertion about speed.
HANG_GUARD_S = 60


def harness(*args, env=None):
    """`python3 -m harness ARGS` in 1 GiB of address space; fails the test when it is
    still running after HANG_GUARD_S (it waited on a file)."""
    try:
        return subprocess.run([hu.PYTHON, '-m', 'harness'] + list(args), cwd=REPO,
                              env=dict(hu.env(), **(env or {})), capture_output=True,
                              text=True, timeout=HANG_GUARD_S,
                              preexec_fn=limited_memory())
    except subprocess.TimeoutExpired:
        pytest.fail(f'harness {" ".join(args)} still ran after {HANG_GUARD_S} s: it '
                    'waited on a file')


# -- item 2: a FIFO or a device where a file should be -----------------------------------

def fifo(path):
    os.mkfifo(path, 0o644)


def dev_zero(path):
    """A character device node 1,5: /dev/zero (endless zero bytes)."""
    os.mknod(path, 0o644 | stat.S_IFCHR, os.makedev(1, 5))


PLANTS = {'fifo': (fifo, 'is a FIFO'), 'dev-zero': (dev_zero, 'is a character device')}


def planted(path, plant):
    """Put the plant at path (removing the file there); returns the words a refusal
    holds."""
    if os.path.lexists(path):
        os.unlink(path)
    make, words = PLANTS[plant]
    make(path)
    return words


def _verify(folder, good, tmp):
    return harness('verify', folder, '--baseline', os.path.join(REPO, 'expectations'))


def _merge(folder, good, tmp):
    return harness('merge', folder, '--out', os.path.join(tmp, 'merged'))


def _diff(folder, good, tmp):
    return harness('diff', good, folder)


@pytest.mark.parametrize('command', [_verify, _merge, _diff], ids=['verify', 'merge', 'diff'])
@pytest.mark.parametrize('name', ['matrix.json', 'mutations.json'])
@pytest.mark.parametrize('plant', sorted(PLANTS))
def test_a_fifo_or_device_in_a_run_folder_is_refused_by_name(real_run, tmp_path, command,
                                                              name, plant):
    """Item 2: a run folder whose wrong-host/matrix.json (or mutations.json) is a FIFO
    or /dev/zero's device node: verify, merge and diff exit 2 at once naming the file
    and what it is; no traceback, nothing merged (the old readers hung on the FIFO and
    filled memory from /dev/zero)."""
    folder = shard(real_run, str(tmp_path / 'bad' / 'run'))
    path = os.path.join(folder, 'wrong-host', name)
    words = planted(path, plant)
    res = command(folder, real_run, str(tmp_path))
    refused(res, path, words, 'must be a regular file')
    no_run_folder(tmp_path / 'merged')


@pytest.mark.parametrize('plant', sorted(PLANTS))
def test_a_fifo_or_device_as_an_expectation_file_is_refused_by_name(real_run, tmp_path,
                                                                    plant):
    """Item 2: `verify RUN --baseline DIR` whose DIR/wrong-host.json is a FIFO or a
    device: exit 2 at once naming the file (not hung, and not "no baseline")."""
    base = tmp_path / 'expect'
    base.mkdir()
    path = str(base / 'wrong-host.json')
    words = planted(path, plant)
    res = harness('verify', real_run, '--baseline', str(base))
    refused(res, path, words)


@pytest.fixture
def run_dir():
    """A $BINDLAB_RUN_DIR of the test's own in /dev/shm (in memory, so the harness
    keeps its work folders in it too, not in the shared /dev/shm/bindlab)."""
    folder = tempfile.mkdtemp(prefix='bindlab-test-run-', dir='/dev/shm')
    yield folder
    shutil.rmtree(folder)


@pytest.mark.parametrize('plant', sorted(PLANTS))
def test_a_fifo_or_device_as_the_state_file_is_refused_by_name(run_dir, plant):
    """Item 2: `clean-net` whose state file ($BINDLAB_RUN_DIR/state.json) is a FIFO or
    a device: exit 2 at once naming the file; nothing removed, the plant left."""
    path = os.path.join(run_dir, 'state.json')
    words = planted(path, plant)
    res = harness('clean-net', env={'BINDLAB_RUN_DIR': run_dir})
    refused(res, path, 'not a bindlab state file', words)
    assert not stat.S_ISREG(os.lstat(path).st_mode)


def test_a_matrix_larger_than_the_cap_is_refused_unread(real_run, tmp_path):
    """Item 2: a matrix.json (sparse) larger than files.MAX_FILE_BYTES: `verify` exits 2
    naming the file and the cap, in 1 GiB of address space (it is not read)."""
    from harness import files
    folder = shard(real_run, str(tmp_path / 'big' / 'run'))
    path = os.path.join(folder, 'wrong-host', 'matrix.json')
    os.truncate(path, files.MAX_FILE_BYTES + 1)
    res = _verify(folder, real_run, str(tmp_path))
    refused(res, path, f'larger than {files.MAX_FILE_BYTES >> 20} MiB')


# -- item 5: text from a file reaches the console with its control bytes visible ----------

FORGED = 'bindlab: no cell changed'
EVIL_HOST = f'h1\n{FORGED}\x1b[2J'
EVIL_ADDR = f'10.0.0.1\n{FORGED}\r\x1b[2J'


def evil(cell):
    """cell (of a matrix or an expectation file) with the hostile host and column, and
    address where it has one."""
    out = dict(cell, host=EVIL_HOST, column=f'{cell["column"].split()[0]} {EVIL_ADDR}')
    if 'addr' in cell:
        out['addr'] = EVIL_ADDR
    return out


def evil_run(real_run, tmp_path):
    """A copy of real_run whose first cell is evil(); returns (folder, that cell's id)."""
    folder = shard(real_run, str(tmp_path / 'evil' / 'run'))
    path = os.path.join(folder, 'wrong-host', 'matrix.json')
    ids = []

    def change(matrix):
        matrix['cells'][0] = evil(matrix['cells'][0])
        ids.append(matrix['cells'][0]['id'])
        return matrix
    edit_json(path, change)
    return folder, ids[0]


def evil_expectation(real_run, tmp_path):
    """An expectation folder recorded from real_run whose first cell is evil()."""
    base = str(tmp_path / 'expect')
    res = harness('record', real_run, '--baseline', base)
    assert res.returncode == 0, res.stdout + res.stderr
    edit_json(os.path.join(base, 'wrong-host.json'),
              lambda data: dict(data, cells=[evil(data['cells'][0])] + data['cells'][1:]))
    return base


def harmless(res):
    """Assert no raw control byte (ESC, CR) and no line of the file's own on the
    console, and the hostile text shown with its bytes visible."""
    out = res.stdout + res.stderr
    assert 'Traceback' not in res.stderr, res.stderr[-2000:]
    assert not RAW_CONTROL.search(out) and '\r' not in out, repr(out[-2000:])
    assert not any(line.startswith(FORGED) for line in out.split('\n')), out[-2000:]
    assert 'h1\\x0abindlab: no cell changed\\x1b[2J' in out, out[-2000:]


def test_diff_shows_a_hostile_host_and_column_escaped(real_run, tmp_path):
    """Item 5: `diff` of a run and a copy whose first cell's host and column hold a
    newline, ESC [2J and a forged "no cell changed" line: exit 1, both change lines
    printed with the bytes as \\x0a \\x1b, no forged line."""
    folder, _cell = evil_run(real_run, tmp_path)
    res = harness('diff', real_run, folder)
    assert res.returncode == 1, res.stdout + res.stderr
    harmless(res)


def test_verify_shows_a_hostile_run_cell_escaped(real_run, tmp_path):
    """Item 5: `verify` of that copy against the committed expectation: exit 1, the
    change lines escaped."""
    folder, _cell = evil_run(real_run, tmp_path)
    res = harness('verify', folder, '--baseline', os.path.join(REPO, 'expectations'))
    assert res.returncode == 1, res.stdout + res.stderr
    harmless(res)


def test_verify_shows_a_hostile_expectation_cell_escaped(real_run, tmp_path):
    """Item 5: `verify` of the real run against an expectation file whose first cell's
    host and column are hostile: exit 1, the change lines escaped."""
    base = evil_expectation(real_run, tmp_path)
    res = harness('verify', real_run, '--baseline', base)
    assert res.returncode == 1, res.stdout + res.stderr
    harmless(res)


def test_explain_shows_a_hostile_cell_escaped(real_run, tmp_path):
    """Item 5: `explain` of the hostile cell (by its id): exit 0, every line of it
    escaped, no forged line."""
    folder, cell = evil_run(real_run, tmp_path)
    res = harness('explain', folder, cell)
    assert res.returncode == 0, res.stdout + res.stderr
    harmless(res)

