"""The lab CLI, driven as a student drives it: through a pty, on a real Mininet network.

The wrong-host lab is opened with `python3 -m harness.lab wrong-host` under the
machine's Mininet lock; the test types what the lab sheet says, tries the sheet's
tempting wrong fix (a duplicate address: the goal holds, the guard names what broke),
undoes it, applies the sheet's fix, runs `check` inside the CLI and from outside
(`python3 -m harness.lab check`), sees it solved, leaves, and checks that nothing of
the lab is left.  Every other lab is solved from its own sheet the same way in
test_teach.py (with its students' variants and their wrong fixes, one network each;
scale's lesson is ended with SIGTERM and must clean up the same way).  The goal and
guard grammar and every lab sheet's goal, guard and wrong fixes are checked against
the real scenarios without a network.
"""

import json
import os
import re
import signal
import subprocess
import sys
import time

import pexpect
import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness_util as hu  # noqa: E402

from harness.judge import Cell  # noqa: E402
from harness.lab import goals  # noqa: E402
from harness.lab import lab  # noqa: E402
from harness.ledger import RUN_DIR  # noqa: E402

PYTHON = '/usr/bin/python3'
PROMPT = 'mininet> '
LAB_FILE = os.path.join(RUN_DIR, 'lab.json')


# -- helpers -----------------------------------------------------------------------------

def open_lab(scenario='wrong-host'):
    """Spawn the lab under the Mininet lock in a pty; returns it at its first prompt."""
    argv = hu.lock_argv() + [PYTHON, '-m', 'harness.lab', scenario, '--switch', 'lxbr']
    child = pexpect.spawn(argv[0], argv[1:],
                          cwd=REPO, encoding='utf-8', timeout=120,
                          env=dict(os.environ, TERM='dumb'))
    child.expect([PROMPT, pexpect.EOF], timeout=600)
    assert child.after == PROMPT, f'the lab did not open:\n{child.before[-3000:]}'
    return child


def type_line(child, line, timeout=60):
    """Type one CLI line, wait for the next prompt; returns what was printed."""
    child.sendline(line)
    child.expect(PROMPT, timeout=timeout)
    return child.before


def outside_check(*extra):
    """`python3 -m harness.lab check` from another 'terminal'."""
    return subprocess.run([PYTHON, '-m', 'harness.lab', 'check', *extra], cwd=REPO,
                          capture_output=True, text=True, timeout=120)


def lab_leftovers():
    """What an open lab creates and must not outlive it: lab.json, its bin folder,
    wrong-host's root-namespace names (s1 and its ports)."""
    left = []
    if os.path.exists(LAB_FILE):
        left.append(LAB_FILE)
    left += [os.path.join(RUN_DIR, d) for d in os.listdir(RUN_DIR)
             if d.startswith(('bin-', 'lab-', 'check-'))] if os.path.isdir(RUN_DIR) else []
    left += [n for n in ('s1', 's1-eth1', 's1-eth2', 's1-eth3')
             if os.path.exists(f'/sys/class/net/{n}')]
    return left


def wait_exit(child, timeout=60):
    child.expect(pexpect.EOF, timeout=timeout)
    child.close()
    return child.exitstatus


# -- a student's session -------------------------------------------------------------------

