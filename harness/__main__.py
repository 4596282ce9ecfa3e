"""Command line: python3 -m harness list | run [SCENARIO ...] [options] | clean-net.

Exit status: 0 every cell passed; 1 some cell failed or could not be measured (or
clean-net could not remove everything); 2 usage or environment error, or an
interrupted run -- the message says what to do, and nothing is left built.
"""

import argparse
import glob
import importlib.util
import os
import signal
import sys
import time

from . import REPO, baseline, merge, network, probe, results, state, userprog
from .console import log, print_matrices, scenario_line, warn
from .scenario import ScenarioError, validate

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad input or environment: message printed, exit 2."""


class Interrupted(BaseException):
    """SIGTERM arrived (SIGINT arrives as KeyboardInterrupt)."""


# -- arguments --------------------------------------------------------------------------

def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog='python3 -m harness', description='Run bindlab scenarios on Mininet.',
        epilog='also: `lab SCENARIO [--switch K]` opens a scenario as an interactive lab; '
               '`check [SCENARIO]` re-probes the open lab (exit 0 solved, 1 not yet, '
               '2 no lab open)')
    sub = parser.add_subparsers(dest='command', required=True)
    lst = sub.add_parser('list', help='the scenarios, one line each')
    lst.add_argument('--scenario-file', action='append', default=[], metavar='FILE')
    run = sub.add_parser('run', help='run scenarios (default: the default suite)')
    run.add_argument('scenarios', nargs='*', metavar='SCENARIO')
    run.add_argument('--switch', choices=network.SWITCH_KINDS, default='auto')
    run.add_argument('--out', default=os.path.join(REPO, 'results'), metavar='DIR')
    run.add_argument('--shard', default='1/1', metavar='K/N',
                     help='run only the K-th of N slices of the selected scenarios')
    run.add_argument('--scenario-file', action='append', default=[], metavar='FILE',
                     help='also load scenarios from FILE (a Python scenario file); '
                          'without SCENARIO names, run only those')
    run.add_argument('-v', '--verbose', action='store_true')
    baseline.add_run_options(run)
    userprog.add_run_options(run)
    sub.add_parser('clean-net', help='remove what a killed run recorded as its own')
    baseline.add_commands(sub)      # diff, record, verify: they set args.handler
    merge.add_command(sub)
    return parser.parse_args(argv)


def parse_shard(text):
    """'K/N' -> (K, N) with 1 <= K <= N; raises UsageError."""
    try:
        k, n = (int(x) for x in text.split('/'))
    except ValueError:
        raise UsageError(f'--shard {text!r}: expected K/N, e.g. 2/4') from None
    if not 1 <= k <= n:
        raise UsageError(f'--shard {text!r}: need 1 <= K <= N')
    return k, n


# -- scenarios ------------------------------------------------------------------------------

def load_file(path):
    """The scenarios of one scenario file; raises UsageError naming the file."""
    name = 'bindlab_scenarios_' + os.path.splitext(os.path.basename(path))[0]
    try:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    except FileNotFoundError:
        raise UsageError(f'scenario file {path}: not found') from None
    except Exception as exc:
        raise UsageError(f'scenario file {path}: {type(exc).__name__}: {exc}') from None
    found = getattr(module, 'scenarios', [])
    out = []
    for sc in found:
        try:
            validate(sc, sc.topo())
        except ScenarioError as exc:
            raise UsageError(f'scenario file {path}: {exc}') from None
        except Exception as exc:
            raise UsageError(f'scenario file {path}: scenario '
                             f'{getattr(sc, "name", sc)!r}: {type(exc).__name__}: '
                             f'{exc}') from None
        out.append(_with_source(sc, path))
    return out


def _with_source(sc, path):
    from dataclasses import replace
    return replace(sc, source=os.path.relpath(path, REPO))


def load_all(extra_files):
    """(repository scenarios sorted by order, scenarios from extra files)."""
    repo = []
    for path in sorted(glob.glob(os.path.join(REPO, 'topologies', '*.py'))):
        if not os.path.basename(path).startswith('_'):
            repo += load_file(path)
    extra = [sc for path in extra_files for sc in load_file(os.path.abspath(path))]
    names = [sc.name for sc in repo + extra]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise UsageError(f'scenario names used twice: {", ".join(dup)}')
    return sorted(repo, key=lambda s: (s.order, s.name)), extra


def select(repo, extra, names, shard):
    """The scenarios to run, in order, for the names asked and the shard."""
    known = {sc.name: sc for sc in repo + extra}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise UsageError(f'unknown scenario {", ".join(unknown)}; known: '
                         f'{", ".join(known)} (python3 -m harness list)')
    if names:
        chosen = [known[n] for n in dict.fromkeys(names)]
    elif extra:
        chosen = extra
    else:
        chosen = [sc for sc in repo if sc.default]
    k, n = shard
    return [sc for i, sc in enumerate(chosen) if i % n == k - 1]


# -- commands -----------------------------------------------------------------------------

def cmd_list(args):
    network_checks_for_list()
    repo, extra = load_all(args.scenario_file)
    for sc in repo + extra:
        mark = '' if sc.default else '  (not in the default suite)'
        print(f'{sc.name:16} {sc.title}  [{", ".join(sc.switches)}]{mark}')
    return EXIT_OK


def network_checks_for_list():
    try:
        import mininet.topo  # noqa: F401
    except ImportError as exc:
        raise UsageError(f'Mininet is not importable ({exc}); install it with '
                         '`sudo make deps-run` and use /usr/bin/python3') from None


def cmd_run(args):
    shard = parse_shard(args.shard)
    network.check_environment(args.switch)
    repo, extra = load_all(args.scenario_file)
    chosen = select(repo, extra, args.scenarios, shard)
    for sc in chosen:      # a program that cannot run: exit 2 before anything is built
        for program in userprog.programs_for(sc, args):
            userprog.method_of(program)
    netprobe = probe.netprobe_path()
    switch = network.choose_switch(args.switch, log)
    lock = state.acquire_lock()
    try:
        refuse_leftovers()
        chosen = fitting(chosen, switch)
        for sc in chosen:
            network.check_names_free(sc.topo())
        started_ovs = switch == 'ovs-user' and network.ensure_ovs(log)
        try:
            return run_suite(chosen, switch, netprobe, args)
        finally:
            if started_ovs:
                network.stop_ovs(log)
    finally:
        state.release_lock(lock)


def fitting(chosen, switch):
    """The scenarios that fit the switch kind; says which are skipped."""
    keep = [sc for sc in chosen if switch in sc.switches]
    for sc in chosen:
        if sc not in keep:
            log(f'{sc.name}: skipped, does not fit switch {switch} '
                f'(fits {", ".join(sc.switches)})')
    if not keep:
        raise UsageError(f'no selected scenario fits switch {switch}')
    return keep


def refuse_leftovers():
    """UsageError if an earlier run left things behind; forget an empty state."""
    old = state.read_state()
    if old is None:
        return
    left = state.leftovers(old)
    if left:
        raise UsageError(f'an earlier run ({old.get("run_id", "?")}) left '
                         f'{len(left)} things behind ({", ".join(left[:4])} ...); '
                         'run: sudo make clean-net')
    os.unlink(state.state_path())


def run_suite(chosen, switch, netprobe, args):
    """Run every chosen scenario, print, write results; returns the exit status."""
    from mininet.log import setLogLevel
    setLogLevel('info' if args.verbose else 'warning')
    run_id = results.new_run_id()
    run_state = state.State(run_id)
    meta = {'started': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()),
            'switch': switch, 'argv': sys.argv[1:], 'netprobe': netprobe,
            'environment': network.environment_facts(switch),
            'shard': args.shard}
    done = []
    try:
        for i, sc in enumerate(chosen, 1):
            log(f'[{i}/{len(chosen)}] {sc.name}: {sc.title}')
            res = run_scenario_checked(sc, switch, run_state, netprobe,
                                       userprog.programs_for(sc, args))
            done.append(res)
            log(scenario_line(res))
            print_matrices(res)
    finally:
        if not state.leftovers(run_state.data):   # else clean-net needs the record
            run_state.remove()
    meta['finished'] = time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())
    os.makedirs(args.out, exist_ok=True)
    run_dir = results.write_run(args.out, run_id, meta, done)
    userprog.save_logs(run_dir, done)
    total = {'pass': 0, 'bad': 0}
    for res in done:
        c = results.counts(res['cells'])
        total['pass'] += c['pass']
        total['bad'] += c['fail'] + c['error']
    log(f'results in {run_dir}')
    log(f'{total["pass"]} passed, {total["bad"]} failed')
    return baseline.after_run(args, run_dir, EXIT_OK if total['bad'] == 0 else EXIT_FAIL)


def run_scenario_checked(sc, switch, run_state, netprobe, programs=()):
    from .runner import run_scenario
    if not programs:
        return run_scenario(sc, switch, run_state, netprobe, log)
    progs = userprog.ProgramRun(sc, programs, run_state)     # the user's own programs
    return progs.result(run_scenario(sc, switch, run_state, netprobe, log,
                                     take=progs.take))


def cmd_clean_net(_args):
    if os.geteuid() != 0:
        raise UsageError('must run as root: sudo make clean-net')
    lock = state.acquire_lock()
    try:
        state.remove_stale_files()
        old = state.read_state()
        if old is None:
            log('nothing recorded: nothing to remove')
            return EXIT_OK
        left = state.clean(old, log)
        if left:
            warn('could not remove: ' + ', '.join(left))
            return EXIT_FAIL
        os.unlink(state.state_path())
        log(f'removed what run {old.get("run_id", "?")} left behind')
        return EXIT_OK
    finally:
        state.release_lock(lock)


def _on_sigterm(_signum, _frame):
    raise Interrupted()


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in ('lab', 'check'):
        from .lab import main as lab_main     # the interactive lab, same exit codes
        return lab_main(argv[1:] if argv[0] == 'lab' else argv)
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _on_sigterm)
    commands = {'list': cmd_list, 'run': cmd_run, 'clean-net': cmd_clean_net}
    try:
        return commands.get(args.command, getattr(args, 'handler', None))(args)
    except (UsageError, network.EnvError, probe.ProbeError, state.LockBusy,
            state.StateError, userprog.ProgramError) as exc:
        warn(str(exc))
        return EXIT_USAGE
    except (KeyboardInterrupt, Interrupted):
        warn('interrupted: the network was torn down; no result files written')
        return EXIT_USAGE


if __name__ == '__main__':
    sys.exit(main())
