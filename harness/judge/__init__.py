"""Cells: the one judge (observations in, cells out, one verdict function), the
cell's fields and words, the wrong-peer and after rules, and a mutation's control.

The face of harness/judge/: code outside it imports only these names
(tests/test_stages.py).
"""

from .cells import (AFTER_SHORT, _UNPRINTABLE, all_cells, counts, describe, grid,
                    mismatches, mutation_cells, mutation_matrix, name, natural,
                    printable, read_run, short, state, then)
from .judging import annotate, judge, make_cell, relabel

__all__ = ['_UNPRINTABLE', 'AFTER_SHORT', 'all_cells', 'annotate', 'counts', 'describe',
           'grid', 'judge', 'make_cell', 'mismatches', 'mutation_cells',
           'mutation_matrix', 'name', 'natural', 'printable', 'read_run', 'relabel',
           'short', 'state', 'then']
