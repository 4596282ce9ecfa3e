"""Errno 99 in time: the timeline, cells in time and the boot-race scenario.

Without a network: timed steps and expectations in time are validated (bounded,
faults only, before= needs retry=), a cell's history reads as the issue says
(`EADDRNOTAVAIL x3 -> OK at 1.52 s`, the probe's own budget running out said as
such), the time rule fails a late or an at-once success, a cell without tries is
written as before, and a hostile `tries` or `timeline` is refused.

On one real network run (under the Mininet lock): boot-race as the default suite
has it, beside a variant whose expectations are too strict in time (it must fail,
saying why), vip-failover (who answers on the VIP before and after it moves) and
link-flap (the IPv6 re-DAD window).  The steps fire inside the hosts at their
second; every try before the address arrived failed, the first after it succeeded,
within a window the steps define (never an exact time); the console, summary.md,
junit.xml and report.html show the histories.
"""

import json
import os
import sys

import pytest

import harness_util as hu

REPO = hu.REPO
sys.path.insert(0, REPO)
from harness.errors import BadInput  # noqa: E402
from harness.judge import Cell  # noqa: E402
from harness.judge.history import words, wrong_time  # noqa: E402
from harness.report import read_run  # noqa: E402
from harness.scenario import (Scenario, ScenarioError, addr_add, at, bind,  # noqa: E402
                              explicit, validate)

sys.path.insert(0, os.path.join(REPO, 'topologies'))
import boot_race  # noqa: E402

SLACK_S = 0.15      # a runner's start, a try's own length, the two clocks

STRICT_FILE = '''
import dataclasses, os, sys
sys.path.insert(0, os.path.join({repo!r}, 'topologies'))
import boot_race
from harness.scenario import bind, explicit

base = boot_race.scenarios[0]
cases = (
    bind('h1', boot_race.LATE, 6678, explicit('OK', 'too strict: the address comes at 1 s',
         within=0.5), options=('retry=3', 'every=100')),
    bind('h1', boot_race.LATE, 6679, explicit('OK', 'freebind never fails first',
         before='EADDRNOTAVAIL'), options=('freebind', 'retry=1')),
    bind('h1', '10.0.0.99', 6681, explicit('EADDRNOTAVAIL', 'never arrives: gives up'),
         options=('retry=0.5', 'every=100')),
)
scenarios = [dataclasses.replace(base, name='boot-race-strict', cases=cases,
                                 default=False)]
'''


# -- without a network ---------------------------------------------------------------------

def _scenario(**kw):
    base = boot_race.scenarios[0]
    return Scenario(**{**{f: getattr(base, f) for f in ('name', 'title', 'topo', 'cases',
                                                          'faults', 'servers')}, **kw})


@pytest.mark.parametrize('change, message', [
    (dict(faults=(at(-1, addr_add('h1', '10.0.0.10/24', 'h1-eth0', 'x')),)), 'at -1'),
    (dict(faults=(at(61, addr_add('h1', '10.0.0.10/24', 'h1-eth0', 'x')),)), 'at 61'),
    (dict(faults=(at('1', addr_add('h1', '10.0.0.10/24', 'h1-eth0', 'x')),)), "at '1'"),
    (dict(setup=(at(1, addr_add('h1', '10.0.0.10/24', 'h1-eth0', 'x')),)), 'setup step'),
    (dict(cases=(bind('h1', '10.0.0.10', 1, explicit('OK', 'x', within=0)),)), 'within 0'),
    (dict(cases=(bind('h1', '10.0.0.10', 1, explicit('OK', 'x', before='OK'),
                      options=('retry=1',)),)), "before 'OK'"),
    (dict(cases=(bind('h1', '10.0.0.10', 1, explicit('OK', 'x', before='EADDRNOTAVAIL')),)),
     'before= needs a case that retries'),
    (dict(cases=(bind('h1', '10.0.0.10', 1, explicit('OK', 'x'), options=('retry=1.2345',)),)),
     'retry=1.2345'),
    (dict(cases=(bind('h1', '10.0.0.10', 1, explicit('OK', 'x'),
                      options=('retry=60', 'every=100')),)), 'more than 100 tries'),
    (dict(cases=(bind('h1', '10.0.0.10', 1, explicit('OK', 'x'), options=('every=100',)),)),
     'every=100 needs retry='),
    (dict(cases=(bind('h1', '10.0.0.10', 1, explicit('OK', 'x'), options=('delay=0',)),)),
     'delay=0'),
])
def test_time_in_a_scenario_is_validated(change, message):
    sc = _scenario(**change)
    with pytest.raises(ScenarioError, match=message.replace('(', r'\(')):
        validate(sc, sc.topo())
    validate(boot_race.scenarios[0], boot_race.BootRaceTopo())


def _cell(tries, ok_at=None, **kw):
    actual = tries[-1][1] if tries else kw.pop('actual', 'OK')
    return Cell(kind='bind', host='h1', column='tcp 10.0.0.10', expected='OK',
                actual=actual, verdict='pass', tries=tries, ok_at=ok_at, **kw)


