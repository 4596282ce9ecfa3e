"""`netprobe diagnose` against real network namespaces.

Every bind failure the probe can explain is built for real (another host's
address, a deleted address, a tentative and a dadfailed IPv6 address, a port held
by `netprobe serve` or by a Python listener, a privileged port for an unprivileged
user, a link-local address without a scope), and the test checks the cause keyword,
the errno and the exit status that scripts rely on; the good cases (an address that
is here, an interface that is down) must exit 0.  The namespace kit comes from
test_addrs.py.
"""

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_addrs import (  # noqa: E402  (after the path fix, on purpose)
    NETPROBE,
    VALGRIND,
    lab,  # noqa: F401  (the fixture)
    plain_probe,
    slow_dad,
    two_hosts,
    wait_for_flag,
)


def diagnose(lab, ns, *args, user=None, binary=None, wrapper=()):
    """Runs `netprobe diagnose --json ARGS` in NS; returns (exit status, object).
    Any exit status but 0 (bind works) or 1 (it does not) fails the test."""
    proc = lab.probe(ns, "diagnose", "--json", *args, user=user, binary=binary,
                     wrapper=wrapper)
    assert proc.returncode in (0, 1), (proc.returncode, proc.stderr)
    lines = proc.stdout.splitlines()
    assert len(lines) == 1, proc.stdout
    return proc.returncode, json.loads(lines[0])


def assert_fails(status, diag, cause, error):
    assert status == 1, diag
    assert diag["ok"] is False
    assert diag["cause"] == cause, diag
    assert diag["error"] == error, diag
    assert diag["explanation"] and diag["fixes"], diag


def start_listener(lab, ns, argv):
    """Starts ARGV in NS and waits for its first stdout line (its readiness signal)."""
    proc = lab.spawn(ns, argv)
    line = proc.stdout.readline()
    assert line, f"{argv!r} said nothing: {proc.stderr.read() if proc.poll() is not None else ''}"
    return proc, line


# ---- EADDRNOTAVAIL ---------------------------------------------------------------------


def test_another_hosts_address_is_not_local(lab):
    _, h2 = two_hosts(lab)
    status, diag = diagnose(lab, h2, "10.0.0.1", "6677")
    assert_fails(status, diag, "not_local", "EADDRNOTAVAIL")
    assert diag["errno"] == 99
    assert diag["addr"] == "10.0.0.1" and diag["port"] == 6677 and diag["proto"] == "tcp"
    assert "10.0.0.2" in {a["addr"] for a in diag["local_addrs"]}
    assert "h2-eth0" in diag["explanation"]          # the subnet it belongs to
    assert diag["ip_nonlocal_bind"] == 0
    assert any("ip_nonlocal_bind=1" in f for f in diag["fixes"])
    assert any("FREEBIND" in f for f in diag["fixes"])
    assert any("ip addr add 10.0.0.1/24 dev h2-eth0" in f for f in diag["fixes"])


def test_human_form_has_headline_why_and_fixes(lab):
    _, h2 = two_hosts(lab)
    proc = lab.probe(h2, "diagnose", "10.0.0.1", "6677")
    assert proc.returncode == 1
    lines = proc.stdout.splitlines()
    assert lines[0] == ("bind 10.0.0.1:6677/tcp would fail: EADDRNOTAVAIL "
                        "(Cannot assign requested address)")
    assert lines[1].startswith("why: ")
    assert len(lines) > 2 and all(line.startswith("fix: ") for line in lines[2:])


def test_a_deleted_address_is_not_local(lab):
    h1, _ = two_hosts(lab)
    lab.ip(h1, "addr", "add", "10.0.0.9/24", "dev", "h1-eth0")
    status, diag = diagnose(lab, h1, "10.0.0.9", "6677")
    assert status == 0 and diag["cause"] == "ok", diag
    lab.ip(h1, "addr", "del", "10.0.0.9/24", "dev", "h1-eth0")
    status, diag = diagnose(lab, h1, "10.0.0.9", "6677")
    assert_fails(status, diag, "not_local", "EADDRNOTAVAIL")


