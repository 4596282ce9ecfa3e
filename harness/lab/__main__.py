"""python3 -m harness.lab ARGS: the teaching lab, the same as `python3 -m harness lab
ARGS` (harness/cli/lab.py; `python3 -m harness.lab check` is `check`)."""

import sys

from ..cli import main

sys.exit(main(['lab', *sys.argv[1:]]))
