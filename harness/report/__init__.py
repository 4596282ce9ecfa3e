"""Result files and what a person sees: the one writer (summary, JUnit, CSV,
matrix.json, report.html with its grids and topology picture), the one reader of a
run folder, safe Markdown, and the console.

The face of harness/report/: code outside it imports only these names
(tests/test_stages.py).
"""

from .console import (log, print_matrices, print_mutations, print_timeline, scenario_line,
                      warn)
from .page import render_lab_paths
from .reader import read_run
from .results import new_run_id, summary_data, write_run

__all__ = ['log', 'new_run_id', 'print_matrices', 'print_mutations', 'print_timeline', 'read_run',
           'render_lab_paths', 'scenario_line', 'summary_data', 'warn', 'write_run']
