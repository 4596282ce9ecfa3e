"""The lab's Mininet CLI: Mininet's own commands plus the lab's.

    check     probe again, list what changed, say whether the goal holds (and append
              the student's record, harness/lab/records.py)
    hint      the lab sheet's next hint (a nudge, then the tool, then nearly the answer)
    explain HOST KIND COLUMN   one cell: outcome, reason, rule, and what the live
              network says about it (harness/lab/explain.py)
    goal      show the goal and the guard          matrix   print the current matrices
    sheet     print the lab sheet    banner   print the banner again

Every other line the student types is remembered until the next `check`, which
records it (the teacher sees how a lab was solved, not only that it was).
"""

from ..errors import UsageError
from ..report import print_matrices
from .goals import without_hints

LAB_COMMANDS = ('check', 'hint', 'explain', 'goal', 'matrix', 'sheet', 'banner', 'help')


def open_cli(lab):
    """Open Mininet's CLI on lab.net with the lab's commands, until the student leaves."""
    from mininet.cli import CLI

    class LabCLI(CLI):
        """Mininet's CLI plus check, hint, explain, goal, matrix, sheet, banner."""

        def precmd(self, line):
            line = super().precmd(line)
            word = line.split(maxsplit=1)[0] if line.strip() else ''
            if word and word not in LAB_COMMANDS:
                lab.typed(line.strip())
            return line

        def do_check(self, _line):
            """Probe the scenario again; show what changed and whether the goal holds."""
            lab.check()

        def do_hint(self, _line):
            """The lab sheet's next hint (check counts how many you used)."""
            lab.hint()

        def do_explain(self, line):
            """explain HOST KIND COLUMN: why this cell is what it is (e.g.
            explain h2 bind tcp 10.0.0.1)."""
            try:
                lab.explain(line)
            except UsageError as exc:
                print(f'explain: {exc}')

        def do_goal(self, _line):
            """Show the goal of this lab (as of the last check) and its guard."""
            for line in lab.goal_lines():
                print(f'  {line}')

        def do_matrix(self, _line):
            """Print the matrices of the last probe."""
            print_matrices(lab.scenario.name, lab.cells)

        def do_sheet(self, _line):
            """Print the lab sheet (without its hints: type `hint` for those)."""
            text = lab.sheet_text()
            print(without_hints(text) if text else '(this scenario has no lab sheet)')

        def do_banner(self, _line):
            """Print the banner again."""
            lab.banner()

    LabCLI(lab.net)
