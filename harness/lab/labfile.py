"""The open lab's file, /run/bindlab/lab.json, and the lab seen from outside.

`check` from another terminal finds the open lab through this file (scenario, the
host shells' PIDs, the last cells, the ids of the cells that passed when the lab opened
(the guard's), the student, hints used, commands typed) and
enters each host's network namespace with nsenter, after checking that the PID still
is that host's shell.  NsNet is enough of a Mininet object for probe.Batches (and
explain.py) to work on the hosts from outside.
"""

import os
import subprocess

from .. import advice
from ..errors import BadInput, UsageError
from ..files import read_json, write_json
from ..judge import Cell, cell_json
from ..ledger import pid_matches, RUN_DIR
from ..net import enter_argv, own_mounts, own_uts
from .goals import LabError
from .records import valid_student


def lab_file():
    return os.path.join(RUN_DIR, 'lab.json')


def save_lab(info):
    write_json(lab_file(), info, sort_keys=True, default=cell_json)


def read_lab():
    """The open lab's record, or raise LabError when no lab is open."""
    if not os.path.exists(lab_file()):
        raise LabError(f'no lab is open: start one with `{advice("lab")}`')
    try:
        info = read_json(lab_file(), 'lab file')
    except UsageError as exc:
        raise LabError(str(exc)) from None
    if not isinstance(info, dict) or not isinstance(info.get('hosts'), dict) or \
            not isinstance(info.get('cells'), list):
        raise LabError(f'{lab_file()}: not a bindlab lab file')
    student = info.get('student')
    if student is not None and not (valid_student(student) and
                                    isinstance(info.get('results'), str)):
        raise LabError(f'{lab_file()}: its student or results folder is malformed')
    try:
        info['cells'] = [Cell.of_json(c, f'{lab_file()}: cells[{n}]')
                         for n, c in enumerate(info['cells'])]
    except BadInput as exc:
        raise LabError(str(exc)) from None
    for key in ('hints_used', 'hints_total', 'checks'):
        if not isinstance(info.get(key, 0), int) or isinstance(info.get(key, 0), bool):
            raise LabError(f'{lab_file()}: field "{key}" is not a count')
    for key in ('commands', 'guarded'):
        if not (isinstance(info.get(key, []), list) and
                all(isinstance(c, str) for c in info.get(key, []))):
            raise LabError(f'{lab_file()}: field "{key}" is not a list of text')
    if not pid_matches(info.get('pid', 0), 'harness'):
        raise LabError(f'the lab recorded in {lab_file()} (pid {info.get("pid")}) is not '
                       f'running any more; if its network was left behind: '
                       f'{advice("clean-net")}')
    return info


class NsHost:
    """A Mininet host seen from outside: popen enters its network namespace (and its
    mount namespace when it has resolver files of its own: net.own_mounts; its UTS
    namespace when it has a hostname of its own: net.own_uts)."""

    def __init__(self, name, pid):
        if not pid_matches(pid, f'mininet:{name}'):
            raise LabError(f'host {name}: pid {pid} is no longer its shell; is the lab '
                           'still open?')
        self.name, self.pid = name, pid
        self.own_mounts = own_mounts(pid)
        self.own_uts = own_uts(pid)

    def popen(self, argv, **kw):
        kw.setdefault('stdin', subprocess.PIPE)
        kw.setdefault('stdout', subprocess.PIPE)
        kw.setdefault('stderr', subprocess.PIPE)
        return subprocess.Popen(enter_argv(self.pid, self.own_mounts, self.own_uts) + list(argv),
                                **kw)


class NsNet:
    """Enough of a Mininet object for probe.Batches: get(name) -> host."""

    def __init__(self, hosts):
        self.hosts = {name: NsHost(name, pid) for name, pid in hosts.items()}

    def get(self, name):
        return self.hosts[name]


class NoState:
    """The state-file interface (add_pid, drop_pid, add_pids ...), doing nothing: an
    outside check creates nothing that outlives it (its batches end within their
    timeout), so there is nothing to record for clean-net."""

    def __getattr__(self, name):
        if name.startswith(('add_', 'drop_')):
            return lambda *args, **kwargs: None
        raise AttributeError(name)
