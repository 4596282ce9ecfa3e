"""Observations, never verdicts: netprobe plans and batches, its servers, strict
record parsing, the user's programs traced or observed, and the state a case needs
before its call.

The face of harness/probe/: code outside it imports only these names
(tests/test_stages.py).
"""

from .netprobe import (Batches, Servers, cases_of, cli_options, netprobe_path,
                       owned_pairs, parse_record, transport_ready)
from .observation import Observation
from .programs import ProgramRun, add_program_options, method_of, programs_for

__all__ = ['add_program_options', 'Batches', 'cases_of', 'cli_options', 'method_of',
           'netprobe_path', 'Observation', 'owned_pairs', 'parse_record', 'ProgramRun',
           'programs_for', 'Servers', 'transport_ready']
