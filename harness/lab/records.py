"""A student's lab records: one JSON line per `check`, for the teacher's grade sheet.

Every `check` of a lab opened with a student ID (`sudo make lab SCENARIO=NAME
STUDENT=ID`, inside the CLI or `sudo make check STUDENT=ID` from outside) appends
one line to

    results/lab/<scenario>/<student>.jsonl

    {"format": "bindlab-lab-record", "version": 2, "time": "2026-...Z",
     "scenario": "wrong-host", "student": "alice", "variant": "v3f2a..." | null,
     "check": 2, "where": "lab" | "outside", "cells": 52,
     "changed": ["h2 bind tcp 10.0.0.1: EADDRNOTAVAIL -> OK", ...],
     "solved": true, "goal": ["h2 bind tcp 10.0.0.1 -> OK"], "missing": [...],
     "goal_held": true, "broken": ["h1 connect tcp 10.0.0.2:7001: OK (answered by
     h2) -> ETIMEDOUT", ...],
     "hints_used": 1, "hints_total": 3, "commands": ["h1 ip addr del ...", ...]}

`solved` is the goal held and nothing else broke; `goal_held` and `broken` (the cells
the sheet's guard keeps that changed: collateral damage) say why not.  Version 1
records (without those two) are still read: goal_held = solved, broken = [].

A student ID is hostile input (it becomes a file name): one path part of letters,
digits, `.`, `_`, `-`, starting with a letter or digit, at most 64 characters.  The
folders are made here and never followed through a symlink, and the file is opened
with O_NOFOLLOW|O_APPEND, so a planted link cannot redirect a root process's write.
The reader (`read_records`) is grade.py's: it checks every field and returns the
problems of the lines it skipped instead of raising.
"""

import json
import os
import re
import stat
import time

from .. import INSTALLED, REPO
from ..errors import BadInput, UsageError
from ..files import read_bytes
from ..scenarios import valid_name

FORMAT, VERSION = 'bindlab-lab-record', 2
VERSIONS = (1, 2)              # what the reader accepts
STUDENT_RE = re.compile(r'[A-Za-z0-9][A-Za-z0-9._-]{0,63}')
MAX_LINE = 256 * 1024          # a record longer than this is not one of ours
MAX_FILE = 64 * 1024 * 1024    # a student's file longer than this is not one of ours
_LISTS = ('changed', 'goal', 'missing', 'commands')
_LISTS_2 = ('broken',)         # version 2
_INTS = ('check', 'cells', 'hints_used', 'hints_total')


def valid_student(student):
    """True for a student ID that is safe as one path part."""
    return isinstance(student, str) and bool(STUDENT_RE.fullmatch(student))


def check_student(student):
    """The student ID, or UsageError saying what an ID may be."""
    if not valid_student(student):
        raise UsageError(f'student ID {student!r} is not one: use 1-64 letters, digits, '
                         '".", "_" or "-", starting with a letter or digit')
    return student


def default_results():
    """results/ of the clone, or ./results of the current folder once installed."""
    return os.path.abspath('results') if INSTALLED else os.path.join(REPO, 'results')


def record(scenario, student, variant, check, where, cells, changed, solved, reqs,
           missing, hints_used, hints_total, commands, broken=(), goal_held=None):
    """One record (a dict) of one check (goal_held: solved, unless said)."""
    return {'format': FORMAT, 'version': VERSION,
            'time': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()),
            'scenario': scenario, 'student': student, 'variant': variant,
            'check': check, 'where': where, 'cells': len(cells), 'changed': changed,
            'solved': bool(solved), 'goal': [r['text'] for r in reqs],
            'missing': list(missing), 'broken': list(broken),
            'goal_held': bool(solved if goal_held is None else goal_held),
            'hints_used': hints_used,
            'hints_total': hints_total, 'commands': list(commands)}


def _real_folder(path):
    """mkdir path unless it is a real folder already; UsageError for a symlink or a
    file in its place."""
    try:
        os.mkdir(path, 0o755)
    except FileExistsError:
        pass
    except OSError as exc:
        raise UsageError(f'{path}: cannot make this folder: {exc.strerror}') from None
    mode = os.lstat(path).st_mode
    if not stat.S_ISDIR(mode):
        raise UsageError(f'{path}: is not a real folder (a symlink or a file): '
                         'refusing to write lab records through it')