def test_wrong_host_lab_wrong_fix_then_right_fix():
    """Open, see what the sheet shows, try the tempting wrong fix (a duplicate address):
    the goal holds but `check` (inside and outside) names what broke and why; undo it,
    fix it the sheet's way, check (inside and outside): SOLVED; leave."""
    with open(os.path.join(REPO, 'labs', 'wrong-host.md'), encoding='utf-8') as f:
        sheet = f.read()
    wrong, undo, broke, _damage = WRONG_FIXES["wrong-host"]
    for line in SOLUTIONS['wrong-host']:
        assert f'mininet> {line}' in sheet, f'the sheet no longer shows: {line}'

    child = open_lab()
    try:
        banner = child.before
        assert 'h2 netprobe bind 10.0.0.1 6677' in banner
        assert 'h2 netprobe diagnose 10.0.0.1 6677' in banner
        assert '10.0.0.2/24' in banner and 'h2 bind tcp 10.0.0.1 -> OK' in banner
        assert 'now: not solved yet' in banner and 'and the guard: the ' in banner
        see_what_the_sheet_says(child, sheet)

        for line in wrong:
            type_line(child, line)
        out = type_line(child, 'check')
        assert 'not solved: the goal holds, but the fix broke' in out, out
        for name in broke:
            assert f'    {name}: ' in out, (name, out)
        assert 'why: two hosts hold one address (a duplicate address)' in out, out
        assert 'SOLVED' not in out
        out = type_line(child, f'explain {broke[0]}')
        assert 'broken (the guard)' in out and 'duplicate address' in out, out
        proc = outside_check('wrong-host')
        assert proc.returncode == 1 and 'the fix broke' in proc.stdout, proc
        assert f'    {broke[0]}: ' in proc.stdout, proc.stdout

        for line in undo + SOLUTIONS['wrong-host']:
            type_line(child, line)
        out = type_line(child, 'check')
        assert 'h1 bind tcp 10.0.0.1: OK -> EADDRNOTAVAIL' in out
        assert 'SOLVED: the goal holds' in out, out
        out = type_line(child, 'h3 netprobe connect 10.0.0.1 7001')
        assert '"peer_host":"h2"' in out          # the address now leads to h2

        proc = outside_check()
        assert proc.returncode == 0 and 'SOLVED' in proc.stdout, proc

        child.sendline('exit')
        assert wait_exit(child) == 0
    finally:
        if child.isalive():
            child.terminate(force=True)
    assert lab_leftovers() == []
    proc = outside_check()
    assert proc.returncode == 2 and 'no lab is open' in proc.stderr


def sigterm_the_lab(child):
    """SIGTERM to the lab process leaves nothing behind (like leaving the CLI)."""
    with open(LAB_FILE) as f:
        info = json.load(f)
    shells = list(info['hosts'].values())
    assert all(os.path.exists(f'/proc/{pid}') for pid in shells)
    os.kill(info['pid'], signal.SIGTERM)
    assert wait_exit(child) == 0
    assert lab_leftovers() == []
    deadline = time.monotonic() + 10
    while any(os.path.exists(f'/proc/{pid}') for pid in shells) and \
            time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(os.path.exists(f'/proc/{pid}') for pid in shells)


# -- usage ---------------------------------------------------------------------------------

def test_usage_errors_exit_2():
    """No scenario, an unknown scenario, a stray argument: exit 2 with a message."""
    for argv, words in ((['-m', 'harness.lab'], 'name a scenario'),
                        (['-m', 'harness.lab', 'no-such-lab', '--switch', 'lxbr'],
                         'unknown scenario'),
                        (['-m', 'harness.lab', 'wrong-host', 'extra'], 'unexpected')):
        proc = subprocess.run([PYTHON, *argv], cwd=REPO, capture_output=True, text=True,
                              timeout=60)
        assert proc.returncode == 2 and words in proc.stderr, (argv, proc)


# -- goals -----------------------------------------------------------------------------------

def _cells(scenario):
    """The scenario's cells as the harness labels them (no network needed)."""
    return [Cell(id=f'{c.kind[0]}{i}', kind=c.kind, host=c.host, column=c.label(),
                 expected=c.expect.outcome, actual=c.expect.outcome, peer=c.expect.peer,
                 verdict='pass', expected_peer=c.expect.peer)
            for i, c in enumerate(scenario.cases)]


def test_goal_grammar():
    text = ('x\n```goal\n# a comment\nh2 bind tcp 10.0.0.1 -> OK\n'
            '* connect tcp 10.0.0.1:7001 -> OK h1\nall cells pass\n```\n')
    lines = goals.read_goal(text)
    assert [ln for _, ln in lines] == ['h2 bind tcp 10.0.0.1 -> OK',
                                       '* connect tcp 10.0.0.1:7001 -> OK h1',
                                       'all cells pass']
    sc = lab.find_scenario('wrong-host', [])
    cells = _cells(sc)
    reqs = goals.parse_goal(lines, cells, 'sheet')
    holds, missing = goals.judge_goal(reqs, cells)
    assert not holds and len(missing) == 1      # h2 gets EADDRNOTAVAIL, not OK
    for cell in cells:
        if cell.column == 'tcp 10.0.0.1' and cell.kind == 'bind':
            cell.actual = 'OK'
    holds, missing = goals.judge_goal(reqs, cells)
    assert holds and not missing
    with pytest.raises(goals.LabError, match='line 2'):
        goals.parse_goal([(2, 'h2 bind tcp 10.9.9.9 -> OK')], cells, 'sheet')
    with pytest.raises(goals.LabError, match='line 3'):
        goals.parse_goal([(3, 'h2 binds 10.0.0.1')], cells, 'sheet')


