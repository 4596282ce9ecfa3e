"""bindlab's harness: run scenarios on Mininet networks and judge every socket call.

Architecture (each layer only talks to the one below it, like mininet/net.py):

    scenario.py  the scenario API: data describing a network, what is done to it, what
                 is probed, and what should happen.  Scenario files live in topologies/.
    network.py   environment checks, switch choice, building and tearing down the
                 Mininet network, the data-plane readiness check.
    faults.py    runs setup and fault steps inside hosts (argument lists, exit codes
                 checked: a fault that did not apply is an error, never ignored).
    probe.py     writes one plan per host, starts `netprobe serve` listeners (waits for
                 their readiness line), runs one `netprobe batch` per host, all at
                 once, and parses the records strictly.
    runner.py    one scenario from build to verdicts, with the timing of each phase.
    results.py   the one writer of result files (whole or not at all).
    console.py   what a person sees: progress, compact matrices, the closing line.
    state.py     the run lock and the state file of everything a run created, so
                 `clean-net` removes exactly that after a SIGKILL.
    __main__.py  the command line: list | run | clean-net.

Words:
    scenario      a named topology + setup steps + faults + servers + cases, each case
                  with its expected outcome and a reason.
    topology      a Mininet Topo: hosts, switches, links, addresses (data).
    fault         a deliberate misconfiguration applied after the network is up
                  (`ip addr del`, link down, sysctl, nft rules, DAD state, port range).
    case          one bind() or connect() a host makes (one plan line for netprobe).
    cell          a case with its outcome: expected, actual, verdict, reason, rule.
    matrix        the cells of one kind of a scenario: rows are hosts, columns are the
                  addresses (bind) or server endpoints (connect).
    verdict       pass (actual == expected), fail (it differs), error (could not be
                  measured: the message says why; never a guessed value).
    outcome       `OK` or an errno name (`EADDRNOTAVAIL`); `ERROR` when not measured.

Exit status of `python3 -m harness run`: 0 every cell passed, 1 some cell failed or
could not be measured, 2 usage or environment error (nothing was built).
"""

import os

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PREFIX = 'bindlab: '
