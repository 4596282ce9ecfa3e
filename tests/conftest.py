"""Shared pytest fixtures: the probe under test and real network namespaces.

- ``netprobe``: the path of the probe ($NETPROBE, default build/asan/netprobe).
- ``lab``: a nsutil.Lab whose namespaces and processes are removed after the test,
  pass or fail.
- ``pair``: the seed's layout in two namespaces: h1 (10.0.0.1/24) and h2
  (10.0.0.2/24) on one veth link, both ends up.
- a session check that nothing named with this run's prefix is left behind.

The suite needs root (namespaces, veths, Mininet): without it the session stops
at once with one message, never hundreds of skips.
"""

import os

import pytest

import nsutil


def pytest_sessionstart(session):
    """Not root: one error for the whole session, before anything is collected."""
    if os.geteuid() != 0:
        pytest.exit("needs root: sudo make test (the tests create network namespaces "
                    "and Mininet networks)", returncode=2)


@pytest.fixture(scope="session", autouse=True)
def nothing_left_behind():
    """After the whole session: none of our namespaces or links may remain."""
    yield
    left = nsutil.leftovers()
    if left:
        pytest.fail("left behind by the tests: %s" % ", ".join(left))


@pytest.fixture
def netprobe():
    """The probe binary under test (built by `make itest`)."""
    path = nsutil.netprobe_path()
    if not os.access(path, os.X_OK):
        pytest.fail("%s is missing: run `make build/asan/netprobe` (or set NETPROBE)" % path)
    return path


@pytest.fixture
def lab(netprobe):
    """A Lab for this test; everything it made is removed afterwards."""
    the_lab = nsutil.Lab()
    yield the_lab
    failures = the_lab.remove()
    assert not failures, "could not remove: %s" % failures


class Pair:
    """Two hosts on one link: h1 10.0.0.1/24 (dev h1_dev), h2 10.0.0.2/24 (dev h2_dev)."""

    def __init__(self, lab):
        self.lab = lab
        self.h1 = lab.netns("h1")
        self.h2 = lab.netns("h2")
        self.h1_dev, self.h2_dev = lab.veth(self.h1, self.h2, "10.0.0.1/24", "10.0.0.2/24")


@pytest.fixture
def pair(lab):
    """The seed's layout: h1 and h2 on one link (see Pair)."""
    return Pair(lab)
