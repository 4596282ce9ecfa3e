"""The teaching lab: a scenario's broken network, a Mininet CLI, and `check`.

    sudo make lab SCENARIO=wrong-host        (python3 -m harness.lab wrong-host)
    sudo make check SCENARIO=wrong-host      (python3 -m harness.lab check, from
                                              another terminal, against the open lab)

`lab` builds the scenario's network exactly as the harness does (build -> setup ->
readiness -> faults -> servers), takes the first matrix, prints a banner (the task,
the hosts and their addresses, what to try, the goal), puts `netprobe` and a
seed-style Python server (`seed-server ADDR PORT`) on PATH inside every host, and
opens Mininet's CLI with these extra commands:

    check     probe every case of the scenario again on the live network, list the
              cells that changed since the last check, and say whether the goal holds
    goal      show the goal          matrix   print the current matrices
    sheet     print the lab sheet    banner   print the banner again

Leaving the CLI (exit, Ctrl-D) tears everything down the way the harness does
(servers by PID, net.stop(), then whatever the state file still records); so do
SIGTERM and SIGHUP.  The lab holds the harness's run lock while it is open: one
network at a time.

The goal comes from the lab sheet (labs/<scenario>.md), in a fenced block whose info
string is `goal`, one requirement a line:

    HOST KIND COLUMN -> OUTCOME [PEER]     e.g.  h2 bind tcp 10.0.0.1 -> OK
                                                 * connect tcp 10.0.0.2:7001 -> OK h2
    all cells pass                         every cell as the scenario expects

HOST may be `*` (every host that has that column); COLUMN is the cell's column label
as matrix.json and the report show it.  A goal line that names no cell of the
scenario is an error at start (exit 2), so a sheet cannot silently drift away from
its scenario.  A sheet without a goal block still gets `check` (changes only).

`check` from outside finds the open lab through /run/bindlab/lab.json (scenario,
host shell PIDs, last cells) and runs each host's batch inside that host's network
namespace with nsenter, after checking that the PID still is that host's shell.
Exit status of `check`: 0 goal holds, 1 it does not (or no goal), 2 no lab open.
"""

import argparse
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile

from . import PREFIX, REPO, network, probe, runner, state
from .console import log, print_matrices, warn

LABS_DIR = os.path.join(REPO, 'labs')
EXIT_OK, EXIT_NOT_SOLVED, EXIT_USAGE = 0, 1, 2

SEED_SERVER = '''#!/usr/bin/python3
"""seed-server ADDR PORT [SECONDS]: the seed's Python server, as a student writes it.

Binds ADDR:PORT exactly like the seed (socket.bind((ADDR, PORT))), so a wrong
address fails the seed's way: OSError: [Errno 99] Cannot assign requested address.
Then listens, says so, answers each client with "seed-server HOST" for SECONDS
(default 0: exit right away, the port is free again for the next try).
"""
import os
import socket
import sys
import time

if len(sys.argv) not in (3, 4):
    sys.exit("usage: seed-server ADDR PORT [SECONDS]")
addr, port = sys.argv[1], int(sys.argv[2])
seconds = float(sys.argv[3]) if len(sys.argv) == 4 else 0.0
family = socket.AF_INET6 if ":" in addr else socket.AF_INET
s = socket.socket(family, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((addr, port))
s.listen()
print(f"seed-server: listening on {addr}:{port}", flush=True)
host = os.environ.get("NETPROBE_HOST") or socket.gethostname()
deadline = time.monotonic() + seconds
while time.monotonic() < deadline:
    s.settimeout(max(0.01, deadline - time.monotonic()))
    try:
        conn, peer = s.accept()
    except socket.timeout:
        break
    with conn:
        conn.sendall(f"seed-server {host}\\n".encode())
s.close()
'''


class LabError(Exception):
    """The lab cannot be opened or checked: message printed, exit 2."""


# -- goals --------------------------------------------------------------------------------