def test_nonlocal_bind_sysctl_is_reported_and_honoured(lab):
    _, h2 = two_hosts(lab)
    lab.sysctl(h2, "net.ipv4.ip_nonlocal_bind", 1)
    status, diag = diagnose(lab, h2, "10.0.0.1", "6677")
    assert status == 0 and diag["ok"] is True and diag["cause"] == "ok", diag
    assert diag["ip_nonlocal_bind"] == 1
    assert "ip_nonlocal_bind=1" in diag["explanation"]


def test_freebind_lets_the_bind_through(lab):
    _, h2 = two_hosts(lab)
    status, diag = diagnose(lab, h2, "--freebind", "10.0.0.1", "6677")
    assert status == 0 and diag["cause"] == "ok", diag
    assert "IP_FREEBIND" in diag["explanation"]


def test_tentative_ipv6_address(lab):
    h1, _ = two_hosts(lab)
    slow_dad(lab, h1, "h1-eth0")
    lab.ip(h1, "addr", "add", "fd00:77::1/64", "dev", "h1-eth0")
    status, diag = diagnose(lab, h1, "fd00:77::1", "6677")
    assert_fails(status, diag, "tentative", "EADDRNOTAVAIL")
    assert diag["family"] == "inet6"
    assert any("nodad" in f for f in diag["fixes"])
    assert any("accept_dad=0" in f for f in diag["fixes"])


def test_dadfailed_ipv6_address(lab):
    h1, h2 = two_hosts(lab)
    lab.ip(h2, "addr", "add", "fd00:77::7/64", "dev", "h2-eth0", "nodad")
    lab.ip(h1, "addr", "add", "fd00:77::7/64", "dev", "h1-eth0")
    rec = wait_for_flag(lab, h1, "fd00:77::7", "dadfailed")
    assert rec and "dadfailed" in rec["flags"], rec
    status, diag = diagnose(lab, h1, "fd00:77::7", "6677")
    assert_fails(status, diag, "dadfailed", "EADDRNOTAVAIL")
    assert any("ip addr del fd00:77::7/64 dev h1-eth0" in f for f in diag["fixes"])


# ---- EADDRINUSE ------------------------------------------------------------------------


def test_port_held_by_netprobe_serve_names_its_pid(lab):
    h1, _ = two_hosts(lab)
    server, ready = start_listener(lab, h1, [NETPROBE, "--host", "h1", "serve",
                                             "0.0.0.0", "6677"])
    assert json.loads(ready)["ok"] is True, ready
    status, diag = diagnose(lab, h1, "10.0.0.1", "6677")
    assert_fails(status, diag, "port_in_use", "EADDRINUSE")
    listeners = [h for h in diag["holders"] if h["state"] == "LISTEN"]
    assert listeners and listeners[0]["pid"] == server.pid, diag["holders"]
    assert listeners[0]["local"] == "0.0.0.0:6677"
    assert f"kill {server.pid}" in " ".join(diag["fixes"])


LISTENER = """
import socket, sys, time
kind = socket.SOCK_DGRAM if sys.argv[1] == "udp" else socket.SOCK_STREAM
s = socket.socket(socket.AF_INET6, kind)
s.bind(("::", int(sys.argv[2])))
if kind == socket.SOCK_STREAM:
    s.listen()
print("ready", flush=True)
time.sleep(600)
"""


@pytest.mark.parametrize("proto", ["tcp", "udp"])
def test_port_held_by_a_python_listener_names_its_pid(lab, proto):
    h1, _ = two_hosts(lab)
    listener, _ = start_listener(lab, h1, [sys.executable, "-c", LISTENER, proto, "5300"])
    extra = ["--udp"] if proto == "udp" else []
    status, diag = diagnose(lab, h1, *extra, "10.0.0.1", "5300")   # IPv4 vs dual-stack ::
    assert_fails(status, diag, "port_in_use", "EADDRINUSE")
    assert diag["proto"] == proto
    holder = diag["holders"][0]
    assert holder["proto"] == proto + "6" and holder["local"] == "[::]:5300", holder
    assert holder["pid"] == listener.pid and holder["comm"].startswith("python"), holder


# ---- EACCES, EINVAL --------------------------------------------------------------------


