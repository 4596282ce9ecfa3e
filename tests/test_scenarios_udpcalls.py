"""Scenarios multicast and udp-source (issue 25) on a real network, in one run.

Run under the machine's Mininet lock:
    flock /tmp/bindlab-mininet.lock /usr/bin/python3 -m pytest -q tests/test_scenarios_udpcalls.py
`python3 -m harness run multicast udp-source` as a user would: exit 0, and the cells
a user of these calls cares about, read from every result file: the errno the kernel
gave for a join, a multicast interface and a send whose address the host lacks, in
matrix.json, summary.md, junit.xml, report.html and on the console.
"""

import json
import re

import pytest

import harness_util as hu

root_and_clean = pytest.fixture(autouse=True)(hu.root_and_clean)


@pytest.fixture(scope='module')
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp('udpcalls')
    res = hu.harness('run', 'multicast', 'udp-source', '--switch', 'lxbr', '--out', str(out))
    return res, out / 'latest'


def cells(folder, scenario):
    """{(kind, host, column): cell} of a scenario's matrix.json."""
    with open(folder / scenario / 'matrix.json') as f:
        data = json.load(f)
    return {(c['kind'], c['host'], c['column']): c for c in data['cells']}


def test_multicast_cells(run):
    res, folder = run
    assert res.returncode == 0, res.stdout + res.stderr
    m = cells(folder, 'multicast')
    assert all(c['verdict'] == 'pass' for c in m.values())
    got = {k: c['actual'] for k, c in m.items()}
    # A join on an address: the owner joins; a foreign or a removed address is ENODEV.
    assert got['join', 'h1', 'udp 239.1.1.1@10.0.0.1'] == 'OK'
    assert got['join', 'h2', 'udp 239.1.1.1@10.0.0.1'] == 'ENODEV'
    assert got['join', 'h1', 'udp 239.1.1.1@10.0.0.11'] == 'ENODEV'
    # The same mistake on IP_MULTICAST_IF is EADDRNOTAVAIL.
    assert got['mcast-if', 'h2', 'udp 239.1.1.1@10.0.0.1'] == 'EADDRNOTAVAIL'
    assert got['mcast-if', 'h1', 'udp 239.1.1.1@10.0.0.11'] == 'EADDRNOTAVAIL'
    # A restart by address fails, by the interface it works; IPv6 unknown index: ENODEV.
    assert got['join', 'h1', 'udp 239.1.1.1:5353@10.0.0.11 reuseaddr'] == 'ENODEV'
    assert got['join', 'h1', 'udp 239.1.1.1:5353@h1-eth0 reuseaddr'] == 'OK'
    assert got['join', 'h3', 'udp ff12::1:1@999'] == 'ENODEV'
    assert got['mcast-if', 'h3', 'udp ff12::1:1@999'] == 'ENODEV'
    assert got['mcast-if', 'h3', 'udp 239.1.1.1@999'] == 'EADDRNOTAVAIL'
    cell = m['join', 'h2', 'udp 239.1.1.1@10.0.0.1']
    assert cell['rule'] == 'join-if-owner' and 'ENODEV here means' in cell['reason']
    assert cell['message'] == 'No such device'


def test_udp_source_cells(run):
    res, folder = run
    assert res.returncode == 0, res.stdout + res.stderr
    m = cells(folder, 'udp-source')
    got = {k: c['actual'] for k, c in m.items()}
    assert got['connect', 'h2', 'udp 10.0.0.11:7002 timeout=300'] == 'ETIMEDOUT'
    assert got['send', 'h1', 'udp 10.0.0.11->10.0.0.2:7002 pktinfo'] == 'OK'
    assert got['send', 'h1', 'udp 10.0.0.12->10.0.0.2:7002'] == 'EADDRNOTAVAIL'
    assert got['send', 'h1', 'udp 10.0.0.12->10.0.0.2:7002 pktinfo'] == 'ENETUNREACH'
    assert got['send', 'h1', 'udp fd00::12->[fd00::2]:7002 pktinfo'] == 'EINVAL'
    assert got['send', 'h3', 'udp 10.0.0.12->10.0.0.2:7002 pktinfo'] == 'OK'
    assert m['send', 'h1', 'udp 10.0.0.12->10.0.0.2:7002 pktinfo']['rule'] == \
        'send-source-owner'


def test_every_result_file_carries_them(run):
    res, folder = run
    summary = (folder / 'summary.md').read_text()
    assert 'join matrix' in summary and 'mcast-if matrix' in summary
    assert re.search(r'\| h1 \| OK \| ENODEV \| ENODEV \|', summary)
    assert 'send matrix' in summary and 'udp 10.0.0.12->10.0.0.2:7002 pktinfo' in summary
    junit = (folder / 'junit.xml').read_text()
    assert 'classname="bindlab.multicast.join" name="h2 join udp 239.1.1.1@10.0.0.1"' in junit
    assert 'name="h1 send udp 10.0.0.12-&gt;10.0.0.2:7002 pktinfo"' in junit
    page = (folder / 'report.html').read_text()
    for words in ('Join matrix', 'Multicast-interface matrix', 'Send matrix'):
        assert f'<h3>{words}</h3>' in page
    assert 'join matrix of multicast' in res.stdout and 'send matrix of udp-source' in res.stdout
    join_csv = (folder / 'multicast' / 'join.csv').read_text().splitlines()
    assert join_csv[0].startswith('host,addr,port,proto,options,expected,actual')
    assert 'h2,239.1.1.1,0,udp,if=10.0.0.1,ENODEV,ENODEV,pass,join-if-owner,' in \
        '\n'.join(join_csv)
    assert len((folder / 'udp-source' / 'send.csv').read_text().splitlines()) == 1 + 14
    assert not (folder / 'udp-source' / 'join.csv').exists()


def test_explain_says_what_the_errno_means_on_the_call(run):
    """`bindlab explain` of a join and of a send: the errno's meaning on that call."""
    _res, folder = run
    res = hu.harness('explain', str(folder), 'h2 join udp 239.1.1.1@10.0.0.1')
    assert res.returncode == 0, res.stdout + res.stderr
    assert 'what it means: errno 19, "No such device", on a multicast join' in res.stdout
    assert 'rule: join-if-owner' in res.stdout
    res = hu.harness('explain', str(folder), 'h1 send udp 10.0.0.12->10.0.0.2:7002 pktinfo')
    assert res.returncode == 0, res.stdout + res.stderr
    assert 'what it means: errno 101 on a send with a chosen source' in res.stdout
