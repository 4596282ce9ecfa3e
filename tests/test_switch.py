"""Switch choice (harness/machine.py): a kind that cannot work is exit 2 before
anything is built, never a build failure (exit 1 would read as "a cell differed"),
and OVS daemons the harness starts it also stops.  Real Mininet, under the lock:

    flock /tmp/bindlab-mininet.lock /usr/bin/python3 -m pytest -q tests/test_switch.py

`--switch auto` on a kernel WITH the openvswitch module but without the OVS daemons
needs that kernel (the VM lane); here the module is absent, so auto is lxbr.
"""

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


@pytest.mark.skipif(os.path.isdir('/sys/module/openvswitch'),
                    reason='this kernel has the openvswitch module: --switch ovs can work')
def test_explicit_ovs_without_the_module_is_exit_2_before_building(tmp_path):
    before = hu.snapshot()
    res = hu.harness('run', 'wrong-host', '--switch', 'ovs', '--out', str(tmp_path))
    assert res.returncode == 2, res.stdout + res.stderr
    assert 'needs the openvswitch kernel module' in res.stderr
    assert '--switch lxbr' in res.stderr
    assert hu.snapshot() == before and not os.path.exists(tmp_path / 'latest')


@pytest.mark.skipif(os.path.isdir('/sys/module/openvswitch'),
                    reason='this kernel has the openvswitch module: auto picks ovs')
def test_auto_without_the_module_says_so_and_uses_the_linux_bridge(tmp_path):
    res = hu.harness('run', 'wrong-host', '--out', str(tmp_path))
    assert res.returncode == 0, res.stdout + res.stderr
    assert 'no Open vSwitch kernel datapath here: using the Linux bridge (lxbr)' \
        in res.stdout


def test_ovs_user_starts_the_daemons_and_stops_them_again(tmp_path):
    """With OVS's daemons down, an ovs-user run starts them (ovs-ctl start), passes,
    and stops them again: the machine is left as it was found."""
    if ovs_answers():
        pytest.skip('the OVS daemons are running already (started by someone else): '
                    'the start-and-stop path cannot be seen')
    res = hu.harness('run', 'wrong-host', '--switch', 'ovs-user', '--out', str(tmp_path))
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    assert 'starting Open vSwitch (ovs-ctl start)' in res.stdout
    assert 'stopping Open vSwitch again (this run started it)' in res.stdout
    assert not ovs_answers()
