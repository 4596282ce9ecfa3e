"""`netprobe addrs` against real network namespaces.

Each test builds its own namespaces and veth pairs (names start with ``blta`` and
the pid), runs the probe inside them with ``ip netns exec``, and checks what it
lists: an added address with its prefix, the tentative flag while IPv6 Duplicate
Address Detection runs, the dadfailed flag when a second host claims an address
already on the link, and the link state.  Everything a test creates is removed in
the fixture's finalizer, also when the test fails.

This module also holds the small namespace kit (``Lab``) that test_diagnose.py
imports, so both files build networks the same way.
"""

import itertools
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NETPROBE = os.environ.get("NETPROBE", str(ROOT / "build" / "asan" / "netprobe"))
# valgrind needs the plain build: ASan and valgrind do not run together.
NETPROBE_PLAIN = os.environ.get("NETPROBE_PLAIN", str(ROOT / "build" / "netprobe"))
VALGRIND = ["valgrind", "--leak-check=full", "--error-exitcode=9", "--quiet"]
# How long a poll for a kernel state (DAD result) may take before the test gives up.
# The test asserts the state, never the time it took.
STATE_WAIT_S = 30.0

_serial = itertools.count()


def run(args, check=True, **kw):
    """Runs an argument list, captures text output; raises with stderr on failure."""
    proc = subprocess.run(args, capture_output=True, text=True, timeout=120, **kw)
    if check and proc.returncode != 0:
        raise AssertionError(f"{args!r} exited {proc.returncode}: {proc.stderr.strip()}")
    return proc


class Lab:
    """The namespaces, links and processes of one test; close() removes them all.

    Links live inside the namespaces (both veth ends are created in place with
    ``netns``), so deleting the namespaces deletes the links; processes are ended by
    the pid this object started them with.
    """

    def __init__(self):
        self.prefix = f"blta{os.getpid()}x{next(_serial)}"
        self.namespaces = []
        self.procs = []

    def netns(self, label):
        """Creates namespace PREFIX-LABEL with lo up; returns its name."""
        name = f"{self.prefix}-{label}"
        run(["ip", "netns", "add", name])
        self.namespaces.append(name)
        self.ip(name, "link", "set", "lo", "up")
        return name

    def ip(self, ns, *args, check=True):
        """`ip -n NS ARGS...`."""
        return run(["ip", "-n", ns, *args], check=check)

    def sysctl(self, ns, key, value):
        """Sets sysctl KEY=VALUE inside namespace NS."""
        run(["ip", "netns", "exec", ns, "sysctl", "-q", "-w", f"{key}={value}"])

    def veth(self, ns_a, if_a, ns_b, if_b, up=True):
        """A veth pair with end IF_A in NS_A and IF_B in NS_B, both up unless UP=False."""
        run(["ip", "link", "add", if_a, "netns", ns_a, "type", "veth",
             "peer", "name", if_b, "netns", ns_b])
        if up:
            self.ip(ns_a, "link", "set", if_a, "up")
            self.ip(ns_b, "link", "set", if_b, "up")

    def exec_args(self, ns, args, user=None):
        """The argument list that runs ARGS in NS, as uid/gid 65534 when USER='nobody'."""
        prefix = ["ip", "netns", "exec", ns]
        if user == "nobody":
            prefix += ["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups"]
        return prefix + list(args)

    def probe(self, ns, *args, user=None, binary=None, wrapper=()):
        """Runs netprobe ARGS in NS; returns the CompletedProcess (no exit check)."""
        argv = [*wrapper, binary or NETPROBE, "--host", ns.rsplit("-", 1)[-1], *args]
        return run(self.exec_args(ns, argv, user=user), check=False)

    def spawn(self, ns, args):
        """Starts ARGS in NS with stdout piped; the process is ended at close()."""
        proc = subprocess.Popen(self.exec_args(ns, args), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        self.procs.append(proc)
        return proc

    def close(self):
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            for stream in (proc.stdout, proc.stderr):
                if stream:
                    stream.close()
        for name in reversed(self.namespaces):
            run(["ip", "netns", "del", name], check=False)


@pytest.fixture
def lab():
    """A Lab whose namespaces and processes are removed after the test, pass or fail."""
    if os.geteuid() != 0:
        pytest.fail("these tests create network namespaces: run them as root")
    if not os.access(NETPROBE, os.X_OK):
        pytest.fail(f"no probe at {NETPROBE}: run `make build/asan/netprobe` (or set NETPROBE)")
    box = Lab()
    try:
        yield box
    finally:
        box.close()
        left = run(["ip", "netns", "list"]).stdout
        assert box.prefix + "-" not in left, f"namespaces left behind: {left}"


def addrs_json(lab, ns):
    """The records of `netprobe addrs --json` in NS (asserts a clean exit)."""
    proc = lab.probe(ns, "addrs", "--json")
    assert proc.returncode == 0, proc.stderr
    return [json.loads(line) for line in proc.stdout.splitlines()]


def find_addr(records, addr):
    """The one record of ADDR in RECORDS, or None."""
    found = [r for r in records if r["addr"] == addr]
    assert len(found) <= 1, found
    return found[0] if found else None


def wait_for_flag(lab, ns, addr, flag, present=True):
    """Polls addrs until ADDR's flags do (or do not) hold FLAG; returns the record."""
    deadline = time.monotonic() + STATE_WAIT_S
    while True:
        rec = find_addr(addrs_json(lab, ns), addr)
        if rec is not None and (flag in rec["flags"]) == present:
            return rec
        if time.monotonic() > deadline:
            return rec
        time.sleep(0.1)


def two_hosts(lab, v6=False):
    """h1 and h2 on one veth link: 10.0.0.1/24 and 10.0.0.2/24 (IPv4 only unless V6)."""
    h1, h2 = lab.netns("h1"), lab.netns("h2")
    lab.veth(h1, "h1-eth0", h2, "h2-eth0")
    lab.ip(h1, "addr", "add", "10.0.0.1/24", "dev", "h1-eth0")
    lab.ip(h2, "addr", "add", "10.0.0.2/24", "dev", "h2-eth0")
    return h1, h2


def slow_dad(lab, ns, ifname):
    """Makes DAD on IFNAME last ~60 s, so that an address added now stays tentative."""
    lab.sysctl(ns, f"net.ipv6.conf.{ifname}.dad_transmits", 60)


# ---- the tests ------------------------------------------------------------------------


def test_addrs_lists_an_added_address_with_its_prefix(lab):
    h1, _ = two_hosts(lab)
    lab.ip(h1, "addr", "add", "192.168.77.5/20", "dev", "h1-eth0")
    records = addrs_json(lab, h1)

    rec = find_addr(records, "192.168.77.5")
    assert rec is not None, records
    assert rec["prefixlen"] == 20
    assert rec["ifname"] == "h1-eth0"
    assert rec["family"] == "inet"
    assert rec["scope"] == "global"
    assert rec["host"] == "h1"
    assert "permanent" in rec["flags"]
    assert find_addr(records, "10.0.0.1")["prefixlen"] == 24
    assert find_addr(records, "127.0.0.1")["scope"] == "host"
    # the other namespace's address is not listed here
    assert find_addr(records, "10.0.0.2") is None


def test_addrs_table_shows_the_address(lab):
    h1, _ = two_hosts(lab)
    proc = lab.probe(h1, "addrs")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].split()[:4] == ["IFNAME", "INDEX", "FAMILY", "ADDRESS/PREFIX"]
    row = [line.split() for line in lines if "10.0.0.1/24" in line]
    assert len(row) == 1 and row[0][0] == "h1-eth0" and row[0][2] == "inet", lines


