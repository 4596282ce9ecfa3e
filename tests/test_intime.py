"""A user's --server program judged in time (issue 23): does it survive a boot race?

One real network run (under the Mininet lock):

    flock /tmp/bindlab-mininet.lock /usr/bin/python3 -m pytest -q tests/test_intime.py

single,2 with the timed mutation addr-late on h1 (10.0.0.1 gone before anything
runs, back 1.5 s into the probe phase) and examples/retry_server.py, a plain Python
server that retries its bind of 10.0.0.1:6677 every 100 ms for 3 s, under the
syscall tracer (bindtrace-sys; the seed's server under addr-late is the preload
tracer's, in tests/test_derive.py).  Started at the timeline's t=0, kept running,
judged after the probe phase from the tracer's records over time:
- h1: OK, its tries EADDRNOTAVAIL until the address came, then listening, at a time
  inside the window the step defines (never an exact time);
- h2 (never holds 10.0.0.1): EADDRNOTAVAIL, its tries over its 3 s, then it exited
  with status 1 by itself, and its history says so;
- without the mutation (the control, no timeline) the server is decided as it
  starts, as before: OK on h1 at once, no history.
Without a network: a server's records read as its history, the history words of a
program that ended itself, and a slow and a hung server said as such.
"""

import re
import subprocess
import sys
import time
import types

import pytest

import harness_util as hu

REPO = hu.REPO
sys.path.insert(0, REPO)
from harness.judge import Cell  # noqa: E402
from harness.judge.history import words  # noqa: E402
from harness.probe.intime import history, InTime  # noqa: E402
from harness.probe.programs import Launch, Program  # noqa: E402
from harness.report import read_run  # noqa: E402

PY = sys.executable
SLACK_S = 0.15      # a runner's start, a try's own length, the two clocks
COLUMN = 'tcp server program'


@pytest.fixture(autouse=True)
def clean_machine():
    yield from hu.root_and_clean()


def _rec(op, at, error=None, port=6677, addr='10.0.0.1', t0=100.0, **kw):
    return dict(op=op, ok=error is None, error=error, addr=addr, port=port,
                elapsed_us=20, mono_ns=int((t0 + at) * 1e9), **kw)


def test_a_servers_records_read_as_its_history():
    """Each failed bind a try at its start, the listen OK at its return (ok_at); a
    runtime's own probe bind is no try; records without mono_ns (an older tracer)
    give no history."""
    launch = Launch(Program('server', 'srv'), 'h1', ['srv'], 'sp0', None)
    recs = [_rec('bind', 0.0, 'EAFNOSUPPORT', port=0, addr='::1'),     # Go's probe
            _rec('bind', 0.05, 'EADDRNOTAVAIL'), _rec('bind', 0.15, 'EADDRNOTAVAIL'),
            _rec('bind', 1.55), _rec('listen', 1.56)]
    tries, ok_at, last, bound = history(launch, recs, 100.0)
    assert tries == [[0.05, 'EADDRNOTAVAIL'], [0.15, 'EADDRNOTAVAIL'], [1.56, 'OK']]
    assert (ok_at, last['op'], bound['op']) == (1.56, 'listen', 'bind')
    old = [dict(r, mono_ns=None) for r in recs]
    assert history(launch, old, 100.0) is None


class _Here:
    """A host that is this machine's own namespace: popen runs the command here."""

    def popen(self, argv, **kw):
        return subprocess.Popen(argv, start_new_session=True, **kw)


class _Pids:
    """The state file's PID ledger, in memory."""

    def __init__(self):
        self.pids = set()

    def add_pid(self, pid, _name):
        self.pids.add(pid)

    def drop_pid(self, pid):
        self.pids.discard(pid)


def test_slow_and_hung_servers_are_said_as_such(tmp_path):
    """Without a network (this machine, where 192.0.2.1 is nobody's address): a
    server still retrying when its timeout from t=0 runs out is ERROR 'slow' with
    its tries, one that never binds is ERROR 'hung'; neither is a network outcome,
    both are stopped by PID."""
    slow = Program('server', f'{PY} {REPO}/examples/retry_server.py --host 192.0.2.1 '
                   '--retry-for 30', timeout_s=1.0)
    silent = Program('server', f'{PY} -c "import time; time.sleep(30)"', timeout_s=1.0)
    launches = [Launch(p, 'h1', p.argv(), f'sp{n}', None) for n, p in enumerate((slow, silent))]
    pids = _Pids()
    in_time = InTime(types.SimpleNamespace(state=pids, launches=launches), None)
    in_time.start(types.SimpleNamespace(get=lambda _h: _Here()), str(tmp_path),
                  time.monotonic())
    in_time.finish()
    got = [launch.outcome for launch in launches]
    assert not pids.pids and all(g['stopped'] and g['actual'] == 'ERROR' for g in got)
    assert got[0]['message'].startswith('slow: still not listening within 1 s of t=0')
    assert {w for _t, w in got[0]['tries']} == {'EADDRNOTAVAIL'} and len(got[0]['tries']) >= 4
    assert got[1]['message'].startswith('the program hung: no bind or listen within 1 s')


