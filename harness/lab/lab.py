"""The teaching lab: a scenario's broken network, a Mininet CLI, and `check`.

    sudo make lab SCENARIO=wrong-host        (python3 -m harness lab wrong-host)
    sudo make check SCENARIO=wrong-host      (python3 -m harness check, from
                                              another terminal, against the open lab)

`open_lab` builds the scenario's network with the harness's own pipeline (runner.
LiveNetwork: build -> setup -> readiness -> faults -> servers) inside a Session (the
run lock, the switch, OVS when the switch needs it), takes the first matrix, prints a
banner (the task, the hosts and their addresses, what to try, the goal), puts
`netprobe` and the seed's server (examples/seed_server.py as `seed-server ADDR PORT`)
on PATH inside every host, and opens Mininet's CLI with the lab's commands
(harness/lab/shell.py): check, hint, explain, goal, matrix, sheet, banner.

With a student ID (`--student ID`, make's STUDENT=ID) every check appends the
student's record (harness/lab/records.py) under results/lab/, and the lab is the
student's own variant of the lesson (harness/lab/variants.py).

Leaving the CLI (exit, Ctrl-D) tears everything down the way a run does; so do
SIGTERM and SIGHUP.  The lab holds the run lock while it is open: one network at a
time.

`check_lab` (`check` from outside) finds the open lab through /run/bindlab/lab.json
(scenario, host shell PIDs, last cells) and runs each host's batch inside that host's
network namespace with nsenter, after checking that the PID still is that host's
shell; what a check says is harness/lab/checks.py.  Exit status of `check`: 0 goal
holds, 1 it does not (or no goal), 2 no lab open.  The command line (its options and
usage errors) is harness/cli/lab.py and harness/cli/check.py.
"""

import os
import re
import shlex
import shutil
import signal

from .. import advice, REPO, runner
from ..errors import Interrupted, UsageError
from ..ledger import owned_folder, RUN_DIR
from ..net import check_environment, DEFAULT_BUILDER, missing_modules, Session
from ..probe import cli_options, netprobe_path
from ..report import log, new_run_id, warn
from ..scenarios import find
from . import records, shell as labcli
from .callwords import diagnose_argv, UDP_KINDS
from .checks import probe_cells, record_check, report_check
from .goals import (broke_line, goal_cells, guard_words, judge_goal, judge_guard,
                    LabError, load_goal, load_guard, load_hints, sheet_text)
from .labfile import lab_file, NoState, NsNet, read_lab, save_lab

EXIT_OK, EXIT_NOT_SOLVED = 0, 1
SEED_SERVER = os.path.join(REPO, 'examples', 'seed_server.py')
MAX_COMMANDS = 300      # typed lines kept for one check's record (each cut at 500)


def find_scenario(name, scenario_files):
    """The Scenario called name, from topologies/ or the given scenario files."""
    try:
        return find(name, scenario_files)
    except UsageError as exc:
        raise LabError(str(exc)) from None


def check_lab(scenario=None, student=None):
    """`check` from outside: re-probe the open lab; exit 0 solved, 1 not.  scenario,
    student: what the open lab must be (LabError when it is another)."""
    if os.geteuid() != 0:
        raise LabError('must run as root (it enters the lab hosts\' namespaces): '
                       f'{advice("check")}')
    info = read_lab()
    if scenario and scenario != info['scenario']:
        raise LabError(f'the open lab is {info["scenario"]}, not {scenario}')
    if student and student != info.get('student'):
        raise LabError(f'the open lab is {info.get("student") or "nobody"}\'s, not '
                       f'{student}\'s')
    lesson = open_scenario(info['scenario'], info.get('scenario_files', []),
                           info.get('student'))
    after = probe_cells(NsNet(info['hosts']), lesson, NoState(), info['netprobe'])
    reqs, _ = load_goal(lesson, after)
    outcome = report_check(info['cells'], after, reqs, guard=load_guard(lesson, after),
                           guarded=info.get('guarded', []))
    info = dict(read_lab(), cells=after)
    record_check(info, 'outside', after, reqs, outcome)
    save_lab(info)
    return EXIT_OK if outcome[0] else EXIT_NOT_SOLVED