def test_addrs_shows_tentative_while_dad_runs(lab):
    h1, _ = two_hosts(lab)
    slow_dad(lab, h1, "h1-eth0")
    lab.ip(h1, "addr", "add", "fd00:77::1/64", "dev", "h1-eth0")
    lab.ip(h1, "addr", "add", "fd00:77::2/64", "dev", "h1-eth0", "nodad")
    records = addrs_json(lab, h1)

    rec = find_addr(records, "fd00:77::1")
    assert rec is not None, records
    assert rec["family"] == "inet6" and rec["prefixlen"] == 64
    assert "tentative" in rec["flags"], rec
    assert "dadfailed" not in rec["flags"]
    fast = find_addr(records, "fd00:77::2")
    assert "tentative" not in fast["flags"] and "nodad" in fast["flags"], fast


def test_addrs_shows_dadfailed_for_a_duplicate_on_the_link(lab):
    h1, h2 = two_hosts(lab)
    lab.ip(h2, "addr", "add", "fd00:77::7/64", "dev", "h2-eth0", "nodad")
    lab.ip(h1, "addr", "add", "fd00:77::7/64", "dev", "h1-eth0")

    rec = wait_for_flag(lab, h1, "fd00:77::7", "dadfailed")
    assert rec is not None and "dadfailed" in rec["flags"], rec
    # the host that had it first keeps it
    theirs = find_addr(addrs_json(lab, h2), "fd00:77::7")
    assert "dadfailed" not in theirs["flags"], theirs


def test_addrs_reports_link_state(lab):
    h1, h2 = two_hosts(lab)
    lab.ip(h2, "link", "set", "h2-eth0", "down")
    lab.ip(h1, "addr", "add", "10.0.5.1/24", "dev", "h1-eth0")
    mine = find_addr(addrs_json(lab, h1), "10.0.5.1")
    assert mine["link"] == "up" and mine["lower_up"] is False, mine   # peer down: no carrier
    theirs = find_addr(addrs_json(lab, h2), "10.0.0.2")
    assert theirs["link"] == "down" and theirs["operstate"] == "down", theirs
    lo = find_addr(addrs_json(lab, h1), "127.0.0.1")
    assert lo["link"] == "up" and lo["lower_up"] is True, lo


def test_addrs_family_filter(lab):
    h1, _ = two_hosts(lab)
    lab.ip(h1, "addr", "add", "fd00:77::1/64", "dev", "h1-eth0", "nodad")
    proc = lab.probe(h1, "addrs", "--json", "-6")
    assert proc.returncode == 0, proc.stderr
    families = {json.loads(line)["family"] for line in proc.stdout.splitlines()}
    assert families == {"inet6"}


@pytest.mark.parametrize("args", [["stray"], ["--bogus"], ["-x"]])
def test_addrs_bad_usage_exits_2_with_nothing_on_stdout(lab, args):
    h1 = lab.netns("h1")
    proc = lab.probe(h1, "addrs", *args)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "addrs" in proc.stderr


def plain_probe():
    """The non-ASan probe for valgrind, built when missing."""
    if not os.access(NETPROBE_PLAIN, os.X_OK):
        run(["make", "-C", str(ROOT), "build/netprobe"])
    assert shutil.which("valgrind"), "valgrind is a test dependency: make deps-test"
    return NETPROBE_PLAIN


def test_addrs_under_valgrind_has_no_leaks_or_errors(lab):
    binary = plain_probe()
    h1, _ = two_hosts(lab)
    lab.ip(h1, "addr", "add", "fd00:77::1/64", "dev", "h1-eth0", "nodad")
    proc = lab.probe(h1, "addrs", "--json", binary=binary, wrapper=VALGRIND)
    assert proc.returncode == 0, proc.stderr
    assert find_addr([json.loads(l) for l in proc.stdout.splitlines()], "fd00:77::1")
