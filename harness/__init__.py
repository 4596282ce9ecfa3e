"""bindlab's harness: run scenarios on Mininet networks and judge every socket call.

Where a cell of a matrix comes from, top to bottom (a module uses only modules named
below it; `python3 -m harness` and the `bindlab` command (bin/bindlab) enter at
cli.py, `python3 -m harness.vm` at vm.py, and nothing imports cli, vm or __main__;
the `bindlab` Python package beside this one, for users' own code and pytest suites,
sits on top of them all):

    vm.py           `make vm-test`: the suite in a QEMU guest on Debian's stock kernel
                    (its own entry, python3 -m harness.vm; it runs the harness in the
                    guest and imports only files and machine).
    cli.py          the command line: list | run | clean-net | lab | check | diff |
                    record | verify | merge | explain | grade | docker-real | help; thin, maps
                    errors to exit statuses.
    lab.py          the teaching lab (opening, check, hint; a student's lab);
      labcli.py       its Mininet CLI (check/hint/explain/goal/matrix/sheet/banner);
      labfile.py      the open lab's file and the lab seen from outside (check);
      explain.py      one cell explained: reason, rule, diagnose, route, neighbours, nft;
      variants.py     a student's own variant of a lesson (addresses, roles, ports);
      records.py      a student's check records (results/lab/<scenario>/<ID>.jsonl);
    goals.py          a lab sheet's goal, guard and hints blocks; whether the goal holds
                      and what a fix broke.
    grade.py        a class's records -> grades.csv, grades.xlsx, grades.md.
    baseline.py     golden expectation files (--record/--check, diff, record, verify).
    merge.py        the run folders of shards merged into one run.
    dockerreal.py   docker-real: docker-bridge's Docker cases on real containers
                    (its own image, network, container), each cell expected as its
                    emulated twin.
    session.py      around every network: lock, leftovers, switch (and OVS), signals,
                    the run's state file.  machine.py: root, Mininet, tools, firewall,
                    switch kinds, environment facts.
    mutate.py       --mutate: the catalogue of misconfigurations, each on a fresh
                    network; control and changed on every mutated cell.
    suite.py        scenario files loaded and validated, selected, sharded.
    derive.py       --topo: the scenario derived from any topology as built (its
                    World: addresses, routes, segments); topos.py loads topologies
                    exactly as mn does (--custom FILE, --topo NAME,ARGS).
    runner.py       THE pipeline: LiveNetwork (build -> setup -> ready -> faults ->
                    servers) and run_scenario (probers -> observations -> judge).
      network.py      building and tearing down the Mininet network (--builder), and
                      the readiness checks;
        fastnet.py      the bindlab builder: the network Mininet builds, in batches;
        nsbatch.py      its primitives: shells at once, ip batches, grouped deletes.
      faults.py       setup and fault steps run inside hosts, each proved applied.
      probe.py        netprobe: plans, servers, batches, strict record parsing, and
                      the netprobe prober (Batches).
      userprog.py     the user's programs as probers (ProgramRun), which cases they
                      take; launches.py: one launch, traced or observed, and stopped;
                      traced.py: a launch decided from its trace records.
      preconditions.py  what state a case needs before its call (held, listener).
      judge.py        THE judge: Observations -> cells; verdict() decides every cell;
                      a program is judged by the call it made and the wait it had.
    results.py      THE writer of result files (summary, junit, CSV, matrix.json);
      report_page.py  report.html; report_grid.py its grids, report_svg.py its
                      topology, markdown.py safe text and the lab sheets.
    console.py      what a person sees: progress, compact matrices.
    cells.py        the cell: fields, outcome words, wrong-peer rule, counts, and THE
                    reader of a run folder (every field checked).
    files.py        THE atomic writer (no symlink followed), run folders, latest.
    state.py        the run lock and the state file, so clean-net removes exactly
                    what a run created (and marked); ifaces.py: its interfaces and
                    bridges, their marks, their removal; fwrules.py: its accept rules
                    beside Docker (FORWARD DROP), recorded, marked, removed;
                    procs.py: a process's identity (PID + start time + marker) and
                    THE process stopper.
    scenario.py     the scenario API: data (Scenario, Case, Expect, Step, Server),
                    the rules, validate().
    gcpause.py      the cycle collector paused over a run's many cells.
    errors.py       UsageError and friends: everything that means exit 2.

Words:
    scenario      a named topology + setup steps + faults + servers + cases, each case
                  with its expected outcome and a reason.
    topology      a Mininet Topo: hosts, switches, links, addresses (data).
    fault         a deliberate misconfiguration applied after the network is up
                  (`ip addr del`, link down, sysctl, nft rules, DAD state, port range).
    case          one bind() or connect() a host makes (one plan line for netprobe).
    prober        turns cases into observations: netprobe batches, the user's server
                  and client programs.  It never decides a verdict.
    observation   what one call really did (judge.Observation).
    cell          a case with its outcome: expected, actual, verdict, reason, rule.
    matrix        the cells of one kind of a scenario: rows are hosts, columns are the
                  addresses (bind) or server endpoints (connect).
    verdict       pass (actual == expected), fail (it differs), error (could not be
                  measured: the message says why; never a guessed value).
    outcome       `OK`, an errno name (`EADDRNOTAVAIL`), `NOCALL` (a program exited
                  without the call), `ERROR` (not measured).

Known warts: a lab checked from another terminal (`check`) re-creates enough of a
Mininet object (labfile.NsNet) to reuse the netprobe prober; the state file format is
owned by state.py alone.

Exit status of `python3 -m harness run`: 0 every cell passed, 1 some cell failed or
could not be measured, 2 usage or environment error (nothing was built).

Where things are (this module is the one place that knows):
    REPO          the folder above this package, holding topologies/, labs/,
                  expectations/, examples/: the clone, or $(datadir)/bindlab once
                  installed (`make install` copies them with the same layout).
    program_path  netprobe, bindtrace-sys, libbindtrace.so: build/ of the clone, or
                  where `make install` put them ($(bindir), $(libdir)/bindlab).  `make install`
                  rewrites the three lines marked below in the installed copy of this
                  file, with paths relative to REPO, so a DESTDIR tree runs where it
                  lies.  $NETPROBE, $BINDTRACE_LIB and $BINDTRACE_SYS still override
                  (probe.py, launches.py).
    INSTALLED     True in an installed copy: results then go to ./results of the
                  current folder instead of the clone's results/ (cli.py).
__version__ is bindlab's one version string (`bindlab --version`; `make deb` checks
that debian/changelog says the same).
"""

import os

__version__ = '0.1.0'

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
INSTALLED = False       # make install: True
PROGRAMS = 'build'      # make install: $(bindir), relative to REPO
LIBRARIES = 'build'     # make install: $(libdir)/bindlab, relative to REPO
PREFIX = 'bindlab: '


def program_path(name):
    """The path of one of bindlab's programs (netprobe) or libraries (a .so)."""
    where = LIBRARIES if name.endswith('.so') else PROGRAMS
    return os.path.normpath(os.path.join(REPO, where, name))


_ADVICE = {'clean-net': ('sudo make clean-net', 'sudo bindlab clean-net'),
           'mininet-test': ('sudo make mininet-test', 'sudo bindlab run'),
           'deps-run': ('sudo make deps-run',
                        'sudo apt-get install bindlab (it brings what it needs)'),
           'lab': ('sudo make lab SCENARIO=name', 'sudo bindlab lab NAME'),
           'check': ('sudo make check', 'sudo bindlab check')}


def advice(what):
    """The command a message tells the user to type: the clone's make target, or the
    installed bindlab's command."""
    return _ADVICE[what][1 if INSTALLED else 0]