def open_scenario(name, scenario_files, student):
    """The scenario of a lab: the lesson itself, or the student's variant of it."""
    from .variants import variant_of
    scenario = find_scenario(name, scenario_files)
    return variant_of(scenario, student) if student else scenario


# -- the lab itself ---------------------------------------------------------------------------------

class Lab:
    """One open lab: the network, its servers, the cells, the goal."""

    def __init__(self, scenario, switch, netprobe, scenario_files, run_state,
                 builder=DEFAULT_BUILDER, student=None, results=None):
        self.scenario, self.switch, self.netprobe = scenario, switch, netprobe
        self.builder = builder
        self.scenario_files, self.run_state = scenario_files, run_state
        self.live, self.net, self.bindir = None, None, None
        self.cells, self.reqs, self.sheet = [], [], None
        self.guard, self.guarded = None, []
        self.steps, self.hints = [], load_hints(scenario)
        self.info = {'student': student, 'results': results, 'hints_used': 0,
                     'hints_total': len(self.hints), 'commands': [], 'checks': 0,
                     'variant': getattr(scenario, 'variant', None)}

    # building and tearing down: the harness's own pipeline
    def open(self):
        """Build, prepare, start servers, take the first matrix; raise LabError."""
        sc = self.scenario
        self.live = runner.LiveNetwork(sc, self.switch, self.run_state, self.netprobe,
                                       log, self.builder).open()
        self.net, self.steps = self.live.net, self.live.steps
        if self.live.problem:
            raise LabError(f'{sc.name}: {self.live.problem}')
        errors = self.live.start_servers()
        if errors:
            raise LabError(f'{sc.name}: ' + '; '.join(errors))
        self.cells = probe_cells(self.net, sc, self.run_state, self.netprobe)
        self.reqs, self.sheet = load_goal(sc, self.cells)
        self.guard = load_guard(sc, self.cells)
        self.guarded = [c.id for c in self.cells if c.verdict == 'pass']
        self._install_tools()
        self.info.update({'scenario': getattr(sc, 'lesson', sc.name),
                          'scenario_files': self.scenario_files,
                          'pid': os.getpid(), 'netprobe': self.netprobe,
                          'switch': self.switch, 'cells': self.cells,
                          'guarded': self.guarded,
                          'hosts': {h.name: h.pid for h in self.net.hosts}})
        save_lab(self.info)

    def _sync(self):
        """self.info from the lab file (an outside check may have counted), or as is."""
        try:
            self.info = read_lab()
        except LabError:
            pass
        return self.info

    def close(self):
        """Tear everything down (servers, network, state leftovers, lab files)."""
        try:
            os.unlink(lab_file())
        except FileNotFoundError:
            pass
        try:
            if self.live is not None:
                self.live.close()
        finally:        # also when a second signal interrupts the teardown
            if self.bindir:
                shutil.rmtree(self.bindir, ignore_errors=True)
                self.bindir = None

    def _install_tools(self):
        """A bin folder with netprobe and seed-server (examples/seed_server.py), on
        PATH in every host shell.  Its name records this process (state.owned_folder):
        a SIGKILLed lab's is swept by the next session."""
        bindir = self.bindir = owned_folder('bin-', RUN_DIR)
        os.chmod(bindir, 0o755)
        os.symlink(self.netprobe, os.path.join(bindir, 'netprobe'))
        os.symlink(SEED_SERVER, os.path.join(bindir, 'seed-server'))
        for host in self.net.hosts:
            host.cmd(f'export PATH={shlex.quote(bindir)}:"$PATH" '
                     f'NETPROBE_HOST={shlex.quote(host.name)}')

    # what the student reads
    def banner(self, out=print):
        sc = self.scenario
        out(f'\n=== bindlab lab: {sc.name} ===')
        out(f'Task: {sc.title}.')
        if self.sheet and self.info['variant']:
            out(f'Your lab sheet is your own variant ({self.info["variant"]}) of '
                f'{os.path.relpath(self.sheet, REPO)}: type `sheet` to read it.')
        elif self.sheet:
            out(f'Read the lab sheet: {os.path.relpath(self.sheet, REPO)} '
                '(or type `sheet`).')
        out('\nHosts and their addresses (now, after the faults):')
        for host in self.net.hosts:
            for line in _host_addresses(host):
                out(f'  {host.name:6} {line}')
        faults = [s for s in self.steps if s.get('kind') == 'fault']
        if faults:
            out('\nWhat was done to the network after it started:')
            for step in faults:
                out(f'  {step["host"]}: {" ".join(step["argv"])}   # {step["why"]}')
        out('\nTry (type these at the Mininet prompt):')
        for line in self.try_lines():
            out(f'  {line}')
        if self.reqs:
            out('\nGoal (what `check` tests):')
            for line in self.goal_lines():
                out(f'  {line}')
        if self.info['student']:
            out(f'\nStudent: {self.info["student"]} (your own variant; every check is '
                'recorded for your teacher).')
        out('\nCommands: check (probe again, show what changed, is the goal met), hint '
            f'({len(self.hints)} in this lab), explain HOST KIND COLUMN, goal, matrix, '
            'sheet, banner; exit tears the network down.\n')

    def goal_lines(self):
        """The goal, whether it holds now, and the guard, as `goal` and the banner say."""
        lines = [req['text'] for req in self.reqs]
        if not self.reqs:
            return ['(no goal block in the lab sheet)']
        holds, missing = judge_goal(self.reqs, self.cells)
        lines.append('now: the goal holds' if holds else
                     f'now: not solved yet: {len(missing)} requirement(s) of the goal do '
                     'not hold')
        if not any(r['all'] for r in self.reqs):
            goal = {c.id for r in self.reqs for c in goal_cells(r, self.cells)}
            kept = [i for i in self.guarded if i not in goal]
            lines.append(f'and the guard: the {len(kept)} other cells that passed when the '
                         'lab opened keep their outcome (a fix that breaks one is not '
                         'solved; the sheet\'s "Wrong fixes" section)')
        return lines

    def try_lines(self):
        """Commands worth typing first: the goal's cells, else failing cells.

        A cell whose plan options have no command-line form (`hold`, `nolisten`,
        `family=`), or whose host holds sockets across its batch (its outcome depends
        on the cases before it), is left out: typed alone it would not show what the
        matrix shows.
        """
        held = {c.host for c in self.scenario.cases if 'hold' in c.options}

        def typeable(cell):     # a join, mcast-if or send: netprobe diagnose's
            return cell.host not in held and (cell.kind in UDP_KINDS or
                                               cli_options(cell.options, cell.proto)
                                               is not None)

        cells = []
        for req in self.reqs:
            if not req['all']:
                cells += [c for c in goal_cells(req, self.cells)
                          if c.actual != req['outcome'] and typeable(c)][:1]
        if not cells:
            cells = [c for c in self.cells if c.actual != 'OK' and typeable(c)][:1]
        lines = []
        for cell in cells[:3]:
            opts = ''.join(f'{o} ' for o in cli_options(cell.options, cell.proto) or ())
            where = f'{cell.addr} {cell.port}'
            if cell.kind in UDP_KINDS:
                lines.append(f'{cell.host} netprobe {" ".join(diagnose_argv(cell))}')
            elif cell.kind == 'bind':
                lines += [f'{cell.host} netprobe bind {opts}{where}',
                          f'{cell.host} netprobe diagnose '
                          f'{"--udp " if cell.proto == "udp" else ""}{where}']
                if cell.proto == 'tcp' and not cell.options:
                    lines.append(f'{cell.host} seed-server {where}')
            else:
                lines.append(f'{cell.host} netprobe connect {opts}{where}')
        lines.append(f'{self.net.hosts[0].name} netprobe addrs')
        return lines

    def check(self, out=print):
        """Re-probe, report, remember; True when solved."""
        after = probe_cells(self.net, self.scenario, self.run_state, self.netprobe)
        info = self._sync()
        outcome = report_check(info['cells'], after, self.reqs, out, self.guard,
                               self.guarded)
        self.cells = info['cells'] = after
        record_check(info, 'lab', after, self.reqs, outcome, out)
        save_lab(info)
        return outcome[0]

    def hint(self, out=print):
        """Give the sheet's next hint, and count it."""
        info = self._sync()
        used = info.get('hints_used', 0)
        if not self.hints:
            out('(this lab sheet has no hints)')
            return
        if used >= len(self.hints):
            out(f'No more hints: that was the last of {len(self.hints)}. The sheet\'s '
                'Fixes section (`sheet`) has the full answer.')
            return
        info['hints_used'] = used + 1
        out(f'Hint {used + 1} of {len(self.hints)}: {self.hints[used]}')
        save_lab(info)

    def typed(self, line):
        """Remember a command the student typed, for the next check's record."""
        info = self._sync()
        commands = info.setdefault('commands', [])
        if len(commands) < MAX_COMMANDS:
            commands.append(line[:500])
        save_lab(info)

    def explain(self, line, out=print):
        """`explain HOST KIND COLUMN`: the cell and what the live network says."""
        from .explain import explain_cell, find_cell, live_facts
        cell = find_cell(self.cells, line)
        facts = live_facts(self.net, cell, self.scenario, self.netprobe)
        for text in explain_cell(cell, self.scenario, facts, self.steps):
            out(text)
        if judge_guard(self.guard, self.reqs, self.guarded, [cell]):
            out(f'  broken (the guard): {broke_line(cell)}; it must keep the outcome it had '
                f'when the lab opened: {guard_words(self.guard, cell)}')

    def sheet_text(self):
        return sheet_text(self.scenario)[0]

    def run_cli(self):
        """Mininet's CLI with the lab's commands, until the student leaves."""
        labcli.open_cli(self)


