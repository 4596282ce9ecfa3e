"""Commands for many namespaces at once: the bindlab builder's primitives (fastnet.py).

    BatchedShell, spawn_shell, await_shells   Mininet node shells spawned without
                            waiting for each prompt, then awaited all together;
    run_everywhere          commands in many shells at once (Mininet's
                            sendCmd/waitOutput across nodes, with a timeout); more
                            than one short line goes through a script file the
                            shell sources, since a pty cuts a long line;
    run_in_shells           argument lists in many shells at once, each with its own
                            stdin, stdout, stderr and exit status;
    start_in_shells         long-running ones (servers, batches) started as
                            background jobs of the shells: their PIDs at once;
    run_batches             `ip -force -batch` files, in shells at once or in the root
                            namespace;
    hang_up, delete_together   teardown: every shell signalled at once (every
                            process group of its session, timeout(1)'s own too),
                            root-namespace interfaces deleted with one `ip -batch`
                            ending in one netlink request.

Nothing here decides what a network is; fastnet.py does, with these.  Nothing
here chooses between a shell and a Popen either: hosts.py does.
"""

import json
import os
import pty
import re
import select
import shlex
import shutil
import signal
import subprocess
import termios
import time

from mininet.node import Node

from ..errors import EnvError
from ..files import read_output
from ..ledger import (alive, groups_of_sessions, identity, interface_alias, parent, stop,
                      work_folder)

SHELL_READY_S = 30.0
SHELL_ANSWER_S = 120.0   # for commands that bound their own time (ping -W1, ip -batch)
# A shell's pty is in canonical mode: the kernel keeps at most 4095 bytes of a line
# and drops the rest, so a longer line runs cut (a status lost, a quote left open
# and the shell waiting for its end, a redirect to a cut path).  A line sent to a
# shell is kept well under that (DIRECT_MAX); more goes through a script file.
PTY_LINE_MAX = 4095
DIRECT_MAX = 1024
GROUP_BASE = 0x40000000     # teardown_group's; ip takes groups up to 2**31 - 1


# -- shells ---------------------------------------------------------------------------

class BatchedShell(Node):
    """Mixin for the harness's node classes (network.node_classes): startShell()
    spawns the shell and returns at once; await_shells() waits for many at once.
    What a constructor runs meanwhile (a switch's `ifconfig lo up`) is kept and run
    as soon as the shell answers."""

    queued = None

    def startShell(self, mnopts=None):
        spawn_shell(self, mnopts)

    def record_shell(self):
        """Called for each shell once it answers, all within one State.batched()
        (network.node_classes records the shell and its namespace there)."""

    def cmd(self, *args, **kwargs):
        if self.queued is None:
            return super().cmd(*args, **kwargs)
        words = args[0] if len(args) == 1 and isinstance(args[0], list) else args
        self.queued.append(' '.join(str(w) for w in words))
        return ''


def spawn_shell(node, mnopts=None):
    """Start node's shell as Mininet's Node.startShell does (mnexec -cd, plus n for a
    new network namespace; bash on a pty, PS1 chr(127)) without waiting for it."""
    opts = ('-cd' if mnopts is None else mnopts) + ('n' if node.inNamespace else '')
    node.master, node.slave = pty.openpty()
    attrs = termios.tcgetattr(node.slave)
    attrs[3] &= ~termios.ECHO
    termios.tcsetattr(node.slave, termios.TCSANOW, attrs)
    node.shell = node._popen(
        ['mnexec', opts, 'bash', '--norc', '--noediting', '-is', 'mininet:' + node.name],
        stdin=node.slave, stdout=node.slave, stderr=node.slave, close_fds=False,
        env=dict(os.environ, PS1=chr(127)))
    node.stdin = node.stdout = os.fdopen(node.master, 'r')
    node.pid = node.shell.pid
    node.pollOut = select.poll()
    node.pollOut.register(node.stdout)
    node.outToNode[node.stdout.fileno()] = node
    node.inToNode[node.stdin.fileno()] = node
    node.execed, node.lastCmd, node.lastPid, node.readbuf = False, None, None, ''
    node.queued, node.waiting = [], True
    node.write('unset HISTFILE; set +m\n')


