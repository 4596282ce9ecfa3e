"""The scenario API for scenario files (topologies/*.py and your own): Scenario, Case,
Expect, Step, Server, bind, connect, explicit, run, sysctl, ...

A stable name for harness/scenarios/model.py: `from harness.scenario import ...` keeps
working in every scenario file.  Nothing inside harness/ imports this module.
"""

from .scenarios.model import *
