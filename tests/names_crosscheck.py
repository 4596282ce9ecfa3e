"""names_crosscheck: netprobe's name cases beside Python's own resolver and sockets.

Run by tests/test_netprobe_names.py inside one namespace and one private mount
namespace whose /etc/hosts and /etc/resolv.conf are the test's files:

    names_crosscheck.py NETPROBE CASES_JSON [TRACER TRACE_FILE]

For each case (op, name, port, family, mode, addrconfig) it runs netprobe, then does
what an ordinary Python program does: socket.getaddrinfo() with the same hints, then
bind (and listen) or connect on the first result, or on each in order until one
works, or (mode all, a bind) on every result, all held until the last, as
asyncio's create_server does (the first failure is the outcome).  One JSON line a case: {"case", "netprobe" (its record), "python"}.  With
TRACER (libbindtrace.so): then one line {"traced": [...]}, the "resolve" records the
tracer wrote for a Python that resolves each case's name, beside {"python": [...]}
what that Python got (the resolved list, or the EAI_ name).
"""

import errno
import json
import os
import socket
import subprocess
import sys

FAMILIES = {"any": socket.AF_UNSPEC, "4": socket.AF_INET, "6": socket.AF_INET6}
EAI_NAMES = {getattr(socket, n): n for n in dir(socket) if n.startswith("EAI_")}


def python_case(case):
    """What Python's getaddrinfo + bind/connect gave for @case, in netprobe's words."""
    flags = socket.AI_PASSIVE if case["op"] == "bind" else 0
    if case.get("addrconfig"):
        flags |= socket.AI_ADDRCONFIG
    try:
        infos = socket.getaddrinfo(case["name"], case["port"], FAMILIES[case["family"]],
                                   socket.SOCK_STREAM, socket.IPPROTO_TCP, flags)
    except socket.gaierror as e:
        return {"resolved": [], "attempts": [], "error": EAI_NAMES.get(e.errno, e.errno)}
    if case["mode"] == "all":
        return bind_all(infos)
    tries = []
    for family, kind, proto, _canon, sockaddr in infos:
        tries.append({"addr": sockaddr[0], "error": call(case["op"], family, kind, proto,
                                                         sockaddr)})
        if tries[-1]["error"] is None or case["mode"] == "first":
            break
    return {"resolved": [i[4][0] for i in infos], "attempts": tries, "error": tries[-1]["error"]}


def bind_all(infos):
    """asyncio's create_server(): a socket bound (and listening) on every result, all
    open until the last; the first failure is the outcome."""
    held, tries = [], []
    try:
        for family, kind, proto, _canon, sockaddr in infos:
            s = socket.socket(family, kind, proto)
            held.append(s)
            try:
                s.bind(sockaddr)
                s.listen()
                tries.append({"addr": sockaddr[0], "error": None})
            except OSError as e:
                tries.append({"addr": sockaddr[0],
                              "error": errno.errorcode.get(e.errno, str(e.errno))})
    finally:
        for s in held:
            s.close()
    failed = [t["error"] for t in tries if t["error"]]
    return {"resolved": [i[4][0] for i in infos], "attempts": tries,
            "error": failed[0] if failed else None}


def call(op, family, kind, proto, sockaddr):
    """One bind (and listen) or connect; its errno name, None when it worked."""
    s = socket.socket(family, kind, proto)
    try:
        if op == "bind":
            s.bind(sockaddr)
            s.listen()
        else:
            s.settimeout(1)
            s.connect(sockaddr)
        return None
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))
    finally:
        s.close()


def netprobe_case(netprobe, case):
    """netprobe's record of @case."""
    argv = [netprobe, "--host", "x", case["op"], "--family", case["family"],
            "--" + case["mode"]]
    if case.get("addrconfig"):
        argv.append("--addrconfig")
    if case["op"] == "connect":
        argv += ["--no-greet", "--timeout", "1000"]
    proc = subprocess.run(argv + [case["name"], str(case["port"])], capture_output=True,
                          text=True, timeout=30)
    if proc.returncode != 0:
        return {"exit": proc.returncode, "stderr": proc.stderr}
    return json.loads(proc.stdout)


RESOLVE_EACH = """
import json, socket, sys
out = []
for name in json.loads(sys.argv[1]):
    try:
        out.append([i[4][0] for i in socket.getaddrinfo(name, 80, 0, socket.SOCK_STREAM)])
    except socket.gaierror as e:
        out.append({getattr(socket, n): n for n in dir(socket) if n.startswith('EAI_')}[e.errno])
print(json.dumps(out))
"""


def traced(tracer, trace, cases):
    """The tracer's resolve records of a Python that resolves every case's name, and
    what that Python got."""
    names = [c["name"] for c in cases]
    env = dict(os.environ, LD_PRELOAD=tracer, BINDTRACE_FILE=trace)
    proc = subprocess.run([sys.executable, "-c", RESOLVE_EACH, json.dumps(names)], env=env,
                          capture_output=True, text=True, timeout=60, check=True)
    with open(trace) as f:
        recs = [json.loads(line) for line in f]
    return {"traced": [r for r in recs if r.get("op") == "resolve"],
            "python": json.loads(proc.stdout), "names": names}


def main():
    netprobe, cases = sys.argv[1], json.loads(sys.argv[2])
    for case in cases:
        print(json.dumps({"case": case, "netprobe": netprobe_case(netprobe, case),
                          "python": python_case(case)}), flush=True)
    if len(sys.argv) > 4:
        print(json.dumps(traced(sys.argv[3], sys.argv[4], cases)), flush=True)


if __name__ == "__main__":
    main()