def await_shells(nodes, seconds=SHELL_READY_S):
    """Wait until every shell spawn_shell() started has answered (two prompts: its
    own, and the one after the setup line), then run what was queued meanwhile.

    Raises EnvError naming a shell that exited or did not answer in time."""
    deadline = time.monotonic() + seconds
    for node in nodes:
        prompts = 0
        while prompts < 2:
            if node.shell.poll() is not None:
                raise EnvError(f'the shell of {node.name} exited with '
                               f'{node.shell.returncode} as it started')
            if time.monotonic() > deadline:
                raise EnvError(f'the shell of {node.name} did not start within '
                               f'{seconds:.0f} s')
            if _readable(node, 0.1):
                prompts += node.read(1024).count(chr(127))
        node.waiting = False
    queued = {node: '; '.join(node.queued) for node in nodes if node.queued}
    for node in nodes:
        node.queued = None
    run_everywhere(queued)


def run_everywhere(commands, timeout=SHELL_ANSWER_S):
    """Send each node its commands (text: one line or several), all at once, then
    collect each output: {node: output}.  (Mininet's sendCmd and waitOutput, across
    nodes at once.)  A text of more than one line or of more than DIRECT_MAX bytes is
    written to a script file that the shell sources (`. FILE`, one short line); the
    file is removed once every shell answered.

    Raises EnvError naming the host when a line would still be longer than its pty
    passes (nothing is sent then), or naming the shells that did not answer within
    timeout seconds (they are left running what they were sent, and waiting)."""
    folder = None
    try:
        lines = {}
        for n, (node, text) in enumerate(commands.items()):
            if '\n' in text or len(text.encode()) > DIRECT_MAX:
                folder = folder or work_folder('work-script-')
                path = os.path.join(folder, f'{n}.sh')
                with open(path, 'w') as f:
                    f.write(text + '\n')
                text = f'. {shlex.quote(path)}'
            lines[node] = _short_line(node, text)
        for node, line in lines.items():
            node.sendCmd(line)
        return _outputs(list(lines), timeout)
    finally:
        if folder:
            shutil.rmtree(folder, ignore_errors=True)


def _short_line(node, line):
    """line, when its pty passes it whole; else EnvError naming node."""
    size = len(line.encode())
    if size > PTY_LINE_MAX:
        raise EnvError(f'the harness made a command line of {size} bytes for the shell '
                       f'of {node.name}; its pty passes at most {PTY_LINE_MAX}')
    return line


def _outputs(nodes, timeout):
    """Each node's output up to its prompt, {node: output}, waiting at most timeout
    seconds for all (Mininet's waitOutput, bounded); EnvError naming the late ones."""
    deadline = time.monotonic() + timeout
    said = {}
    for node in nodes:
        parts = []
        while node.waiting:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            if _readable(node, left):
                parts.append(node.monitor())
        said[node] = ''.join(parts)
    late = [node.name for node in nodes if node.waiting]
    if late:
        raise EnvError(f'the shell of {", ".join(late[:5])}'
                       f'{" and others" if len(late) > 5 else ""} gave no answer '
                       f'within {timeout:.0f} s')
    return said


def _readable(node, seconds):
    """True when node's shell has output to read within seconds.  (Mininet's
    pollOut also reports the pty writable, so its poll and monitor's timeout never
    wait: a read then blocks until the shell writes.)"""
    if node.readbuf:
        return True
    return bool(select.select([node.stdout.fileno()], [], [], seconds)[0])


_STATUS = re.compile(r'^@bindlab-(\d+):(\d+)\s*$', re.M)