_GOAL_LINE = re.compile(r'^(\S+)\s+(bind|connect)\s+(.+?)\s*->\s*(\S+)(?:\s+(\S+))?\s*$')


def sheet_path(name):
    """labs/<name>.md."""
    return os.path.join(LABS_DIR, f'{name}.md')


def read_goal(text):
    """The goal lines of a lab sheet's ```goal block: [(lineno, line)], [] if none."""
    lines = text.splitlines()
    out, inside = [], False
    for n, line in enumerate(lines, 1):
        stripped = line.strip()
        if not inside and re.match(r'^(```|~~~)\s*goal\s*$', stripped):
            inside = True
        elif inside and stripped.startswith(('```', '~~~')):
            inside = False
        elif inside and stripped and not stripped.startswith('#'):
            out.append((n, stripped))
    return out


def parse_goal(goal_lines, cells, where):
    """Requirements from goal lines, checked against the scenario's cells.

    Returns [{'text', 'all'} | {'text', 'host', 'kind', 'column', 'outcome', 'peer'}].
    Raises LabError naming the line when it is malformed or matches no cell.
    """
    reqs = []
    for n, line in goal_lines:
        if line == 'all cells pass':
            reqs.append({'text': line, 'all': True})
            continue
        m = _GOAL_LINE.match(line)
        if not m:
            raise LabError(f'{where} line {n}: goal line {line!r} is not '
                           '"HOST KIND COLUMN -> OUTCOME [PEER]" or "all cells pass"')
        host, kind, column, outcome, peer = m.groups()
        req = {'text': line, 'all': False, 'host': host, 'kind': kind, 'column': column,
               'outcome': outcome, 'peer': peer}
        if not goal_cells(req, cells):
            raise LabError(f'{where} line {n}: goal line {line!r} names no cell of the '
                           'scenario (check the host, the kind and the column label)')
        reqs.append(req)
    return reqs


def goal_cells(req, cells):
    """The cells a requirement is about."""
    return [c for c in cells if c['kind'] == req['kind'] and c['column'] == req['column']
            and req['host'] in ('*', c['host'])]


def judge_goal(reqs, cells):
    """(holds, [text of each requirement that does not hold, with what is there])."""
    missing = []
    for req in reqs:
        if req['all']:
            bad = [c for c in cells if c['verdict'] != 'pass']
            if bad:
                missing.append(f'{req["text"]}: {len(bad)} cell(s) differ, e.g. '
                               f'{_cell_name(bad[0])} is {_cell_state(bad[0])}, '
                               f'expected {bad[0]["expected"]}')
            continue
        for cell in goal_cells(req, cells):
            ok = cell['actual'] == req['outcome'] and (
                req['peer'] is None or cell.get('peer') == req['peer'])
            if not ok:
                want = req['outcome'] + (f' from {req["peer"]}' if req['peer'] else '')
                missing.append(f'{_cell_name(cell)} is {_cell_state(cell)}, the goal is '
                               f'{want}')
    return not missing and bool(reqs), missing


def _cell_name(cell):
    return f'{cell["host"]} {cell["kind"]} {cell["column"]}'


def _cell_state(cell):
    """'OK', 'OK (answered by h3)', 'EADDRNOTAVAIL', 'ERROR (message)'."""
    text = cell['actual']
    if cell['actual'] == 'OK' and cell.get('peer'):
        text += f' (answered by {cell["peer"]})'
    if cell['verdict'] == 'error' and cell.get('message'):
        text += f' ({cell["message"]})'
    return text


def changes(before, after):
    """Lines 'HOST KIND COLUMN: OLD -> NEW' for the cells whose outcome changed."""
    old = {c['id']: c for c in before}
    out = []
    for cell in after:
        prev = old.get(cell['id'])
        if prev is None:
            continue
        if (prev['actual'], prev.get('peer')) != (cell['actual'], cell.get('peer')):
            out.append(f'{_cell_name(cell)}: {_cell_state(prev)} -> {_cell_state(cell)}')
    return out


# -- scenario lookup (the harness's own loader) -----------------------------------------------

