"""The lab CLI, driven as a student drives it: through a pty, on a real Mininet network.

The wrong-host lab is opened with `python3 -m harness.lab wrong-host` under the
machine's Mininet lock; the test types what the lab sheet says (the failing bind, the
seed's server, `check`), applies one fix from the sheet, runs `check` inside the CLI
and from outside (`python3 -m harness.lab check`), sees it solved, leaves, and checks
that nothing of the lab is left.  A second lab is ended with SIGTERM instead and must
clean up the same way.  The goal grammar and every lab sheet's goal block are checked
against the real scenarios without a network.
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

from harness import goals, lab  # noqa: E402
from harness.state import RUN_DIR  # noqa: E402

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

def test_wrong_host_lab_open_fail_fix_check_solved():
    """Open, see Errno 99, fix it the sheet's way, check (inside and outside), leave."""
    with open(os.path.join(REPO, 'labs', 'wrong-host.md'), encoding='utf-8') as f:
        sheet = f.read()
    fix = ['h1 ip addr del 10.0.0.1/24 dev h1-eth0', 'h2 ip addr add 10.0.0.1/24 dev h2-eth0']
    for line in fix + ['h3 ip neigh flush dev h3-eth0']:
        assert f'mininet> {line}' in sheet, f'the sheet no longer shows: {line}'

    child = open_lab()
    try:
        banner = child.before
        assert 'h2 netprobe bind 10.0.0.1 6677' in banner
        assert 'h2 netprobe diagnose 10.0.0.1 6677' in banner
        assert '10.0.0.2/24' in banner and 'h2 bind tcp 10.0.0.1 -> OK' in banner

        out = type_line(child, 'h2 netprobe bind 10.0.0.1 6677')
        rec = json.loads(next(ln for ln in out.splitlines() if ln.startswith('{')))
        assert (rec['host'], rec['ok'], rec['errno'], rec['error']) == \
            ('h2', False, 99, 'EADDRNOTAVAIL')
        out = type_line(child, 'h2 seed-server 10.0.0.1 6677')
        assert 'OSError: [Errno 99] Cannot assign requested address' in out
        out = type_line(child, 'check')
        assert 'not solved yet' in out and 'h2 bind tcp 10.0.0.1 is EADDRNOTAVAIL' in out

        proc = outside_check('wrong-host')
        assert proc.returncode == 1 and 'not solved yet' in proc.stdout, proc

        for line in fix:
            type_line(child, line)
        out = type_line(child, 'check')
        assert 'h2 bind tcp 10.0.0.1: EADDRNOTAVAIL -> OK' in out
        assert 'h1 bind tcp 10.0.0.1: OK -> EADDRNOTAVAIL' in out
        assert 'SOLVED' in out
        type_line(child, 'h3 ip neigh flush dev h3-eth0')   # the sheet's ARP note
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


def test_sigterm_tears_the_lab_down():
    """SIGTERM to the lab process leaves nothing behind (like leaving the CLI)."""
    child = open_lab()
    try:
        with open(LAB_FILE) as f:
            info = json.load(f)
        shells = list(info['hosts'].values())
        assert all(os.path.exists(f'/proc/{pid}') for pid in shells)
        os.kill(info['pid'], signal.SIGTERM)
        assert wait_exit(child) == 0
    finally:
        if child.isalive():
            child.terminate(force=True)
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
    return [{'id': f'{c.kind[0]}{i}', 'kind': c.kind, 'host': c.host,
             'column': c.label(), 'expected': c.expect.outcome,
             'actual': c.expect.outcome, 'peer': c.expect.peer, 'verdict': 'pass',
             'message': None} for i, c in enumerate(scenario.cases)]


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
        if cell['column'] == 'tcp 10.0.0.1' and cell['kind'] == 'bind':
            cell['actual'] = 'OK'
    holds, missing = goals.judge_goal(reqs, cells)
    assert holds and not missing
    with pytest.raises(goals.LabError, match='line 2'):
        goals.parse_goal([(2, 'h2 bind tcp 10.9.9.9 -> OK')], cells, 'sheet')
    with pytest.raises(goals.LabError, match='line 3'):
        goals.parse_goal([(3, 'h2 binds 10.0.0.1')], cells, 'sheet')


def test_changes_lists_only_changed_cells():
    before = [{'id': 'b1', 'kind': 'bind', 'host': 'h2', 'column': 'tcp 10.0.0.1',
               'actual': 'EADDRNOTAVAIL', 'peer': None, 'verdict': 'pass'},
              {'id': 'c2', 'kind': 'connect', 'host': 'h3', 'column': 'tcp 10.0.0.1:7001',
               'actual': 'OK', 'peer': 'h1', 'verdict': 'pass'}]
    after = [dict(before[0]), dict(before[1], peer='h2')]
    assert goals.changes(before, after) == [
        'h3 connect tcp 10.0.0.1:7001: OK (answered by h1) -> OK (answered by h2)']


def test_every_goal_block_names_cells_of_its_scenario():
    """A sheet's goal must name real cells of the scenario of the same name."""
    from harness.suite import load_all
    repo, _ = load_all([])
    known = {sc.name: sc for sc in repo}
    checked = 0
    for sheet in sorted(os.listdir(os.path.join(REPO, 'labs'))):
        name = sheet[:-3]
        with open(os.path.join(REPO, 'labs', sheet), encoding='utf-8') as f:
            lines = goals.read_goal(f.read())
        if not lines or name not in known:
            continue
        goals.parse_goal(lines, _cells(known[name]), sheet)
        checked += 1
    assert checked >= 2          # wrong-host and lost-address at least


# -- every lab can be solved with its own sheet's commands --------------------------------------

# The commands a student types from each sheet's Fixes to reach its goal.  Each one
# must appear in the sheet verbatim (as `mininet> CMD`), so sheet and test cannot drift.
SOLUTIONS = {
    'wrong-host': ['h1 ip addr del 10.0.0.1/24 dev h1-eth0',
                   'h2 ip addr add 10.0.0.1/24 dev h2-eth0'],
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


@pytest.mark.parametrize('scenario', sorted(SOLUTIONS))
def test_lab_is_solved_by_its_sheet(scenario):
    """Open the lab; type what the sheet's "What you will see" shows and get exactly
    that; `check`: not solved (except scale, healthy on purpose); type the sheet's
    fix; `check` says SOLVED; leave; nothing left behind."""
    with open(os.path.join(REPO, 'labs', f'{scenario}.md'), encoding='utf-8') as f:
        sheet = f.read()
    for line in SOLUTIONS[scenario]:
        assert f'mininet> {line}' in sheet, f'{scenario}: the sheet no longer shows {line}'
    child = open_lab(scenario)
    try:
        see_what_the_sheet_says(child, sheet)
        out = type_line(child, 'check', timeout=120)
        if SOLUTIONS[scenario]:
            assert 'not solved yet' in out, out
        for line in SOLUTIONS[scenario]:
            type_line(child, line)
        out = type_line(child, 'check', timeout=120)
        assert 'SOLVED' in out, out
        child.sendline('exit')
        assert wait_exit(child, timeout=120) == 0
    finally:
        if child.isalive():
            child.terminate(force=True)
    assert lab_leftovers() == []
