"""Switch choice (harness/net/machine.py): a kind that cannot work is exit 2 before
anything is built, never a build failure (exit 1 would read as "a cell differed"),
and OVS daemons the harness starts it also stops.  Real Mininet, under the lock:

    flock /tmp/bindlab-mininet.lock /usr/bin/python3 -m pytest -q tests/test_switch.py

Each test checks the path this machine offers (the openvswitch module absent or
loaded, the OVS daemons down or running) and never skips because OVS is running.
`--switch auto` on a kernel WITH the module but without the daemons needs that
kernel (the VM lane).
"""

import json
import os
import subprocess

import pytest

import harness_util as hu


@pytest.fixture(autouse=True)
def clean_machine():
    yield from hu.root_and_clean()


def ovs_answers():
    try:
        return subprocess.run(['ovs-vsctl', '--timeout=3', 'show'], capture_output=True,
                              timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def switch_of(out):
    """The switch kind the run's wrong-host matrix says it used."""
    with open(os.path.join(out, 'latest', 'wrong-host', 'matrix.json')) as f:
        return json.load(f)['environment']['switch']


def test_explicit_ovs_is_exit_2_before_building_without_the_module(tmp_path):
    """Without the openvswitch module: exit 2, naming the way out, nothing built.
    With it (a stock Debian with OVS): the run uses the kernel datapath and passes."""
    before = hu.snapshot()
    res = hu.harness('run', 'wrong-host', '--switch', 'ovs', '--out', str(tmp_path))
    if os.path.isdir('/sys/module/openvswitch'):
        assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
        assert switch_of(tmp_path) == 'ovs'
        return
    assert res.returncode == 2, res.stdout + res.stderr
    assert 'needs the openvswitch kernel module' in res.stderr
    assert '--switch lxbr' in res.stderr
    assert hu.snapshot() == before and not os.path.exists(tmp_path / 'latest')


def test_auto_says_which_switch_it_uses(tmp_path):
    """auto without the module says so and uses the Linux bridge; with the module it
    uses OVS's kernel datapath, or says why OVS cannot be used and uses lxbr."""
    res = hu.harness('run', 'wrong-host', '--out', str(tmp_path))
    assert res.returncode == 0, res.stdout + res.stderr
    absent = 'no Open vSwitch kernel datapath here: using the Linux bridge (lxbr)'
    unusable = 'the Open vSwitch kernel module is here but OVS cannot be used'
    if not os.path.isdir('/sys/module/openvswitch'):
        assert absent in res.stdout and switch_of(tmp_path) == 'lxbr'
    else:
        assert absent not in res.stdout
        assert switch_of(tmp_path) == ('lxbr' if unusable in res.stdout else 'ovs')


def test_ovs_user_starts_only_the_daemons_it_needs_and_stops_only_those(tmp_path):
    """With OVS's daemons down, an ovs-user run starts them (ovs-ctl start), passes,
    and stops them again; with them running (Debian's normal state once
    openvswitch-switch is installed), it uses them and leaves them running.  Either
    way the machine is left as it was found."""
    running = ovs_answers()
    res = hu.harness('run', 'wrong-host', '--switch', 'ovs-user', '--out', str(tmp_path))
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    assert switch_of(tmp_path) == 'ovs-user'
    started = 'starting Open vSwitch (ovs-ctl start)' in res.stdout
    stopped = 'stopping Open vSwitch again (this run started it)' in res.stdout
    assert (started, stopped) == (not running, not running), res.stdout[-2000:]
    assert ovs_answers() == running
