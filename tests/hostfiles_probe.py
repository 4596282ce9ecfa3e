"""hostfiles_probe: build a network whose h1 has its own resolver files, and say what
each host sees, as JSON.

    /usr/bin/python3 tests/hostfiles_probe.py --builder fast|mininet [--hold]

The `wrong-host` scenario's network (h1..h3) is built, set up and made ready as a
run does it (runner.LiveNetwork), with h1 given its own /etc/hosts,
/etc/resolv.conf and hostname (HOSTS, RESOLV, HOSTNAME).  For h1 and h2 it reads, through the host's shell
(net.run_on) and through a process started from outside it (net.popen_on, the path
of the user's programs), /etc/hosts, /etc/resolv.conf and what `getent ahosts` says
of a name only h1's file has, its `hostname` and what that resolves to; then it prints one JSON object and tears the network
down.  --hold: print {"ready": true, "folder": ..., "pids": {h1, h2: shell pid}} once the
files are mounted and wait to be killed instead (the SIGKILL test).  Needs root and the run lock (run it
under the Mininet flock).
"""

import argparse
import dataclasses
import json
import os
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from harness import probe  # noqa: E402
from harness.net import popen_on, run_on  # noqa: E402
from harness.net.session import Session  # noqa: E402
from harness.report import results  # noqa: E402
from harness.runner import LiveNetwork  # noqa: E402
from harness.scenarios import HostFiles, suite  # noqa: E402

HOSTS = '127.0.0.1 localhost\n::1 localhost\n10.0.0.9 only-h1.test\n127.0.1.1 only-h1\n'
RESOLV = 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n'
READS = {'hosts': ['cat', '/etc/hosts'], 'resolv': ['cat', '/etc/resolv.conf'],
         'getent': ['getent', 'ahostsv4', 'only-h1.test'], 'hostname': ['hostname'],
         'self': ['sh', '-c', 'getent ahostsv4 "$(hostname)"']}
HOSTNAME = 'only-h1'


def seen(net, name):
    """{how: {what: stdout}} of host name, through its shell and through popen."""
    host = net.get(name)
    shell = run_on([(host, argv, None, 10) for argv in READS.values()])
    popen = {}
    for what, argv in READS.items():
        proc = popen_on(host, argv, stdout=-1, stderr=-1)
        popen[what] = proc.communicate(timeout=10)[0].decode()
    return {'shell': {w: out for w, (_s, out, _e) in zip(READS, shell)}, 'popen': popen}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--builder', required=True, choices=('fast', 'mininet'))
    parser.add_argument('--hold', action='store_true')
    args = parser.parse_args()
    scenario = dataclasses.replace(suite.find('wrong-host'), host_files=(
        HostFiles('h1', hosts=HOSTS, resolv_conf=RESOLV, hostname=HOSTNAME),))
    with Session('lxbr', lambda _m: None, results.new_run_id()) as session:
        with LiveNetwork(scenario, session.switch, session.state, probe.netprobe_path(),
                         lambda _m: None, args.builder) as live:
            if live.problem:
                print(json.dumps({'problem': live.problem}), flush=True)
                return 1
            if args.hold:
                print(json.dumps({'ready': True, 'folder': live.workdir, 'pids': {
                    h: live.net.get(h).pid for h in ('h1', 'h2')}}), flush=True)
                time.sleep(300)
            print(json.dumps({'folder': live.workdir, 'built_by': live.built_by,
                              'h1': seen(live.net, 'h1'), 'h2': seen(live.net, 'h2')}),
                  flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
