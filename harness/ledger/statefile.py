"""Reading and checking the state file (its shape: state.py's docstring).

read_state() gives the recorded state of an earlier run, or None when there is none;
it checks the shape and raises StateError on anything else (not JSON, not an object,
a field missing or of the wrong type, a version this bindlab does not read, a name
that is not an interface name): a state file it cannot read is never taken for an
empty one, and clean-net then removes nothing.  Read through files.read_bytes: a
symlink, FIFO or device at its name is refused too.
"""

import json
import os

from .. import files
from ..errors import BadInput, UsageError
from . import fwrules, workdirs
from .ifaces import is_interface_name

VERSION = 2


class StateError(UsageError):
    """The state file is not one bindlab wrote; the message names it and what to do."""


def state_path():
    return os.path.join(workdirs.RUN_DIR, 'state.json')


FIELDS = {'version': int, 'run_id': str, 'pid': int, 'pids': dict, 'netns': list,
          'links': list, 'bridges': list, 'ovs_bridges': list}
IDENTITY_FIELDS = {'pid': int, 'start': int, 'marker': (str, type(None))}
NETNS_FIELDS = {'host': str, 'pid': int, 'start': int, 'ino': int}
JSON_TYPES = {bool: 'true/false', int: 'a number', float: 'a number', str: 'a string',
              dict: 'an object', list: 'an array', type(None): 'null'}


def read_state():
    """The recorded state of an earlier run, or None if there is none.

    Raises StateError when the file cannot be read or is not a bindlab state file.
    """
    path = state_path()
    try:
        raw = files.read_bytes(path, 'state file', missing_ok=True)
    except BadInput as exc:
        raise state_error(f'cannot be read: {exc}') from None
    if raw is None:
        return None
    try:
        data = json.loads(raw.decode('utf-8'))
    except UnicodeDecodeError as exc:
        raise state_error(f'cannot be read: {exc}') from None
    except ValueError as exc:
        raise state_error(f'not JSON: {exc}') from None
    problem = shape_problem(data)
    if problem:
        raise state_error(problem)
    return data


def state_error(problem):
    return StateError(f'{state_path()} is not a bindlab state file ({problem}): inspect '
                      'it, remove what it names by hand (processes, interfaces), then '
                      'delete it')


def shape_problem(data):
    """What is wrong with data as a state file (text), or None when nothing is."""
    problem = fields_problem(data, FIELDS, 'the file')
    if problem:
        return problem
    if data['version'] != VERSION:
        return f'version {data["version"]}, this bindlab reads version {VERSION}'
    for key, ident in data['pids'].items():
        problem = fields_problem(ident, IDENTITY_FIELDS, f'pids["{key}"]')
        if problem:
            return problem
        if key != str(ident['pid']):
            return f'pids["{key}"] records pid {ident["pid"]}'
    for n, entry in enumerate(data['netns']):
        problem = fields_problem(entry, NETNS_FIELDS, f'netns[{n}]')
        if problem:
            return problem
    for key in ('links', 'bridges', 'ovs_bridges'):
        bad = [name for name in data[key] if not is_interface_name(name)]
        if bad:
            return f'{key} holds {bad[0]!r}, not an interface name'
    if not isinstance(data.get('fw_rules', []), list):
        return '"fw_rules" is not an array'
    for n, entry in enumerate(data.get('fw_rules', [])):
        problem = fwrules.entry_problem(entry, f'fw_rules[{n}]')
        if problem:
            return problem
    return None


def fields_problem(obj, fields, where):
    """What is wrong with obj as an object with these typed fields, or None."""
    if not isinstance(obj, dict):
        return f'{where} is {json_type(obj)}, not an object'
    for key, kind in fields.items():
        if key not in obj:
            return f'{where} has no "{key}"'
        value, kinds = obj[key], kind if isinstance(kind, tuple) else (kind,)
        if isinstance(value, bool) or not isinstance(value, kinds):
            want = ' or '.join(JSON_TYPES[k] for k in kinds)
            return f'{where}: "{key}" is {json_type(value)}, not {want}'
    return None


def json_type(value):
    return JSON_TYPES.get(type(value), type(value).__name__)