def find_scenario(name, scenario_files):
    """The Scenario called name, from topologies/ or the given scenario files."""
    from .__main__ import UsageError, load_all, select
    try:
        repo, extra = load_all(scenario_files)
        return select(repo, extra, [name], (1, 1))[0]
    except UsageError as exc:
        raise LabError(str(exc)) from None


def load_goal(scenario, cells):
    """(requirements, sheet path or None) for the scenario."""
    path = sheet_path(scenario.name)
    if not os.path.isfile(path):
        return [], None
    with open(path, encoding='utf-8') as f:
        lines = read_goal(f.read())
    return parse_goal(lines, cells, os.path.relpath(path, REPO)), path


# -- probing a live network ----------------------------------------------------------------------

def probe_cells(net, scenario, run_state, netprobe):
    """Every case of scenario probed now on net; the judged cells (harness format)."""
    records = probe.run_batches(net, scenario, probe.make_plans(scenario), run_state,
                                netprobe)
    return runner.judge(scenario, records, None, None)


def report_check(before, after, reqs, out=print):
    """Print what changed and whether the goal holds; returns True when solved."""
    changed = changes(before, after)
    what = (f'{len(changed)} cell{"s" if len(changed) > 1 else ""} changed since the '
            'last check:') if changed else 'no cell changed since the last check'
    out(f'{PREFIX}check: {len(after)} cells probed; {what}')
    for line in changed:
        out(f'    {line}')
    if not reqs:
        out(f'{PREFIX}this lab has no goal block in its sheet: compare the cells yourself '
            '(`matrix`)')
        return False
    solved, missing = judge_goal(reqs, after)
    if solved:
        out(f'{PREFIX}SOLVED: the goal holds ({"; ".join(r["text"] for r in reqs)})')
    else:
        out(f'{PREFIX}not solved yet: {len(missing)} requirement(s) of the goal do not hold')
        for line in missing[:10]:
            out(f'    {line}')
    return solved


# -- the lab file (for `check` from outside) ----------------------------------------------------

def lab_file():
    return os.path.join(state.RUN_DIR, 'lab.json')


def save_lab(info):
    state.write_json_atomic(lab_file(), info)


def read_lab():
    """The open lab's record, or raise LabError when no lab is open."""
    import json
    try:
        with open(lab_file()) as f:
            info = json.load(f)
    except FileNotFoundError:
        raise LabError('no lab is open: start one with `sudo make lab SCENARIO=name`') \
            from None
    except (OSError, ValueError) as exc:
        raise LabError(f'{lab_file()}: {exc}') from None
    if not state.pid_matches(info.get('pid', 0), 'harness'):
        raise LabError(f'the lab recorded in {lab_file()} (pid {info.get("pid")}) is not '
                       'running any more; if its network was left behind: sudo make '
                       'clean-net')
    return info


class _NsHost:
    """A Mininet host seen from outside: popen enters its network namespace."""

    def __init__(self, name, pid):
        if not state.pid_matches(pid, f'mininet:{name}'):
            raise LabError(f'host {name}: pid {pid} is no longer its shell; is the lab '
                           'still open?')
        self.name, self.pid = name, pid

    def popen(self, argv, **kw):
        kw.setdefault('stdin', subprocess.PIPE)
        kw.setdefault('stdout', subprocess.PIPE)
        kw.setdefault('stderr', subprocess.PIPE)
        return subprocess.Popen(['nsenter', f'--net=/proc/{self.pid}/ns/net', '--']
                                + list(argv), **kw)


class _NsNet:
    """Enough of a Mininet object for probe.run_batches: get(name) -> host."""

    def __init__(self, hosts):
        self.hosts = {name: _NsHost(name, pid) for name, pid in hosts.items()}

    def get(self, name):
        return self.hosts[name]


