"""The teaching lab: opening a scenario as a lab, its Mininet CLI, check and hints,
one cell explained, students' variants and records, goals and guards, grades.

The face of harness/lab/: code outside it imports only these names
(tests/test_stages.py).
"""

from .checks import probe_cells
from .explain import explain_run
from .grade import write_grades
from .lab import check_lab, open_lab
from .records import default_results, valid_student

__all__ = ['check_lab', 'default_results', 'explain_run', 'open_lab', 'probe_cells',
           'valid_student', 'write_grades']