def test_history_words_and_the_time_rule():
    late = _cell([[0.0, 'EADDRNOTAVAIL'], [0.5, 'EADDRNOTAVAIL'], [1.0, 'EADDRNOTAVAIL'],
                  [1.52, 'OK']], 1.521, options=['retry=3', 'every=500'])
    assert words(late) == 'EADDRNOTAVAIL x3 -> OK at 1.52 s'
    gave_up = _cell([[0.0, 'EADDRNOTAVAIL'], [0.4, 'EADDRNOTAVAIL']],
                    options=['retry=0.5', 'every=400'])
    assert words(gave_up) == 'EADDRNOTAVAIL x2, gave up at 0.40 s (retry=0.5)'
    assert words(_cell(None)) == ''
    assert not wrong_time(late.but(expected_within=2, expected_before='EADDRNOTAVAIL'))
    assert wrong_time(late.but(expected_within=1.5))                 # too late
    assert wrong_time(late.but(expected_before='ETIMEDOUT'))         # another failure
    at_once = _cell([[0.01, 'OK']], 0.011)
    assert wrong_time(at_once.but(expected_before='EADDRNOTAVAIL'))  # no race shown
    assert wrong_time(_cell(None, elapsed_us=3_000_000).but(expected_within=2))
    assert not wrong_time(_cell(None, elapsed_us=20).but(expected_within=2))


def test_a_cell_without_tries_is_written_as_before():
    plain = _cell(None).to_json()
    assert not {'tries', 'ok_at', 'expected_within', 'expected_before'} & set(plain)
    timed = _cell([[0.1, 'OK']], 0.1).to_json()
    assert timed['tries'] == [[0.1, 'OK']] and timed['ok_at'] == 0.1
    assert Cell.of_json(timed, 'here').tries == [[0.1, 'OK']]
    for bad in ([[0.1]], [['0.1', 'OK']], [[True, 'OK']], [[0.1, 99]], 'OK'):
        with pytest.raises(BadInput, match='tries'):
            Cell.of_json(dict(timed, tries=bad), 'here')


# -- one real network ----------------------------------------------------------------------

@pytest.fixture(scope='module')
def boot_run(tmp_path_factory):
    """boot-race, its too-strict variant, vip-failover and link-flap in one
    `harness run` (a network each)."""
    tmp = tmp_path_factory.mktemp('boot')
    for _ in hu.root_and_clean():
        path = tmp / 'strict.py'
        path.write_text(STRICT_FILE.format(repo=REPO))
        res = hu.harness('run', '--out', str(tmp / 'out'), '--scenario-file', str(path),
                         'boot-race', 'boot-race-strict', 'vip-failover', 'link-flap')
        run = read_run(str(tmp / 'out'))
        yield res, run, {m['scenario']: m for m in run.matrices}


def _by(matrix):
    return {(c.kind, c.host, c.column): c for c in matrix['cells']}


def test_boot_race_passes_in_time(boot_run):
    res, _run, matrices = boot_run
    m = matrices['boot-race']
    bad = [c.to_json() for c in m['cells'] if c.verdict != 'pass']
    assert not bad, (bad, res.stdout[-3000:], res.stderr[-3000:])
    steps = m['timeline']
    assert [s['host'] for s in steps] == ['h1', 'h3'] and all(s['ok'] for s in steps)
    for step in steps:      # fired at its second, inside the window, never early
        assert 1.0 <= step['fired_s'] <= step['done_s'] <= 1.0 + SLACK_S + 0.2, step
    arrived = steps[0]['done_s']
    cells = _by(m)
    retry = cells[('bind', 'h1', 'tcp 10.0.0.10 retry=3 every=100')]
    before = [t for t, w in retry.tries if w != 'OK']
    assert retry.tries[-1][1] == 'OK' and len(before) >= 5
    assert all(w == 'EADDRNOTAVAIL' for _t, w in retry.tries[:-1])
    assert max(before) <= arrived + SLACK_S                    # failed while it was not there
    assert arrived - SLACK_S <= retry.ok_at <= arrived + 0.1 + SLACK_S   # then bound
    plain = cells[('bind', 'h1', 'tcp 10.0.0.10')]
    assert plain.actual == 'EADDRNOTAVAIL' and plain.tries is None
    for key in (('bind', 'h1', 'tcp 10.0.0.10 freebind'), ('bind', 'h3', 'tcp 10.0.0.30')):
        assert cells[key].actual == 'OK' and cells[key].elapsed_us < 500_000
    connect = cells[('connect', 'h2', 'tcp 10.0.0.10:7001 retry=3 every=100 timeout=300')]
    assert connect.peer == 'h1' and connect.ok_at >= arrived - SLACK_S
    assert {w for _t, w in connect.tries[:-1]} <= {'ETIMEDOUT', 'EHOSTUNREACH'}
    for early in ('tcp 10.0.0.10:7001 timeout=300', 'tcp 10.0.0.30:7003 timeout=300'):
        assert cells[('connect', 'h2', early)].actual == 'ETIMEDOUT'    # nothing heard
    late = cells[('connect', 'h2', 'tcp 10.0.0.30:7003 retry=3 every=100 timeout=300')]
    assert late.peer == 'h3' and late.ok_at >= arrived - SLACK_S   # nonlocal: after
    for key in (('bind', 'h1', 'tcp 10.0.0.10 delay=1500'),
                ('connect', 'h2', 'tcp 10.0.0.10:7001 delay=1500'),
                ('connect', 'h2', 'tcp 10.0.0.30:7003 delay=1500')):
        assert cells[key].tries[0][0] >= 1.5 - SLACK_S and len(cells[key].tries) == 1
    assert 'EADDRNOTAVAIL x' in res.stdout and 'timeline of boot-race' in res.stdout