class _NoState:
    """The state-file interface (add_pid, drop_pid, add_pids ...), doing nothing: an
    outside check creates nothing that outlives it (its batches end within their
    timeout), so there is nothing to record for clean-net."""

    def __getattr__(self, name):
        if name.startswith(('add_', 'drop_')):
            return lambda *args, **kwargs: None
        raise AttributeError(name)


def cmd_check(args):
    """`check` from outside: re-probe the open lab; exit 0 solved, 1 not."""
    if os.geteuid() != 0:
        raise LabError('must run as root (it enters the lab hosts\' namespaces): '
                       'sudo make check')
    info = read_lab()
    if args.scenario and args.scenario != info['scenario']:
        raise LabError(f'the open lab is {info["scenario"]}, not {args.scenario}')
    scenario = find_scenario(info['scenario'], info.get('scenario_files', []))
    after = probe_cells(_NsNet(info['hosts']), scenario, _NoState(), info['netprobe'])
    reqs, _ = load_goal(scenario, after)
    solved = report_check(info['cells'], after, reqs)
    info = dict(read_lab(), cells=after)
    save_lab(info)
    return EXIT_OK if solved else EXIT_NOT_SOLVED


# -- the lab itself ---------------------------------------------------------------------------------

class Lab:
    """One open lab: the network, its servers, the cells, the goal."""

    def __init__(self, scenario, switch, netprobe, scenario_files):
        self.scenario, self.switch, self.netprobe = scenario, switch, netprobe
        self.scenario_files = scenario_files
        self.net, self.servers, self.run_state = None, None, None
        self.cells, self.reqs, self.sheet, self.bindir = [], [], None, None
        self.workdir = None
        self.steps = []

    # building and tearing down, the harness's way
    def open(self):
        """Build, prepare, start servers, take the first matrix; raise LabError."""
        from .results import new_run_id
        sc = self.scenario
        self.run_state = state.State('lab-' + new_run_id())
        self.servers = probe.Servers(self.run_state)
        self.workdir = tempfile.mkdtemp(prefix='lab-', dir=state.RUN_DIR)
        topo = sc.topo()
        network.check_names_free(topo)
        self.net = network.build(topo, self.switch, self.run_state)
        network.start(self.net, self.switch)
        problem = runner.prepare(self.net, sc, self.steps, self.netprobe, self.run_state,
                                 self.workdir)
        if problem:
            raise LabError(f'{sc.name}: {problem}')
        errors = self.servers.start_all(self.net, sc.servers, self.netprobe, self.workdir)
        if errors:
            raise LabError(f'{sc.name}: ' + '; '.join(errors))
        self.cells = probe_cells(self.net, sc, self.run_state, self.netprobe)
        self.reqs, self.sheet = load_goal(sc, self.cells)
        self.bindir = self._install_tools()
        save_lab({'scenario': sc.name, 'scenario_files': self.scenario_files,
                  'pid': os.getpid(), 'netprobe': self.netprobe, 'switch': self.switch,
                  'hosts': {h.name: h.pid for h in self.net.hosts}, 'cells': self.cells})

    def close(self):
        """Tear everything down (servers, network, state leftovers, lab files)."""
        for path in (lab_file(),):
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
        if self.servers is not None:
            runner.teardown(self.net, self.servers, self.run_state, log)
        for path in (self.bindir, self.workdir):
            if path:
                shutil.rmtree(path, ignore_errors=True)
        if self.run_state is not None and not self.run_state.data['pids'] \
                and not self.run_state.data['links']:
            self.run_state.remove()

    def _install_tools(self):
        """A bin folder with netprobe and seed-server, on PATH in every host shell."""
        bindir = tempfile.mkdtemp(prefix='bin-', dir=state.RUN_DIR)
        os.chmod(bindir, 0o755)
        os.symlink(self.netprobe, os.path.join(bindir, 'netprobe'))
        seed = os.path.join(bindir, 'seed-server')
        with open(seed, 'w') as f:
            f.write(SEED_SERVER)
        os.chmod(seed, 0o755)
        for host in self.net.hosts:
            host.cmd(f'export PATH={shlex.quote(bindir)}:"$PATH" '
                     f'NETPROBE_HOST={shlex.quote(host.name)}')
        return bindir

    # what the student reads
    def banner(self, out=print):
        sc = self.scenario
        out(f'\n=== bindlab lab: {sc.name} ===')
        out(f'Task: {sc.title}.')
        if self.sheet:
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
            for req in self.reqs:
                out(f'  {req["text"]}')
        out('\nCommands: check (probe again, show what changed, is the goal met), goal, '
            'matrix, sheet, banner; exit tears the network down.\n')

    def try_lines(self):
        """Commands worth typing first: the goal's cells, else failing cells.

        A cell whose plan options have no command-line form (`hold`, `nolisten`,
        `family=`), or whose host holds sockets across its batch (its outcome depends
        on the cases before it), is left out: typed alone it would not show what the
        matrix shows.
        """
        held = {c.host for c in self.scenario.cases if 'hold' in c.options}

        def typeable(cell):
            return cell['host'] not in held and _cli_options(cell) is not None

        cells = []
        for req in self.reqs:
            if not req['all']:
                cells += [c for c in goal_cells(req, self.cells)
                          if c['actual'] != req['outcome'] and typeable(c)][:1]
        if not cells:
            cells = [c for c in self.cells if c['actual'] != 'OK' and typeable(c)][:1]
        lines = []
        for cell in cells[:3]:
            opts = ''.join(f'{o} ' for o in _cli_options(cell))
            where = f'{cell["addr"]} {cell["port"]}'
            if cell['kind'] == 'bind':
                lines += [f'{cell["host"]} netprobe bind {opts}{where}',
                          f'{cell["host"]} netprobe diagnose '
                          f'{"--udp " if cell["proto"] == "udp" else ""}{where}']
                if cell['proto'] == 'tcp' and not cell['options']:
                    lines.append(f'{cell["host"]} seed-server {where}')
            else:
                lines.append(f'{cell["host"]} netprobe connect {opts}{where}')
        lines.append(f'{self.net.hosts[0].name} netprobe addrs')
        return lines

    def check(self, out=print):
        """Re-probe, report, remember; True when solved."""
        after = probe_cells(self.net, self.scenario, self.run_state, self.netprobe)
        try:
            before = read_lab()['cells']
        except LabError:
            before = self.cells
        solved = report_check(before, after, self.reqs, out)
        self.cells = after
        try:
            save_lab(dict(read_lab(), cells=after))
        except LabError:
            pass
        return solved

    def run_cli(self):
        """Mininet's CLI with the lab's commands, until the student leaves."""
        from mininet.cli import CLI
        lab = self

        class LabCLI(CLI):
            """Mininet's CLI plus check, goal, matrix, sheet, banner."""

            def do_check(self, _line):
                """Probe the scenario again; show what changed and whether the goal holds."""
                lab.check()

            def do_goal(self, _line):
                """Show the goal of this lab."""
                for req in lab.reqs or [{'text': '(no goal block in the lab sheet)'}]:
                    print(f'  {req["text"]}')

            def do_matrix(self, _line):
                """Print the matrices of the last probe."""
                print_matrices({'scenario': lab.scenario.name, 'cells': lab.cells})

            def do_sheet(self, _line):
                """Print the lab sheet."""
                if lab.sheet:
                    with open(lab.sheet, encoding='utf-8') as f:
                        print(f.read())
                else:
                    print('(this scenario has no lab sheet)')

            def do_banner(self, _line):
                """Print the banner again."""
                lab.banner()

        LabCLI(self.net)