def test_privileged_port_for_an_unprivileged_user(lab):
    h1, _ = two_hosts(lab)
    status, diag = diagnose(lab, h1, "10.0.0.1", "80", user="nobody")
    assert_fails(status, diag, "privileged_port", "EACCES")
    assert "1024" in diag["explanation"] and "CAP_NET_BIND_SERVICE" in diag["explanation"]
    assert any("ip_unprivileged_port_start=80" in f for f in diag["fixes"])
    # root has CAP_NET_BIND_SERVICE: the same bind works
    status, diag = diagnose(lab, h1, "10.0.0.1", "80")
    assert status == 0 and diag["cause"] == "ok", diag


def test_linklocal_without_scope(lab):
    h1, _ = two_hosts(lab)
    lab.ip(h1, "addr", "add", "fe80::77/64", "dev", "h1-eth0", "nodad")
    status, diag = diagnose(lab, h1, "fe80::77", "6677")
    assert_fails(status, diag, "linklocal_no_scope", "EINVAL")
    assert "fe80::77%h1-eth0" in " ".join(diag["fixes"])
    status, diag = diagnose(lab, h1, "fe80::77%h1-eth0", "6677")
    assert status == 0 and diag["cause"] == "ok", diag


def test_scope_naming_no_interface(lab):
    h1, _ = two_hosts(lab)
    status, diag = diagnose(lab, h1, "fe80::77%nosuchif", "6677")
    assert_fails(status, diag, "unknown_scope", "ENODEV")


# ---- the bind works --------------------------------------------------------------------


def test_an_address_that_is_here_is_ok(lab):
    h1, _ = two_hosts(lab)
    status, diag = diagnose(lab, h1, "10.0.0.1", "6677")
    assert status == 0, diag
    assert diag["ok"] is True and diag["errno"] == 0 and diag["error"] is None
    assert diag["cause"] == "ok" and diag["fixes"] == []
    proc = lab.probe(h1, "diagnose", "10.0.0.1", "6677")
    assert proc.returncode == 0
    assert proc.stdout.splitlines()[0] == "bind 10.0.0.1:6677/tcp would succeed"


def test_interface_down_binds_but_warns(lab):
    h1, _ = two_hosts(lab)
    lab.ip(h1, "link", "set", "h1-eth0", "down")
    status, diag = diagnose(lab, h1, "10.0.0.1", "6677")
    assert status == 0 and diag["ok"] is True, diag
    assert diag["cause"] == "interface_down", diag
    assert any("ip link set dev h1-eth0 up" in f for f in diag["fixes"])


def test_peer_down_no_carrier_is_interface_down(lab):
    h1, h2 = two_hosts(lab)
    lab.ip(h2, "link", "set", "h2-eth0", "down")
    status, diag = diagnose(lab, h1, "10.0.0.1", "6677")
    assert status == 0 and diag["cause"] == "interface_down", diag
    assert "carrier" in diag["explanation"]


# ---- usage -----------------------------------------------------------------------------


@pytest.mark.parametrize("args, names", [
    (["10.0.0.300", "80"], "ADDR"),
    (["not-an-address"], "ADDR"),
    (["10.0.0.1", "65536"], "PORT"),
    (["10.0.0.1", "http"], "PORT"),
    ([], "ADDR [PORT]"),
    (["10.0.0.1", "80", "extra"], "ADDR [PORT]"),
    (["--bogus", "10.0.0.1"], "--bogus"),
])
def test_bad_usage_exits_2_with_nothing_on_stdout(lab, args, names):
    h1 = lab.netns("h1")
    proc = lab.probe(h1, "diagnose", "--json", *args)
    assert proc.returncode == 2, proc
    assert proc.stdout == ""
    assert names in proc.stderr


# ---- memory ----------------------------------------------------------------------------


def test_diagnose_under_valgrind_has_no_leaks_or_errors(lab):
    binary = plain_probe()
    h1, h2 = two_hosts(lab)
    listener, _ = start_listener(lab, h1, [sys.executable, "-c", LISTENER, "tcp", "5300"])
    for ns, args, cause in [(h2, ["10.0.0.1", "6677"], "not_local"),
                            (h1, ["10.0.0.1", "5300"], "port_in_use"),
                            (h1, ["10.0.0.1", "6677"], "ok")]:
        # diagnose() fails on any exit but 0/1: valgrind's 9 shows its report
        status, diag = diagnose(lab, ns, *args, binary=binary, wrapper=VALGRIND)
        assert diag["cause"] == cause, diag
