"""bring-your-own-network: a replica of two real hosts' snapshots, as a lab.

examples/snapshots/app.json and lb.json were taken with `bindlab snapshot` on two
hosts of a small production network: `lb` (10.0.0.2/24, forwarding) holds the
virtual address 10.0.0.50 that keepalived moves between it and `app` (10.0.0.10/24,
default route via lb), and serves https on 10.0.0.50:443; `app` runs PostgreSQL on
127.0.0.1:5432 and is the standby for 10.0.0.50, where its own service is configured
to listen on port 8080.  That service fails to start: Errno 99.

The network is the replica `bindlab run --from-snapshot examples/snapshots/app.json
examples/snapshots/lb.json` builds (harness/scenarios/replica.py: the same
interfaces, MACs, addresses, routes, sysctls and listeners); the cases are written
here, so that the lab sheet (labs/bring-your-own-network.md) can name them: every
host binds every address of the two snapshots, the wildcard, loopback and an address
nobody holds on port 8080, and the clients reach lb's https and app's PostgreSQL.
Not in the default suite (the derived replica of the same files is what `run
--from-snapshot` checks).
"""

import os
import sys
from dataclasses import replace

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    globals().get('__file__') or sys._getframe(0).f_code.co_filename))))

from harness.replica import read_snapshot  # noqa: E402
from harness.scenario import bind, connect, expect_bind, explicit  # noqa: E402
from harness.scenarios import from_snapshots  # noqa: E402

_HERE = os.path.dirname(os.path.dirname(os.path.abspath(
    globals().get('__file__') or sys._getframe(0).f_code.co_filename)))
_SNAPSHOTS = [os.path.join(_HERE, 'examples', 'snapshots', f'{name}.json')
              for name in ('app', 'lb')]
_SERVICE_PORT = 8080       # the port app's service is configured with
_OWNERS = {'10.0.0.10': 'app', '10.0.0.2': 'lb', '10.0.0.50': 'lb'}
_BIND_ADDRS = ('10.0.0.10', '10.0.0.2', '10.0.0.50', '10.0.0.99', '0.0.0.0', '127.0.0.1')


def _cases():
    """Binds on the service port everywhere; lb's https and app's database."""
    cases = [bind(h, addr, _SERVICE_PORT, expect_bind(h, addr, _OWNERS), proto)
             for proto in ('tcp', 'udp') for addr in _BIND_ADDRS for h in ('app', 'lb')]
    for client in ('app', 'lb'):
        cases.append(connect(client, '10.0.0.50', 443, explicit(
            'OK', 'lb holds the virtual address and serves https there', peer='lb')))
    cases.append(connect('app', '127.0.0.1', 5432, explicit(
        'OK', 'PostgreSQL listens on app\'s loopback', peer='app')))
    cases.append(connect('lb', '10.0.0.10', 5432, explicit(
        'ECONNREFUSED', 'PostgreSQL listens on 127.0.0.1 only: from lb, app\'s '
                        'address has nothing on 5432')))
    return tuple(cases)


def _scenario():
    replica = from_snapshots([(p, read_snapshot(p)) for p in _SNAPSHOTS])
    return replace(replica, name='bring-your-own-network',
                   title='a replica of two real hosts: app cannot bind the virtual '
                         'address lb holds', derived=False, cases=_cases(), order=11)


scenarios = [_scenario()]