def test_a_race_judged_in_time_fails_saying_why(boot_run):
    res, run, matrices = boot_run
    assert res.returncode == 1, res.stderr[-2000:]
    cells = _by(matrices['boot-race-strict'])
    late = cells[('bind', 'h1', 'tcp 10.0.0.10 retry=3 every=100')]
    assert late.actual == 'OK' and late.verdict == 'fail' and late.ok_at > 0.5
    free = cells[('bind', 'h1', 'tcp 10.0.0.10 freebind retry=1')]
    assert free.actual == 'OK' and free.verdict == 'fail' and len(free.tries) == 1
    never = cells[('bind', 'h1', 'tcp 10.0.0.99 retry=0.5 every=100')]
    assert never.verdict == 'pass' and never.ok_at is None
    assert words(never).endswith('gave up at 0.40 s (retry=0.5)') or \
        'gave up at 0.' in words(never), words(never)
    folder = run.folder
    summary = open(os.path.join(folder, 'summary.md')).read()
    assert 'expected OK within 0.5 s, got OK (EADDRNOTAVAIL x' in summary
    assert 'expected EADDRNOTAVAIL, then OK, got OK (OK at' in summary
    junit = open(os.path.join(folder, 'junit.xml')).read()
    assert '<system-out>EADDRNOTAVAIL x' in junit and 'within 0.5 s' in junit
    page = open(os.path.join(folder, 'report.html')).read()
    assert '<pre class="timeline">' in page and 'ip addr add 10.0.0.10/24' in page
    matrix = json.load(open(os.path.join(folder, 'boot-race', 'matrix.json')))
    assert len(matrix['timeline']) == 2


def test_vip_failover_moves_who_answers(boot_run):
    _res, _run, matrices = boot_run
    m = matrices['vip-failover']
    bad = [c.to_json() for c in m['cells'] if c.verdict != 'pass']
    assert not bad, bad
    moved = max(s['done_s'] for s in m['timeline'])
    assert all(s['ok'] and 1.0 <= s['fired_s'] for s in m['timeline'])
    cells = _by(m)
    before = cells[('connect', 'h3', 'tcp 10.0.0.100:7001 timeout=300')]
    after = cells[('connect', 'h3', 'tcp 10.0.0.100:7001 delay=1500')]
    assert (before.peer, after.peer) == ('h1', 'h2')
    assert before.elapsed_us < 1e6 * 1.0 and after.ok_at >= moved     # in that order
    backup = cells[('bind', 'h2', 'tcp 10.0.0.100 retry=2 every=100')]
    assert backup.ok_at >= moved - SLACK_S and backup.tries[0][1] == 'EADDRNOTAVAIL'
    master = cells[('bind', 'h1', 'tcp 10.0.0.100 delay=1500')]
    assert master.actual == 'EADDRNOTAVAIL' and master.tries[0][0] >= moved


def test_link_flap_shows_the_re_dad_window(boot_run):
    """The link comes back at 1 s; fd00::1 was tentative while it was down and until
    its DAD after it was over (one probe of 500 ms), IPv4 and the nodad address usable
    all along, the freebind listener answering only after DAD."""
    _res, _run, matrices = boot_run
    m = matrices['link-flap']
    bad = [c.to_json() for c in m['cells'] if c.verdict != 'pass']
    assert not bad, bad
    (up,) = m['timeline']
    assert up['ok'] and 1.0 <= up['fired_s'] <= up['done_s'], up
    cells = _by(m)
    retry = cells[('bind', 'h1', 'tcp fd00::1 retry=3 every=100')]
    assert {w for _t, w in retry.tries[:-1]} == {'EADDRNOTAVAIL'}
    assert [t for t, _w in retry.tries if t < up['fired_s']]     # tried while it was down
    assert up['done_s'] + 0.3 <= retry.ok_at <= up['done_s'] + 2.0   # DAD ran again
    reach = cells[('connect', 'h2', 'tcp [fd00::1]:7001 retry=3 every=100 timeout=300')]
    assert reach.peer == 'h1' and reach.ok_at >= retry.ok_at - SLACK_S   # after DAD
    assert cells[('connect', 'h2', 'tcp [fd00::1]:7001 timeout=300')].actual == 'ETIMEDOUT'
    for key in (('bind', 'h1', 'tcp 10.0.0.1'), ('bind', 'h1', 'tcp fd00::11'),
                ('bind', 'h1', 'tcp fd00::1 freebind')):
        assert cells[key].actual == 'OK' and cells[key].elapsed_us < 500_000, key