def _host_addresses(host):
    """`ip -br addr` lines of a host (lo left out)."""
    proc = host.popen(['ip', '-br', 'addr', 'show'])
    out, _err = proc.communicate()
    lines = [ln.strip() for ln in out.decode(errors='replace').splitlines()
             if ln.strip() and not ln.startswith('lo ')]
    return [re.sub(r'\s+', ' ', ln) for ln in lines] or ['(no interfaces)']


def open_lab(name, switch='auto', builder=DEFAULT_BUILDER, scenario_files=(),
             student=None, results=None, verbose=False):
    """Open the lab of scenario `name`, run the CLI, tear down; exit 0 (LabError, exit
    2, when it could not open).  student: their own variant, every check recorded
    under results (default: records.default_results())."""
    from mininet.log import setLogLevel
    check_environment(switch)
    student = records.check_student(student) if student else None
    scenario = open_scenario(name, scenario_files, student)
    netprobe = netprobe_path()
    # 'output', not 'warning': the CLI prints what host commands write at that level.
    setLogLevel('info' if verbose else 'output')
    lab = None
    with Session(switch, log, 'lab-' + new_run_id(),
                 signals=(signal.SIGTERM, signal.SIGHUP)) as session:
        if session.switch not in scenario.switches:
            raise LabError(f'{scenario.name} does not fit switch {session.switch} '
                           f'(fits {", ".join(scenario.switches)})')
        missing = missing_modules(scenario.modules)
        if missing:
            raise LabError(f'{scenario.name} needs the kernel module {", ".join(missing)}, '
                           'which this kernel lacks')
        try:
            lab = Lab(scenario, session.switch, netprobe,
                      [os.path.abspath(p) for p in scenario_files], session.state,
                      builder, student,
                      os.path.abspath(results or records.default_results()))
            log(f'building the {scenario.name} lab ({session.switch}) ...')
            lab.open()
            lab.banner()
            lab.run_cli()
        except Interrupted:
            warn('signal received: tearing the lab down')
        finally:
            if lab is not None:
                lab.close()
                log('lab closed: network torn down')
    return EXIT_OK