def test_changes_lists_only_changed_cells():
    before = [Cell(id='b1', kind='bind', host='h2', column='tcp 10.0.0.1',
                   expected='EADDRNOTAVAIL', actual='EADDRNOTAVAIL', verdict='pass'),
              Cell(id='c2', kind='connect', host='h3', column='tcp 10.0.0.1:7001',
                   expected='OK', actual='OK', peer='h1', verdict='pass')]
    after = [before[0].but(), before[1].but(peer='h2')]
    assert goals.changes(before, after) == [
        'h3 connect tcp 10.0.0.1:7001: OK (answered by h1) -> OK (answered by h2)']


def test_every_sheet_has_a_goal_a_guard_and_wrong_fixes():
    """Every lab sheet has a goal and a guard that name real cells of the scenario of
    the same name, and a "Wrong fixes" section that shows its tempting wrong fix."""
    from harness.scenarios.suite import load_all
    repo, _ = load_all([])
    known = {sc.name: sc for sc in repo}
    sheets = sorted(f[:-3] for f in os.listdir(os.path.join(REPO, 'labs'))
                    if f.endswith('.md'))
    assert sheets == sorted(SOLUTIONS) == sorted(WRONG_FIXES)
    for name in sheets:
        with open(os.path.join(REPO, 'labs', f'{name}.md'), encoding='utf-8') as f:
            text = f.read()
        assert name in known, f'{name}.md: no scenario of that name'
        cells = _cells(known[name])
        assert goals.parse_goal(goals.read_goal(text), cells, name), f'{name}: no goal'
        guard = goals.parse_guard(goals.read_guard(text), cells, name)
        assert guard['words'], f'{name}: its guard block says no why (if OUTCOME: ...)'
        assert '\n## Wrong fixes\n' in text, f'{name}: no "## Wrong fixes" section'
        wrong = text.split('\n## Wrong fixes\n', 1)[1].split('\n## ', 1)[0]
        lines = WRONG_FIXES[name][0]
        assert any(f'mininet> {line}' in wrong for line in lines), name
        for line in lines:
            assert f'mininet> {line}' in text, f'{name}: the sheet no longer shows {line}'


def test_guard_grammar_and_judge():
    """The issue's case: the goal holds, a guarded cell changed: broken, in the sheet's
    words; a guard line allows what the sheet's fix changes; goal cells and cells
    that did not pass at the start are not guarded."""
    text = ('```guard\n# comment\nh1 connect * -> ENETUNREACH\n'
            'if ETIMEDOUT: two hosts hold one address\nif other: something else\n```\n')
    sc = lab.find_scenario('wrong-host', [])
    cells = _cells(sc)
    guard = goals.parse_guard(goals.read_guard(text), cells, 'sheet')
    assert len(guard['allowed']) == 1 and len(guard['words']) == 2
    reqs = goals.parse_goal([(1, 'h2 bind tcp 10.0.0.1 -> OK')], cells, 'sheet')
    guarded = [c.id for c in cells]
    by_name = {(c.host, c.kind, c.column): c for c in cells}

    def now(host, kind, column, actual, peer=None):
        cell = by_name[(host, kind, column)]
        cell.actual, cell.peer = actual, peer
        cell.verdict = 'pass' if (actual, peer) == (cell.expected,
                                                    cell.expected_peer) else 'fail'
        return cell
    now('h2', 'bind', 'tcp 10.0.0.1', 'OK')                 # the goal: not guarded
    assert goals.judge_guard(guard, reqs, guarded, cells) == []
    now('h1', 'connect', 'tcp 10.0.0.2:7001', 'ENETUNREACH')    # allowed by the guard
    assert goals.judge_guard(guard, reqs, guarded, cells) == []
    bad = now('h1', 'connect', 'tcp 10.0.0.2:7001', 'ETIMEDOUT')
    assert goals.judge_guard(guard, reqs, guarded, cells) == [bad]
    assert goals.broke_line(bad) == \
        'h1 connect tcp 10.0.0.2:7001: OK (answered by h2) -> ETIMEDOUT'
    assert goals.guard_words(guard, bad) == 'two hosts hold one address'
    assert goals.judge_guard(guard, reqs, [c.id for c in cells if c is not bad],
                             cells) == []      # it did not pass at the start
    other = now('h3', 'connect', 'tcp 10.0.0.2:7001', 'OK', 'h1')
    assert goals.guard_words(guard, other) == 'something else'
    assert goals.judge_guard(guard, [{'text': 'all cells pass', 'all': True}], guarded,
                             cells) == []      # every cell is the goal's
    with pytest.raises(goals.LabError, match='line 4: guard line'):
        goals.parse_guard([(4, 'h9 bind tcp 10.0.0.1 -> OK')], cells, 'sheet')
    with pytest.raises(goals.LabError, match='line 5'):
        goals.parse_guard([(5, 'all cells pass')], cells, 'sheet')


