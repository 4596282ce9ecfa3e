"""netprobe by name, cross-checked against Python's own resolver in one namespace.

`netprobe bind NAME PORT` and `connect NAME PORT` resolve with getaddrinfo() the way
ordinary programs do.  Each case here runs twice in the same network namespace and
the same private mount namespace (whose /etc/hosts and /etc/resolv.conf are this
test's files, bind-mounted; the machine's own stay untouched): once through
netprobe, once as a Python program does it (socket.getaddrinfo + bind/connect).
The resolved list, the address tried and each outcome must be the same, and the
outcomes are the ones the Errno 99 reports describe: a name that resolves to ::1
only with IPv6 off is EADDRNOTAVAIL, a stale hosts entry is EADDRNOTAVAIL, a name
with no resolver to ask is EAI_AGAIN (a resolution failure, never an errno), and a
server binding every address of a name (--all) fails on the one it cannot bind.
"""

import json
import os
import subprocess

import pytest

import nsutil

HOSTS = """127.0.0.1 localhost
::1 localhost ip6-localhost
127.0.1.1 myhost.test myhost
10.0.0.9 stale.test
::1 v6only.test
::1 dual.test
127.0.0.1 dual.test
"""
# A resolver that is not there: the name fails at once, not after 5 s x 2.
RESOLV = "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n"


def case(op, name, mode, family="any", addrconfig=False, port=6379):
    return {"op": op, "name": name, "mode": mode, "family": family,
            "addrconfig": addrconfig, "port": port}


CASES = [
    case("bind", "localhost", "first"),
    case("bind", "localhost", "each", family="6"),
    case("bind", "myhost", "first"),
    case("bind", "stale.test", "first"),
    case("bind", "v6only.test", "first"),
    case("bind", "dual.test", "each"),
    case("bind", "localhost", "first", addrconfig=True),
    case("bind", "dual.test", "all"),
    case("connect", "localhost", "each"),
    case("connect", "dual.test", "first"),
    case("connect", "v6only.test", "each", family="4"),
    case("connect", "nosuch.test", "each"),
]


@pytest.fixture(scope="module")
def names_ns(tmp_path_factory):
    nsutil_path = nsutil.netprobe_path()
    if not os.access(nsutil_path, os.X_OK):
        pytest.fail("%s is missing: run `make build/asan/netprobe`" % nsutil_path)
    folder = tmp_path_factory.mktemp("names")
    (folder / "hosts").write_text(HOSTS)
    (folder / "resolv.conf").write_text(RESOLV)
    lab = nsutil.Lab()
    ns = lab.netns("h1")
    yield ns, folder
    assert not lab.remove()


TRACER = os.path.join(nsutil.REPO, "build", "libbindtrace.so")


def crosscheck(ns, folder, trace=None):
    """Runs every case through netprobe and Python in @ns with the test's resolver
    files (and, with trace, a Python under libbindtrace.so); returns the parsed lines."""
    script = os.path.join(os.path.dirname(__file__), "names_crosscheck.py")
    shell = ('mount --bind "$1" /etc/hosts && mount --bind "$2" /etc/resolv.conf && '
             'shift 2 && exec /usr/bin/python3 "$@"')
    proc = nsutil.run(ns.argv(["unshare", "--mount", "--propagation", "private", "sh", "-c",
                               shell, "sh", str(folder / "hosts"),
                               str(folder / "resolv.conf"), script, nsutil.netprobe_path(),
                               json.dumps(CASES)] + ([TRACER, trace] if trace else [])))
    return [json.loads(line) for line in proc.stdout.splitlines()]


def same_outcome(line):
    """Asserts that netprobe's record of one case says what Python saw; returns the
    record."""
    rec, py = line["netprobe"], line["python"]
    assert "exit" not in rec, line
    assert rec["name"] == line["case"]["name"]
    assert rec["resolved"] == py["resolved"], line
    assert [(t["addr"], t["error"]) for t in rec["attempts"]] == \
        [(t["addr"], t["error"]) for t in py["attempts"]], line
    assert rec["error"] == py["error"], line
    assert rec["ok"] == (py["error"] is None)
    failed = [t["addr"] for t in rec["attempts"] if t["error"]]
    if line["case"]["mode"] == "all" and failed:    # the first failure is the outcome
        assert rec["addr"] == failed[0], line
    else:
        assert rec["addr"] == (rec["attempts"][-1]["addr"] if rec["attempts"] else None)
    return rec


def test_the_tracer_records_what_getaddrinfo_returned(names_ns):
    """libbindtrace.so's resolve records say what the program's getaddrinfo() gave:
    the same list, in order, or the same EAI_ name (the same namespace and files)."""
    ns, folder = names_ns
    last = crosscheck(ns, folder, str(folder / "trace2.jsonl"))[-1]
    by_name = {r["name"]: r for r in last["traced"]}
    for name, py in zip(last["names"], last["python"]):
        rec = by_name[name]
        assert rec["resolved"] == py if isinstance(py, list) else rec["error"] == py, rec
        assert rec["call"] == (None if isinstance(py, list) else "getaddrinfo")
        assert (rec["tracer"], rec["prog"]) == ("preload", "python3")


def by_case(lines):
    return {(c["op"], c["name"], c["mode"], c["family"], c["addrconfig"]): same_outcome(line)
            for line in lines for c in [line["case"]]}


def test_names_resolve_and_fail_as_python_sees_them_with_ipv6_on(names_ns):
    ns, folder = names_ns
    lines = crosscheck(ns, folder, str(folder / "trace.jsonl"))
    got = by_case(lines[:-1])
    assert got[("bind", "v6only.test", "first", "any", False)]["ok"]
    assert got[("bind", "dual.test", "all", "any", False)]["ok"]
    assert got[("bind", "stale.test", "first", "any", False)]["error"] == "EADDRNOTAVAIL"
    assert got[("bind", "myhost", "first", "any", False)]["addr"] == "127.0.1.1"
    unresolved = got[("connect", "nosuch.test", "each", "any", False)]
    assert (unresolved["call"], unresolved["errno"], unresolved["addr"]) == \
        ("getaddrinfo", 0, None)
    assert unresolved["error"].startswith("EAI_")


def test_names_with_ipv6_off_give_errno_99_on_ipv6_loopback(names_ns):
    """The Docker container's Errno 99, by name: IPv6 off, a name on ::1."""
    ns, folder = names_ns
    for key in ("all", "default", "lo"):
        ns.sysctl("net.ipv6.conf.%s.disable_ipv6" % key, 1)
    got = by_case(crosscheck(ns, folder))
    v6 = got[("bind", "v6only.test", "first", "any", False)]
    assert (v6["addr"], v6["error"]) == ("::1", "EADDRNOTAVAIL")
    # a client that tries each address still reaches the IPv4 one
    dual = got[("bind", "dual.test", "each", "any", False)]
    assert dual["ok"] and dual["addr"] == "127.0.0.1"
    # a server binding every address (nginx, asyncio) meets the ::1 all the same
    every = got[("bind", "dual.test", "all", "any", False)]
    assert (every["addr"], every["error"], every["resolve"]) == ("::1", "EADDRNOTAVAIL", "all")
    assert [t["error"] for t in every["attempts"]] == [None, "EADDRNOTAVAIL"]
    # asked for IPv4 only, the ::1-only name never gives ::1 (glibc's hosts file
    # answers an IPv4 query for a ::1 line with 127.0.0.1; Python sees the same)
    v4 = got[("connect", "v6only.test", "each", "4", False)]
    assert "::1" not in v4["resolved"] and v4["error"] != "EADDRNOTAVAIL"
