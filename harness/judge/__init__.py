"""Cells: the one judge (observations in, cells out, one verdict function), the
Cell and the ScenarioResult, the cell's words, the wrong-peer and after rules, and a
mutation's control.

The face of harness/judge/: code outside it imports only these names
(tests/test_stages.py).
"""

from .cell import Cell, cell_json, KINDS, VERDICTS
from .cells import (AFTER_SHORT, all_cells, counts, describe, grid, mismatches,
                    mutation_cells, mutation_matrix, name, natural, printable, short,
                    state, then, UNPRINTABLE)
from .history import timeline, words as history_words
from .judging import annotate, judge, make_cell, relabel
from .result import ScenarioResult, skipped_result

__all__ = ['AFTER_SHORT', 'all_cells', 'annotate', 'Cell', 'cell_json', 'counts',
           'describe', 'grid', 'history_words', 'judge', 'KINDS', 'make_cell', 'mismatches',
           'mutation_cells', 'mutation_matrix', 'name', 'natural', 'printable',
           'relabel', 'ScenarioResult', 'short', 'skipped_result', 'state', 'then', 'timeline',
           'UNPRINTABLE', 'VERDICTS']