def record_path(results, scenario, student):
    """results/lab/<scenario>/<student>.jsonl (names checked, nothing created)."""
    if not valid_name(scenario):
        raise UsageError(f'scenario name {scenario!r} is not safe as a file name')
    return os.path.join(results, 'lab', scenario, f'{check_student(student)}.jsonl')


def append_record(results, rec):
    """Append rec as one line to its student's file; returns the path."""
    path = record_path(results, rec['scenario'], rec['student'])
    os.makedirs(results, exist_ok=True)
    _real_folder(os.path.join(results, 'lab'))
    _real_folder(os.path.dirname(path))
    line = (json.dumps(rec, sort_keys=True) + '\n').encode()
    try:
        # O_NONBLOCK: a FIFO planted at path is refused (ENXIO), not waited on.
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW
                     | os.O_NONBLOCK | os.O_NOCTTY, 0o644)
    except OSError as exc:
        raise UsageError(f'{path}: cannot append the record: {exc.strerror}') from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise UsageError(f'{path}: is not a regular file')
        os.write(fd, line)
    finally:
        os.close(fd)
    return path


# -- reading (for grade.py) -------------------------------------------------------------

def check_record(rec, scenario, student):
    """None when rec is a record of this scenario and student, else what is wrong."""
    if not isinstance(rec, dict):
        return 'not a JSON object'
    if rec.get('format') != FORMAT:
        return f'not a bindlab lab record (format {rec.get("format")!r})'
    if rec.get('version') not in VERSIONS or isinstance(rec.get('version'), bool):
        return (f'record version {rec.get("version")!r} is not one of '
                f'{", ".join(map(str, VERSIONS))}')
    if rec.get('scenario') != scenario or rec.get('student') != student:
        return (f'a record of {rec.get("student")!r} in {rec.get("scenario")!r} does not '
                f'belong in {scenario}/{student}.jsonl')
    if not isinstance(rec.get('time'), str) or \
            not re.fullmatch(r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ', rec['time']):
        return 'field "time" is not a UTC time (YYYY-MM-DDTHH:MM:SSZ)'
    if not isinstance(rec.get('solved'), bool):
        return 'field "solved" is not true/false'
    for key in _INTS:
        value = rec.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            return f'field "{key}" is not a count'
    if rec['version'] >= 2 and not isinstance(rec.get('goal_held'), bool):
        return 'field "goal_held" is not true/false'
    for key in _LISTS + (_LISTS_2 if rec['version'] >= 2 else ()):
        value = rec.get(key)
        if not (isinstance(value, list) and all(isinstance(x, str) for x in value)):
            return f'field "{key}" is not a list of text'
    if not isinstance(rec.get('variant'), (str, type(None))) or \
            rec.get('where') not in ('lab', 'outside'):
        return 'field "variant" or "where" is malformed'
    return None


def read_records(path, scenario, student):
    """(records in file order, [problem, ...]) of one student's file; never raises
    for bad content: each bad line is a problem naming the file and line."""
    where = f'{scenario}/{student}.jsonl'
    try:
        data = read_bytes(path, 'lab record file', cap=MAX_FILE)
    except BadInput as exc:
        return [], [f'{where}: cannot read it: {exc}']
    good, problems = [], []
    for n, raw in enumerate(data.split(b'\n'), 1):
        if not raw.strip():
            continue
        try:
            if len(raw) > MAX_LINE:
                raise ValueError('line too long')
            rec = json.loads(raw.decode('utf-8'))
        except (ValueError, UnicodeDecodeError) as exc:
            problems.append(f'{where} line {n}: not JSON ({str(exc)[:80]}): skipped')
            continue
        bad = check_record(rec, scenario, student)
        if bad:
            problems.append(f'{where} line {n}: {bad}: skipped')
        else:
            if rec['version'] == 1:
                rec.update(broken=[], goal_held=rec['solved'])
            good.append(rec)
    return good, problems
