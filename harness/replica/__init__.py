"""Replicas: snapshots of real hosts (issue 26).  take.py reads the namespace it
runs in (`ip -j`, `ss`, /proc/sys, /etc/hosts, /etc/resolv.conf) into one versioned
JSON document; redact.py relabels its addresses, names and MACs for a bug report;
checks.py reads one back as hostile input, every field checked (BadInput naming the
file and field); docker.py turns `docker network inspect` and `docker inspect`
output into snapshots and published ports, clab.py a containerlab file's linux
nodes (their links as segments).  Pure data and read-only commands:
nothing here builds a network or connects anywhere.

The face of harness/replica/: code outside it imports only these names
(tests/test_stages.py).
"""

from .checks import check_snapshot, read_snapshot
from .clab import read_clab
from .docker import read_docker
from .redact import redact_snapshot
from .schema import FORMAT, VERSION
from .take import take_snapshot

__all__ = ['check_snapshot', 'FORMAT', 'read_clab', 'read_docker', 'read_snapshot', 'redact_snapshot',
           'take_snapshot', 'VERSION']
