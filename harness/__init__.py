"""bindlab's harness: run scenarios on Mininet networks and judge every socket call.

The stages, in the order data flows (each a subpackage with a face: its __init__'s
__all__ is all that code outside it may use; tests/test_stages.py enforces the order
and forbids import circles):

    scenarios/  what to run ------------.
    ledger/     what a run owns          |   cli (python3 -m harness, bin/bindlab)
    replica/    snapshots of real hosts  |     |
    net/        the live network         |     |
    probe/      observations             |   ci/ (baselines, merge, docker-real, VM)
    judge/      cells                    |   lab/ (labs, explain, grades)
    report/     result files, console   -'     |
                                             mutations.py: --mutate, one network
                                               |
                                             runner.py: the one pipeline, build ->
                                             setup -> ready -> faults -> servers ->
                                             probers -> judge

A module uses only its own stage and the stages listed above it (cli sits on top of
everything, ci and lab beside each other on runner); errors.py, files.py (the atomic
writer, checked reads) and gcpause.py are the base every stage may use.
harness/scenario.py is the scenario API's stable name for scenario files (its __all__:
the names of harness/scenarios/ model, builders and checks a scenario file uses);
nothing inside harness/ imports it.
docs/internals.md tells each stage's modules and the words (scenario, case, cell,
verdict, ...).

Exit status of `python3 -m harness run`: 0 every cell passed, 1 some cell failed or
could not be measured, 2 usage or environment error (nothing was built).

Where things are (this module is the one place that knows):
    REPO          the folder above this package, holding topologies/, labs/,
                  expectations/, examples/: the clone, or $(datadir)/bindlab once
                  installed (`make install` copies them with the same layout).
    program_path  netprobe, bindtrace-sys, libbindtrace.so: build/ of the clone, or
                  where `make install` put them ($(bindir), $(libdir)/bindlab).  `make
                  install` rewrites the three lines marked below in the installed copy
                  of this file, with paths relative to REPO, so a DESTDIR tree runs
                  where it lies.  $NETPROBE, $BINDTRACE_LIB and $BINDTRACE_SYS still
                  override (probe/plans.py, probe/launches.py).
    INSTALLED     True in an installed copy: results then go to ./results of the
                  current folder instead of the clone's results/ (cli/common.py).
__version__ is bindlab's one version string (`bindlab --version`; `make deb` checks
that debian/changelog says the same).
"""

import os
import sys

__version__ = '0.1.0'


def _stdlib_distutils():
    """Mininet's mininet.node imports distutils.version.  Where setuptools' shim is on
    (Debian's distutils-precedence.pth), that import loads setuptools and pkg_resources:
    165 of a command's 360 ms of start-up, measured (`python3 -X importtime`).  Python
    up to 3.11 has its own distutils: take the shim out and Mininet gets that one.
    3.12 has none, and keeps the shim.  Imported here, under the warning filter: the
    stdlib's distutils warns that it is deprecated, a warning about Mininet's code."""
    if sys.version_info >= (3, 12) or 'distutils' in sys.modules:
        return
    import warnings
    try:
        import _distutils_hack      # none without python3-setuptools
        _distutils_hack.remove_shim()
    except (ImportError, AttributeError):
        _distutils_hack = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore', DeprecationWarning)
            import distutils.version  # noqa: F401
    except ImportError:             # an interpreter without its own: the shim again
        for name in ('distutils', 'distutils.version'):
            sys.modules.pop(name, None)
        if _distutils_hack is not None:
            _distutils_hack.add_shim()


_stdlib_distutils()

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
INSTALLED = False       # make install: True
PROGRAMS = 'build'      # make install: $(bindir), relative to REPO
LIBRARIES = 'build'     # make install: $(libdir)/bindlab, relative to REPO
PREFIX = 'bindlab: '


def program_path(name):
    """The path of one of bindlab's programs (netprobe) or libraries (a .so)."""
    where = LIBRARIES if name.endswith('.so') else PROGRAMS
    return os.path.normpath(os.path.join(REPO, where, name))


_ADVICE = {'clean-net': ('sudo make clean-net', 'sudo bindlab clean-net'),
           'mininet-test': ('sudo make mininet-test', 'sudo bindlab run'),
           'deps-run': ('sudo make deps-run',
                        'sudo apt-get install bindlab (it brings what it needs)'),
           'lab': ('sudo make lab SCENARIO=name', 'sudo bindlab lab NAME'),
           'check': ('sudo make check', 'sudo bindlab check')}


def advice(what):
    """The command a message tells the user to type: the clone's make target, or the
    installed bindlab's command."""
    return _ADVICE[what][1 if INSTALLED else 0]