# -- every lab can be solved with its own sheet's commands --------------------------------------

# The commands a student types from each sheet's Fixes to reach its goal.  Each one
# must appear in the sheet verbatim (as `mininet> CMD`), so sheet and test cannot drift.
SOLUTIONS = {
    'wrong-host': ['h1 ip addr del 10.0.0.1/24 dev h1-eth0',
                   'h2 ip addr add 10.0.0.1/24 dev h2-eth0',
                   'h3 ip neigh flush dev h3-eth0'],
    'lost-address': ['h1 ip addr add 10.0.0.1/24 dev h1-eth0',
                     'h3 ip link set dev h3-eth0 up'],
    'ipv6-dad': ['h2 ip addr del fd00::2/64 dev h2-eth0',
                 'h2 ip addr add fd00::2/64 dev h2-eth0 nodad',
                 'h1 ip -6 neigh flush dev h1-eth0'],
    'nonlocal-bind': ['h1 ip addr del 10.0.0.1/24 dev h1-eth0',
                      'h2 ip addr add 10.0.0.1/24 dev h2-eth0',
                      'h3 ip neigh flush dev h3-eth0'],
    'home-router-nat': ['r1 nft add rule ip nat prerouting iifname "r1-eth1" tcp dport 6678 '
                        'dnat to 192.168.1.50:6678',
                        'r1 nft flush chain ip filter forward'],
    'docker-bridge': ['c1 netprobe serve --lifetime 900 172.17.0.2 80 &',
                      'c2 netprobe serve --lifetime 900 0.0.0.0 80 &',
                      'c3 netprobe serve --lifetime 900 0.0.0.0 81 &',
                      'c5 sysctl -w net.ipv6.conf.all.disable_ipv6=0',
                      'c5 sysctl -w net.ipv6.conf.lo.disable_ipv6=0'],
    'port-exhaustion': ['h1 sysctl -w net.ipv4.ip_local_port_range="32768 60999"',
                        'h4 sysctl -w net.ipv4.ip_local_port_range="32768 60999"'],
    'port-conflicts': ['h1 sysctl -w net.ipv6.bindv6only=1'],
    'routed-subnets': ['h1 ip route add default via 10.0.1.1',
                       'h1 ip -6 route add default via fd00:1::1',
                       'h2 ip route replace 10.0.2.0/24 via 10.0.1.1',
                       'h2 ip -6 route replace fd00:2::/64 via fd00:1::1',
                       'r1 nft flush chain inet filter forward'],
    'scale': [],
    'multicast': ['h1 ip addr add 10.0.0.11/24 dev h1-eth0'],
    'udp-source': ['h3 ip addr del 10.0.0.12/24 dev h3-eth0',
                   'h1 ip addr add 10.0.0.12/24 dev h1-eth0'],
    'boot-race': ['h1 ip addr add 10.0.0.10/24 dev h1-eth0',
                  'h2 ip neigh flush dev h2-eth0'],
    'names': ['h1 echo 127.0.0.1 localhost >> /etc/hosts',
              'h2 echo 127.0.0.1 localhost > /etc/hosts',
              'h2 echo 10.0.0.2 app.example.test app >> /etc/hosts',
              'h3 echo 127.0.0.1 localhost > /etc/hosts',
              'h3 echo 10.0.0.3 db.test >> /etc/hosts'],
    'bring-your-own-network': ['app sysctl -w net.ipv4.ip_nonlocal_bind=1'],
    'vip-failover': ['h1 ip addr del 10.0.0.100/24 dev h1-eth0',
                     'h2 ip addr add 10.0.0.100/24 dev h2-eth0',
                     'h3 ip neigh flush dev h3-eth0'],
    'link-flap': ['h1 ip link set dev h1-eth0 up',
                  'h1 netprobe bind --retry-for 2 fd00::1 6677',
                  'h2 ip -6 neigh flush dev h2-eth0'],
}

