"""The teaching lab: opening a scenario as a lab, its Mininet CLI, check and hints,
one cell explained, students' variants and records, goals and guards, grades.

The face of harness/lab/: code outside it imports only these names
(tests/test_stages.py).
"""

from .explain import explain_run
from .grade import add_grade_command, cmd_grade
from .lab import main, probe_cells

__all__ = ['add_grade_command', 'cmd_grade', 'explain_run', 'main', 'probe_cells']
