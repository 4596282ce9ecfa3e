"""`netprobe addrs` against real network namespaces.

Each test builds its namespaces and veth pairs with the shared kit (conftest.py's
``lab`` and ``pair`` fixtures, nsutil.py), runs the probe inside them, and checks
what it lists: an added address with its prefix, the tentative flag while IPv6
Duplicate Address Detection runs, the dadfailed flag when a second host claims an
address already on the link, and the link state.  The kit removes everything a test
made, also when the test fails.
"""

import os
import shutil
import time

import pytest

import nsutil

# valgrind needs the plain build: ASan and valgrind do not run together.
VALGRIND = ["valgrind", "--leak-check=full", "--error-exitcode=9", "--quiet"]
# How long a poll for a kernel state (a DAD result) may take before the test gives
# up.  The tests assert the state, never the time it took.
STATE_WAIT_S = 30.0


def addrs_json(ns):
    """The records of `netprobe addrs --json` in namespace NS (asserts a clean exit)."""
    run = ns.probe("addrs", "--json")
    assert run.returncode == 0, run.stderr
    return run.records


def find_addr(records, addr):
    """The one record of ADDR in RECORDS, or None."""
    found = [r for r in records if r["addr"] == addr]
    assert len(found) <= 1, found
    return found[0] if found else None


def wait_for_flag(ns, addr, flag):
    """Polls `netprobe addrs` until ADDR's flags hold FLAG; returns the last record."""
    deadline = time.monotonic() + STATE_WAIT_S
    while True:
        rec = find_addr(addrs_json(ns), addr)
        if (rec is not None and flag in rec["flags"]) or time.monotonic() > deadline:
            return rec
        time.sleep(0.1)


def plain_probe():
    """The non-ASan probe for valgrind, built when missing."""
    path = nsutil.plain_netprobe_path()
    if not os.access(path, os.X_OK):
        nsutil.run(["make", "-C", nsutil.REPO, "build/netprobe"])
    assert shutil.which("valgrind"), "valgrind is a test dependency: make deps-test"
    return path


def test_addrs_lists_an_added_address_with_its_prefix(pair):
    pair.h1.addr_add(pair.h1_dev, "192.168.77.5/20")
    records = addrs_json(pair.h1)

    rec = find_addr(records, "192.168.77.5")
    assert rec is not None, records
    assert rec["prefixlen"] == 20
    assert rec["ifname"] == pair.h1_dev
    assert rec["family"] == "inet"
    assert rec["scope"] == "global"
    assert rec["host"] == "h1"
    assert "permanent" in rec["flags"]
    assert find_addr(records, "10.0.0.1")["prefixlen"] == 24
    assert find_addr(records, "127.0.0.1")["scope"] == "host"
    # the other namespace's address is not listed here
    assert find_addr(records, "10.0.0.2") is None


def test_addrs_lists_every_address_of_a_big_namespace(pair):
    # ~2000 addresses do not fit one netlink datagram: the dump must read them all
    batch = ["addr add 10.%d.%d.1/24 dev %s" % (20 + i // 250, i % 250, pair.h1_dev)
             for i in range(1500)]
    batch += ["addr add fd00:%x::1/64 dev %s nodad" % (i, pair.h1_dev) for i in range(500)]
    nsutil.run(["ip", "-n", pair.h1.name, "-batch", "-"], input="\n".join(batch) + "\n")
    expected = {line.split()[3].split("/")[0]
                for line in pair.h1.ip("-o", "addr", "show").stdout.splitlines()}
    records = addrs_json(pair.h1)
    assert len(records) == len(expected) >= 2000
    assert {r["addr"] for r in records} == expected


def test_addrs_table_shows_the_address(pair, netprobe):
    proc = pair.h1.sh([netprobe, "--host", "h1", "addrs"])
    lines = proc.stdout.splitlines()
    assert lines[0].split()[:4] == ["IFNAME", "INDEX", "FAMILY", "ADDRESS/PREFIX"]
    rows = [line.split() for line in lines if "10.0.0.1/24" in line]
    assert len(rows) == 1 and rows[0][0] == pair.h1_dev and rows[0][2] == "inet", lines


def test_addrs_shows_tentative_while_dad_runs(pair):
    # 60 solicitations a second apart: the address stays tentative for a minute
    pair.h1.sysctl("net.ipv6.conf.%s.dad_transmits" % pair.h1_dev, 60)
    pair.h1.addr_add(pair.h1_dev, "fd00:77::1/64")
    pair.h1.addr_add(pair.h1_dev, "fd00:77::2/64", "nodad")
    records = addrs_json(pair.h1)

    rec = find_addr(records, "fd00:77::1")
    assert rec is not None, records
    assert rec["family"] == "inet6" and rec["prefixlen"] == 64
    assert "tentative" in rec["flags"], rec
    assert "dadfailed" not in rec["flags"]
    fast = find_addr(records, "fd00:77::2")
    assert "tentative" not in fast["flags"] and "nodad" in fast["flags"], fast


def test_addrs_shows_dadfailed_for_a_duplicate_on_the_link(pair):
    pair.h2.addr_add(pair.h2_dev, "fd00:77::7/64", "nodad")
    pair.h1.addr_add(pair.h1_dev, "fd00:77::7/64")

    rec = wait_for_flag(pair.h1, "fd00:77::7", "dadfailed")
    assert rec is not None and "dadfailed" in rec["flags"], rec
    # the host that had it first keeps it
    theirs = find_addr(addrs_json(pair.h2), "fd00:77::7")
    assert "dadfailed" not in theirs["flags"], theirs


def test_addrs_reports_link_state(pair):
    pair.h2.ip("link", "set", pair.h2_dev, "down")
    mine = find_addr(addrs_json(pair.h1), "10.0.0.1")
    assert mine["link"] == "up" and mine["lower_up"] is False, mine   # peer down: no carrier
    theirs = find_addr(addrs_json(pair.h2), "10.0.0.2")
    assert theirs["link"] == "down" and theirs["operstate"] == "down", theirs
    lo = find_addr(addrs_json(pair.h1), "127.0.0.1")
    assert lo["link"] == "up" and lo["lower_up"] is True, lo


def test_addrs_family_filter(pair):
    pair.h1.addr_add(pair.h1_dev, "fd00:77::1/64", "nodad")
    run = pair.h1.probe("addrs", "--json", "-6")
    assert run.returncode == 0, run.stderr
    assert {r["family"] for r in run.records} == {"inet6"}


@pytest.mark.parametrize("args", [["stray"], ["--bogus"], ["-x"]])
def test_addrs_bad_usage_exits_2_with_nothing_on_stdout(lab, args):
    run = lab.netns("h1").probe("addrs", *args)
    assert run.returncode == 2
    assert run.stdout == ""
    assert "addrs" in run.stderr


def test_addrs_under_valgrind_has_no_leaks_or_errors(pair):
    pair.h1.addr_add(pair.h1_dev, "fd00:77::1/64", "nodad")
    run = pair.h1.probe("addrs", "--json", wrap=VALGRIND, binary=plain_probe())
    assert run.returncode == 0, run.stderr       # 9: valgrind found errors or leaks
    assert find_addr(run.records, "fd00:77::1")
