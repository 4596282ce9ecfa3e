"""python3 -m harness: see harness/cli/ (nothing imports this file)."""

import sys

from .cli import main

sys.exit(main())
