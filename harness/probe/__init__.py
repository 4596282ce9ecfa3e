"""Observations, never verdicts: netprobe plans and batches, its servers, strict
record parsing, the user's programs traced or observed, and the state a case needs
before its call.

    plans.py     netprobe's language: the binary, plan lines, serve command lines
    records.py   its records, read strictly
    batches.py   the netprobe prober (Batches): one batch per host, all at once
    servers.py   netprobe serve: the scenario's servers, readiness's TCP half
    intime.py    the user's servers through a timeline (InTime), judged after it

The face of harness/probe/: code outside it imports only these names
(tests/test_stages.py).
"""

from .batches import Batches
from .intime import InTime
from .observation import Observation
from .plans import cases_of, cli_options, netprobe_path
from .programs import ProgramRun, add_program_options, method_of, programs_for
from .records import parse_record
from .servers import Servers, TcpCheck
from .udptraced import observe_udpcall

__all__ = ['add_program_options', 'Batches', 'cases_of', 'cli_options', 'InTime', 'method_of',
           'netprobe_path', 'Observation', 'parse_record', 'ProgramRun',
           'programs_for', 'Servers', 'TcpCheck', 'observe_udpcall']