_CLI_FLAGS = {'reuseaddr': '--reuseaddr', 'reuseport': '--reuseport',
              'freebind': '--freebind', 'nogreet': '--no-greet'}
_CLI_VALUES = {'v6only': '--v6only', 'dev': '--dev', 'src': '--src', 'sport': '--sport',
               'timeout': '--timeout'}


def _cli_options(cell):
    """The netprobe command-line options of a cell's plan options, or None when one
    has no command-line form."""
    out = ['--udp'] if cell['proto'] == 'udp' else []
    for opt in cell.get('options') or ():
        name, _, value = opt.partition('=')
        if name in _CLI_FLAGS and not value:
            out.append(_CLI_FLAGS[name])
        elif name in _CLI_VALUES and value:
            out += [_CLI_VALUES[name], value]
        else:
            return None
    return out


def _host_addresses(host):
    """`ip -br addr` lines of a host (lo left out)."""
    proc = host.popen(['ip', '-br', 'addr', 'show'])
    out, _err = proc.communicate()
    lines = [ln.strip() for ln in out.decode(errors='replace').splitlines()
             if ln.strip() and not ln.startswith('lo ')]
    return [re.sub(r'\s+', ' ', ln) for ln in lines] or ['(no interfaces)']


class _Stop(BaseException):
    """SIGTERM or SIGHUP: leave the CLI and tear down."""