# The tempting wrong fix of each lab (its commands shown in the sheet as `mininet> CMD`,
# the first in its "Wrong fixes" section; some include the sheet's fix), how the test
# undoes it (then the sheet's fix is typed), the cells `check` must name, and whether
# the goal holds with it (collateral damage, graded so) or not.
WRONG_FIXES = {
    'wrong-host': (['h2 ip addr add 10.0.0.1/24 dev h2-eth0'],
                   ['h2 ip addr del 10.0.0.1/24 dev h2-eth0'],
                   ['h1 connect tcp 10.0.0.2:7001'], True),
    'lost-address': (['h1 sysctl -w net.ipv4.ip_nonlocal_bind=1',
                      'h1 ip addr add 10.0.0.1/24 dev h1-eth0',
                      'h3 ip link set dev h3-eth0 up'],
                     ['h1 sysctl -w net.ipv4.ip_nonlocal_bind=0',
                      'h1 ip addr del 10.0.0.1/24 dev h1-eth0',
                      'h3 ip link set dev h3-eth0 down'],
                     ['h1 bind tcp 10.0.0.2'], True),
    'nonlocal-bind': (SOLUTIONS['nonlocal-bind'] +
                      ['h2 sysctl -w net.ipv4.ip_nonlocal_bind=1'],
                      ['h2 sysctl -w net.ipv4.ip_nonlocal_bind=0'],
                      ['h2 bind tcp 10.0.0.3'], True),
    'ipv6-dad': (SOLUTIONS['ipv6-dad'] + ['h3 ip addr del fd00::1/64 dev h3-eth0',
                                          'h3 ip addr add fd00::1/64 dev h3-eth0 nodad'],
                 ['h3 ip addr del fd00::1/64 dev h3-eth0',
                  'h3 ip addr add fd00::1/64 dev h3-eth0',
                  'h1 ip -6 neigh flush dev h1-eth0', 'h2 ip -6 neigh flush dev h2-eth0',
                  'h3 sleep 2'],
                 ['h3 bind tcp fd00::1'], True),
    'home-router-nat': (['srv ip addr add 203.0.113.1/32 dev srv-eth0']
                        + SOLUTIONS['home-router-nat'],
                        ['srv ip addr del 203.0.113.1/32 dev srv-eth0'],
                        ['srv bind tcp 203.0.113.1'], True),
    'docker-bridge': (SOLUTIONS['docker-bridge'] +
                      ['c5 netprobe serve --lifetime 900 0.0.0.0 5000 &'],
                      ['c5 kill %%'],
                      ['c5 connect tcp 127.0.0.1:5000'], True),
    'port-exhaustion': (['h2 sysctl -w net.ipv4.ip_local_port_range="32768 60999"',
                         'h3 sysctl -w net.ipv4.ip_local_port_range="32768 60999"'],
                        [], ['h1 connect tcp 10.0.0.2:5001 hold #3'], False),
    'port-conflicts': (['h2 sysctl -w net.ipv6.bindv6only=1'],
                       ['h2 sysctl -w net.ipv6.bindv6only=0'],
                       ['h1 bind tcp [::]:7000'], False),
    'routed-subnets': (['h1 ip route add default dev h1-eth0']
                       + SOLUTIONS['routed-subnets'][1:],
                       ['h1 ip route del default dev h1-eth0',
                        'h1 ip -6 route del default via fd00:1::1'],
                       ['h1 connect tcp 10.0.2.10:5001 timeout=300',
                        'h1 connect udp 10.0.2.10:5002 timeout=300'], False),
    'boot-race': (['h1 sysctl -w net.ipv4.ip_nonlocal_bind=1'],
                  ['h1 sysctl -w net.ipv4.ip_nonlocal_bind=0'],
                  ['h2 connect tcp 10.0.0.10:7001 timeout=300'], False),
    'scale': (['h4 ip addr del 10.0.0.4/16 dev h4-eth0'],
              ['h4 ip addr add 10.0.0.4/16 dev h4-eth0'], ['h4 bind tcp 10.0.0.4'], False),
    'multicast': (['h1 sysctl -w net.ipv4.ip_nonlocal_bind=1'],
                  ['h1 sysctl -w net.ipv4.ip_nonlocal_bind=0'],
                  ['h1 join udp 239.1.1.1@10.0.0.11'], False),
    'udp-source': (['h1 sysctl -w net.ipv4.ip_nonlocal_bind=1'],
                   ['h1 sysctl -w net.ipv4.ip_nonlocal_bind=0'],
                   ['h1 send udp 10.0.0.12->10.0.0.2:7002'], False),
    'names': (['h1 sysctl -w net.ipv6.conf.all.disable_ipv6=0',
               'h1 sysctl -w net.ipv6.conf.lo.disable_ipv6=0'],
              ['h1 sysctl -w net.ipv6.conf.lo.disable_ipv6=1',
               'h1 sysctl -w net.ipv6.conf.all.disable_ipv6=1'],
              ['h1 bind tcp localhost'], False),
    'bring-your-own-network': (['app ip addr add 10.0.0.50/24 dev eth0'],
                               ['app ip addr del 10.0.0.50/24 dev eth0'],
                               ['app connect tcp 10.0.0.50:443'], True),
    'vip-failover': (['h2 sysctl -w net.ipv4.ip_nonlocal_bind=1'],
                     ['h2 sysctl -w net.ipv4.ip_nonlocal_bind=0'],
                     ['h2 bind tcp 10.0.0.100'], False),
    'link-flap': (['h1 sysctl -w net.ipv6.ip_nonlocal_bind=1'],
                  ['h1 sysctl -w net.ipv6.ip_nonlocal_bind=0'],
                  ['h2 connect tcp [fd00::1]:7001 timeout=300'], False),
}


