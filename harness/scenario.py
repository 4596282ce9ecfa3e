"""The scenario API for scenario files (topologies/*.py and your own): a scenario is
data, not a code path.

A scenario file is a Python module in topologies/ (or one given with
``--scenario-file``).  It exposes

    topos = {'name': TopoClass, ...}     # so `mn --custom FILE --topo name` works
    scenarios = [Scenario(...), ...]     # what `python3 -m harness` runs

and nothing in it runs a command at import time: the harness builds the network, runs the steps,
starts the servers, probes the cases and judges every cell.  Writing a scenario:

    from mininet.topo import Topo
    from harness.scenario import (Scenario, Server, bind, connect, explicit,
                                  expect_bind, expect_connect, addr_del)

    class ThreeHosts(Topo):
        def build(self):
            s1 = self.addSwitch('s1')
            for n in (1, 2, 3):
                self.addLink(self.addHost(f'h{n}', ip=f'10.0.0.{n}/24'), s1)

    OWNERS = {'10.0.0.1': 'h1', '10.0.0.2': 'h2', '10.0.0.3': 'h3'}
    scenarios = [Scenario(
        name='my-case', title='h2 binds h1 address', topo=ThreeHosts,
        faults=(addr_del('h1', '10.0.0.1/24', 'h1-eth0', why='the address is gone'),),
        servers=(Server('h3', '0.0.0.0', 7001),),
        cases=(bind('h2', '10.0.0.1', 6677, expect_bind('h2', '10.0.0.1', OWNERS)),
               connect('h1', '10.0.0.3', 7001, explicit('OK', 'h3 listens', peer='h3'))),
    )]

Two rules for scenario files, because `mn --custom FILE` execs the file and copies
EVERY module-level name into mn's own globals: (1) keep module-level names away from
mn's (``hosts``, ``switches``, ``links``, ``tests``, ``HOSTS``, ``Host``, ``Link``,
``error``, ``info``, ``time``, ``exit``, ``version`` ...): prefix helpers and
constants with ``_``; (2) start with the sys.path preamble of topologies/wrong_host.py
(mn runs the file without ``__file__`` and without the repository on sys.path).
A file that fails to import or whose scenarios fail ``validate()`` makes the run exit 2
naming the file and the problem.

Words (see harness/__init__.py): a *step* is one command run inside a host, either
*setup* (part of the intended network, e.g. adding IPv6 addresses) or a *fault* (the
deliberate misconfiguration, recorded as such in matrix.json); a *server* is a
`netprobe serve` the connect cases talk to; a *case* is one bind or connect a host
makes; an *expectation* is the outcome a case should have (``OK`` or an errno name such
as ``EADDRNOTAVAIL``) with a one-line reason and the *rule* that produced it.

Order of a run: build the topology -> setup steps -> data-plane readiness check ->
fault steps -> servers (each waited for by its readiness line) -> one ``netprobe batch``
per host with all of that host's cases (binds in order, then all connects at once) ->
verdicts.  Bind cases do not hold their socket (each one is independent) unless the
``hold`` option is given; servers run during the whole batch, so a bind case on a
server's port meets that server (use another port unless that is the point).

Rules: each cell records which rule produced its expectation (harness/scenarios/rules.py,
the one registry; ``explicit`` means the scenario author wrote the outcome by hand).

This module is the API's stable name: ``from harness.scenario import ...`` keeps working
in every scenario file, and __all__ below is the whole API (tests/test_scenario_api.py
checks that every name a scenario file, bindlab/ or docs/scenarios.md imports from here
is in it).  The names live in harness/scenarios/ (model.py: the data; builders.py:
cases, expectations, steps; checks.py: validate); nothing inside harness/ imports this
module.
"""

from .scenarios.builders import (addr_add, addr_del, at, at_once, bind, connect,
                                 expect_bind, expect_connect, explicit, link_down, nft,
                                 port_range, run, sysctl, wait_dad)
from .scenarios.checks import topo_hosts, validate
from .scenarios.hostfiles import DnsServer, HostFiles
from .scenarios.udpcalls import (expect_join, expect_mcast_if, expect_send, join,
                                 mcast_if, send)
from .scenarios.model import (AFTERS, Case, endpoint, ERROR, Expect, NOCALL, OK, option,
                              Scenario, ScenarioError, Server, Step, timeout_of)

__all__ = ['addr_add', 'addr_del', 'AFTERS', 'at', 'at_once', 'bind', 'Case', 'connect',
           'DnsServer', 'endpoint', 'ERROR', 'Expect', 'expect_bind', 'expect_connect',
           'explicit', 'HostFiles', 'link_down', 'nft', 'NOCALL', 'OK', 'option',
           'port_range', 'run', 'Scenario', 'ScenarioError', 'Server', 'Step', 'sysctl',
           'timeout_of', 'topo_hosts', 'validate', 'wait_dad',
           # the calls besides bind and connect (harness/scenarios/udpcalls.py)
           'expect_join', 'expect_mcast_if', 'expect_send', 'join', 'mcast_if', 'send']