def _on_signal(_signum, _frame):
    raise _Stop()


def cmd_lab(args):
    """Open the lab, run the CLI, tear down; exit 0 (2 when it could not open)."""
    from .__main__ import refuse_leftovers, UsageError
    from mininet.log import setLogLevel
    network.check_environment(args.switch)
    scenario = find_scenario(args.scenario, args.scenario_file)
    netprobe = probe.netprobe_path()
    switch = network.choose_switch(args.switch, log)
    if switch not in scenario.switches:
        raise LabError(f'{scenario.name} does not fit switch {switch} '
                       f'(fits {", ".join(scenario.switches)})')
    # 'output', not 'warning': the CLI prints what host commands write at that level.
    setLogLevel('info' if args.verbose else 'output')
    lock = state.acquire_lock()
    lab = None
    old = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        try:
            refuse_leftovers()
        except UsageError as exc:
            raise LabError(str(exc)) from None
        lab = Lab(scenario, switch, netprobe,
                  [os.path.abspath(p) for p in args.scenario_file])
        log(f'building the {scenario.name} lab ({switch}) ...')
        lab.open()
        lab.banner()
        lab.run_cli()
    except _Stop:
        warn('signal received: tearing the lab down')
    finally:
        if lab is not None:
            lab.close()
            log('lab closed: network torn down')
        for sig, handler in old.items():
            signal.signal(sig, handler)
        state.release_lock(lock)
    return EXIT_OK


# -- command line --------------------------------------------------------------------------------

def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog='python3 -m harness.lab',
        description='Open a scenario as an interactive lab, or check the open lab.')
    parser.add_argument('scenario', nargs='?', metavar='SCENARIO|check')
    parser.add_argument('rest', nargs='?', metavar='SCENARIO',
                        help='after `check`: the scenario the open lab must be')
    parser.add_argument('--switch', choices=network.SWITCH_KINDS, default='auto')
    parser.add_argument('--scenario-file', action='append', default=[], metavar='FILE')
    parser.add_argument('-v', '--verbose', action='store_true')
    args = parser.parse_args(argv)
    if args.scenario == 'check':
        args.command, args.scenario = 'check', args.rest
    elif args.scenario is None:
        parser.error('name a scenario (python3 -m harness list), or `check`')
    elif args.rest is not None:
        parser.error(f'unexpected argument {args.rest!r}')
    else:
        args.command = 'lab'
    return args


def main(argv=None):
    try:
        args = parse_args(sys.argv[1:] if argv is None else argv)
    except SystemExit as exc:
        return EXIT_USAGE if exc.code else EXIT_OK
    try:
        return cmd_check(args) if args.command == 'check' else cmd_lab(args)
    except (LabError, network.EnvError, probe.ProbeError, state.LockBusy) as exc:
        warn(str(exc))
        return EXIT_USAGE
    except KeyboardInterrupt:     # Ctrl-C before the CLI was open: already torn down
        warn('interrupted: the lab was torn down')
        return EXIT_USAGE


if __name__ == '__main__':
    sys.exit(main())