_TOKEN = re.compile(r'"(\w+)":("[^"]*"|true|false|null|-?\d+)')
_UNSTABLE = {'local', 'elapsed_us', 'sport', 'timeout_ms'}   # vary from run to run


def sheet_expectations(sheet):
    """[(command, [[token, ...], ...])] from a sheet's "What you will see" blocks.

    A `mininet> CMD` line is a command; each `{... "key":value ...}` line under it is
    one record the command must print (every shown key:value in one output line, the
    run-dependent ones left out); an `OSError: [Errno ...` line must appear as is.
    """
    section = sheet.split('## What you will see', 1)[1].split('\n## ', 1)[0]
    out, inside = [], False
    for line in section.splitlines():
        text = line.strip()
        if text.startswith('```'):
            inside = not inside
        elif inside and text.startswith('mininet> '):
            out.append((text[len('mininet> '):], []))
        elif inside and out and text.startswith('{'):
            tokens = [f'"{k}":{v}' for k, v in _TOKEN.findall(text) if k not in _UNSTABLE]
            if tokens:
                out[-1][1].append(tokens)
        elif inside and out and 'OSError: [Errno' in text:
            out[-1][1].append([text])
    return out


def see_what_the_sheet_says(child, sheet):
    """Type every command of "What you will see"; each shown record must come out."""
    for command, records in sheet_expectations(sheet):
        out = type_line(child, command, timeout=120)
        lines = out.splitlines()
        for tokens in records:
            assert any(all(t in ln for t in tokens) for ln in lines), \
                f'`{command}` did not print a line with {tokens}:\n{out}'
