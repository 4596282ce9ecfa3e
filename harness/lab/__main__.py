"""python3 -m harness.lab: the teaching lab (the same as `python3 -m harness lab`)."""

import sys

from .lab import main

sys.exit(main())