def test_history_of_a_program_that_ended_itself():
    cell = Cell(kind='bind', host='h1', column=COLUMN, expected='OK',
                actual='EADDRNOTAVAIL', verdict='fail', tries=[[0.021, 'EADDRNOTAVAIL']],
                exit=1, stopped=False)
    assert words(cell) == 'EADDRNOTAVAIL at 0.02 s, exited 1'
    assert words(cell.but(stopped=True)) == 'EADDRNOTAVAIL at 0.02 s'   # we stopped it
    late = cell.but(actual='OK', tries=[[0.0, 'EADDRNOTAVAIL'], [0.1, 'EADDRNOTAVAIL'],
                                        [1.6, 'OK']], ok_at=1.6, exit=None, stopped=True)
    assert words(late) == 'EADDRNOTAVAIL x2 -> OK at 1.60 s'


def test_a_retrying_server_survives_addr_late_and_says_when(tmp_path):
    res = hu.harness('run', '--topo', 'single,2', '--mutate', 'addr-late',
                     '--mutate-hosts', 'h1', '--mutate-networks', 'shared', '--trace',
                     'syscall', '--server', f'{PY} examples/retry_server.py',
                     '--client', f'{PY} examples/client.py {{addr}} {{port}} {{src}}',
                     '--out', str(tmp_path / 'out'))
    assert res.returncode == 1, res.stdout[-3000:] + res.stderr[-3000:]   # h2's Errno 99
    (matrix,) = read_run(str(tmp_path / 'out')).matrices
    control = {c.host: c for c in matrix['cells'] if c.column == COLUMN}
    assert control['h1'].actual == 'OK' and control['h1'].tries is None   # as before
    (entry,) = matrix['mutations']
    (step,) = [s for s in entry['steps'] if s['kind'] == 'timed']
    assert step['ok'] and 1.5 <= step['fired_s'] <= step['done_s'], step
    cells = {c.host: c for c in entry['cells'] if c.column == COLUMN}

    h1 = cells['h1']        # EADDRNOTAVAIL every 100 ms until 10.0.0.1 came, then OK
    assert (h1.actual, h1.verdict, h1.method) == ('OK', 'pass', 'syscall'), h1.to_json()
    assert [w for _t, w in h1.tries] == ['EADDRNOTAVAIL'] * (len(h1.tries) - 1) + ['OK']
    assert len(h1.tries) >= 10, h1.tries
    assert max(t for t, _w in h1.tries[:-1]) <= step['done_s'] + SLACK_S
    assert step['fired_s'] - SLACK_S <= h1.ok_at <= step['done_s'] + 0.5, (h1.ok_at, step)
    assert re.fullmatch(r'EADDRNOTAVAIL x\d+ -> OK at 1\.\d\d s', words(h1)), words(h1)
    assert h1.stopped and h1.control == 'OK' and not h1.changed

    h2 = cells['h2']        # 10.0.0.1 is never h2's: it gave up after its 3 s, exit 1
    assert (h2.actual, h2.verdict, h2.exit, h2.stopped) == ('EADDRNOTAVAIL', 'fail', 1,
                                                            False), h2.to_json()
    assert {w for _t, w in h2.tries} == {'EADDRNOTAVAIL'} and len(h2.tries) >= 20
    assert 2.5 <= h2.tries[-1][0] <= 4.0, h2.tries[-1]
    assert re.fullmatch(r'EADDRNOTAVAIL x\d+ at [23]\.\d\d s, exited 1', words(h2)), \
        words(h2)
    with open(tmp_path / 'out' / 'latest' / 'summary.md') as f:
        assert f'[addr-late h1] h2 bind {COLUMN}: expected OK, got EADDRNOTAVAIL ' \
               f'({words(h2)})' in f.read()

    # The client told the address runs after the timeline: the world of t=0 (10.0.0.1
    # not on h1 yet) is gone by then, so a connect of t=0 to it stays netprobe's and
    # says why; on the unmutated network (no timeline) the client takes it.
    late = [c for c in entry['cells'] if c.kind == 'connect' and
            c.column.startswith('tcp 10.0.0.1:')]
    assert late and all(c.method == 'netprobe' and 'this case\'s moment, t=0 s (a client '
                        'program runs after the timeline\'s last step, at 1.5 s)' in c.note
                        for c in late), [c.to_json() for c in late]
    assert all(c.method != 'netprobe' for c in matrix['cells'] if c.kind == 'connect'
               and c.column.startswith('tcp 10.0.0.1:'))