def run_in_shells(commands):
    """Run each (node, argv, stdin text or None, timeout seconds or None) in node's
    shell, every command at once (a node's as background jobs its shell waits for,
    and only for those).  Returns [(status, stdout, stderr)] in the order given; a
    command stopped at its timeout has status 124 (timeout(1); None: a command that
    bounds its own time, run without that second process), one whose status never
    came back 255.  Output goes through files of a fresh folder of the run
    directory, removed afterwards: when the shells did not answer (EnvError, see
    run_everywhere) or the harness was interrupted meanwhile, the jobs are ended by
    PID first (a timeout(1) job with its process group)."""
    folder = work_folder('work-shell-')
    answered, hosts = False, {}
    try:
        scripts, longest = {}, 0
        for k, (node, argv, stdin, seconds) in enumerate(commands):
            base = os.path.join(folder, str(k))
            pids = os.path.join(folder, f'{hosts.setdefault(node, len(hosts))}.pids')
            source = '/dev/null'
            if stdin is not None:
                source = base + '.in'
                with open(source, 'w') as f:
                    f.write(stdin)
            words = ([] if seconds is None else ['timeout', '-k', '1', f'{seconds:g}']) + \
                [str(w) for w in argv]
            longest = max(longest, 0 if seconds is None else seconds + 1)
            # each job started (one fork: no subshell), its PID noted, then each
            # awaited by its PID: a server started earlier is a job of the same
            # shell, and is not waited for
            scripts.setdefault(node, []).append((
                ' '.join(map(shlex.quote, words)) + f' <{shlex.quote(source)} '
                f'>{shlex.quote(base)}.out 2>{shlex.quote(base)}.err & bindlab_{k}=$!; '
                f'echo $! >>{shlex.quote(pids)}',
                f'wait $bindlab_{k}; echo @bindlab-{k}:$?'))
        said = run_everywhere({node: '\n'.join([a for a, _w in each] + [w for _a, w in each])
                               for node, each in scripts.items()},
                              SHELL_ANSWER_S + longest)
        answered = True
        status = {int(k): int(rc) for out in said.values() for k, rc in _STATUS.findall(out)}
        return [(status.get(k, 255), read_output(os.path.join(folder, f'{k}.out')),
                 read_output(os.path.join(folder, f'{k}.err')) or
                 ('' if k in status else 'no exit status came back from the shell'))
                for k in range(len(commands))]
    finally:
        if not answered:
            _end_jobs(folder, hosts)
        shutil.rmtree(folder, ignore_errors=True)


def _end_jobs(folder, hosts):
    """End the jobs run_in_shells started ({node: n}, their PIDs in folder/n.pids)
    that still run as children of their node's shell (procs.stop: a timeout(1) job
    leads its own process group and gets the signal to it)."""
    targets = []
    for node, n in hosts.items():
        try:
            with open(os.path.join(folder, f'{n}.pids')) as f:
                pids = [int(w) for w in f.read().split()]
        except (OSError, ValueError):
            continue
        for pid in pids:
            ident = identity(pid)
            if node.shell is not None and parent(pid) == node.shell.pid and \
                    alive(ident):
                targets.append(ident)
    stop(targets, 0.5)


def start_in_shells(commands):
    """Start each (node, argv, stdin path, stdout path, stderr path) as a background
    job of node's shell, all at once; returns their PIDs in the order given (None
    where none came back).  The caller records them and ends them by PID."""
    lines = {}
    for k, (node, argv, stdin, stdout, stderr) in enumerate(commands):
        lines.setdefault(node, []).append(
            ' '.join(shlex.quote(str(w)) for w in argv) + f' <{shlex.quote(stdin)} '
            f'>{shlex.quote(stdout)} 2>{shlex.quote(stderr)} & echo @bindlab-{k}:$!')
    said = run_everywhere({node: '\n'.join(each) for node, each in lines.items()})
    pids = {int(k): int(pid) for out in said.values() for k, pid in _STATUS.findall(out)}
    return [pids.get(k) for k in range(len(commands))]


def hang_up(nodes):
    """SIGHUP to every process group in the session of every shell still running
    (Node.terminate's signal, sent to all before any is waited for): the shell's own
    group with its jobs, and the group a timeout(1) job makes its own, which a
    signal to the shell's group misses.  Never the harness's own group."""
    shells = {node.shell.pid for node in nodes
              if node.shell is not None and node.shell.poll() is None}
    groups = shells | groups_of_sessions(shells)
    for group in groups - {os.getpgrp()}:
        try:
            os.killpg(group, signal.SIGHUP)
        except ProcessLookupError:
            pass


# -- ip batches ------------------------------------------------------------------------

def run_batches(batches, log=None):
    """Run `ip -force -batch` over the lines of each {where: lines}: where is a node
    (in its shell, every node at once) or None (the root namespace, a subprocess).
    Each batch is a file (so that a killed run's half-sent batch still ends with its
    marks); what ip prints, the lines that failed, is logged."""
    batches = {where: lines for where, lines in batches.items() if lines}
    folder = work_folder('work-batch-')
    try:
        paths = {}
        for n, (where, lines) in enumerate(batches.items()):
            paths[where] = os.path.join(folder, f'{n}.batch')
            with open(paths[where], 'w') as f:
                f.write('\n'.join(lines) + '\n')
        root = paths.pop(None, None)
        outputs = run_everywhere({node: f'ip -force -batch {path}'
                                  for node, path in paths.items()})
        if root:
            outputs[None] = run_to_end(['ip', '-force', '-batch', root], root + '.out')
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    for where, out in outputs.items():
        if out.strip() and log:
            log(f'ip -batch in {where.name if where else "the root namespace"}: '
                f'{" ".join(out.split())[:500]}')


def run_to_end(argv, out_path, timeout=120):
    """Run argv in the root namespace to its end, also when SIGINT or SIGTERM arrive
    meanwhile (the interrupt is raised once it has ended); returns what it printed.

    A root-namespace batch creates an interface on one line and marks it as this
    run's on the next: subprocess.run kills its child on an interrupt, which once
    left a bridge created and never marked, so that neither the run's teardown nor
    clean-net could prove it ours (a CI trial's SIGTERM test found it).  The batch
    runs in a session of its own (a Ctrl-C at the terminal does not reach it) and
    is short (one `ip -batch` of netlink requests, nothing to wait for).
    """
    with open(out_path, 'w') as out:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    deadline, interrupt = time.monotonic() + timeout, None
    while proc.poll() is None:
        try:
            proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise EnvError(f'{" ".join(argv)}: no end after {timeout} s') from None
        except BaseException as exc:       # Ctrl-C, SIGTERM: after the batch
            interrupt = interrupt or exc
    if interrupt is not None:
        raise interrupt
    with open(out_path, errors='replace') as f:
        return f.read()


# -- teardown ---------------------------------------------------------------------------

def delete_together(names, marked, log=None):
    """Delete the root-namespace interfaces among names that exist and carry this
    run's mark (marked: {name: mark}) with one `ip -batch` that ends in ONE netlink
    request: each joins a device group of this call's own (teardown_group), then
    the group is deleted (one RCU grace period for all, where `ip link del` waits
    out one each).  If that group already holds an interface (not ours to delete),
    they are deleted one by one instead, in the same single batch (also when
    teardown_group has none); whatever is still there after it (a line that failed)
    is deleted one by one, if it still carries the mark (the name may be someone
    else's by now)."""
    names = [name for name in names
             if name in marked and interface_alias(name) == marked[name]]
    if not names:
        return
    group = teardown_group(names)
    taken = group is None
    if not taken:
        res = subprocess.run(['ip', '-j', 'link', 'show', 'group', str(group)],
                             capture_output=True, text=True, timeout=60)
        taken = bool([m for m in json.loads(res.stdout or '[]') if m])
    if taken:
        lines = [f'link del dev {name}' for name in names]
    else:
        lines = [f'link set dev {name} group {group}' for name in names]
        lines.append(f'link del group {group}')
    run_batches({None: lines}, log)
    run_batches({None: [f'link del dev {name}' for name in names
                        if interface_alias(name) == marked[name]]}, log)


def teardown_group(names):
    """The device group delete_together gathers names in: GROUP_BASE plus the ifindex
    of the first of names that exists (None when none does, or its ifindex is too
    large to add).  An interface's ifindex is its own while it exists, and the kernel
    counts new ones up, so no other process choosing its group this way (another
    run, in any PID namespace) can choose the same one while ours are not deleted;
    GROUP_BASE keeps it apart from the small groups set by hand, and from 0, the
    default group."""
    for name in names:
        try:
            with open(f'/sys/class/net/{name}/ifindex') as f:
                index = int(f.read())
        except (OSError, ValueError):
            continue
        return GROUP_BASE + index if 0 < index < GROUP_BASE else None
    return None
