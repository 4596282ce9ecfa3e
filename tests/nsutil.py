"""nsutil: real network namespaces, veth pairs and netprobe runs for the tests.

The tests of netprobe check what the kernel really answers, so they need real
namespaces, not mocks.  Everything here is named with one prefix per test process
(``blt<pid>``) and tracked by a ``Lab``:

- ``Lab.netns()`` makes a namespace ``blt<pid>n<k>`` with ``lo`` up;
- ``Lab.veth()`` makes a veth pair whose two ends are created directly inside two
  namespaces (nothing is ever made in the root namespace, and nothing touches a
  real interface);
- ``Netns.probe()`` runs ``ip netns exec NS $NETPROBE --host LABEL ...`` and parses
  its JSON lines; ``Netns.serve()`` starts ``netprobe serve`` and returns once its
  readiness line is read (no sleeps);
- ``Lab.remove()`` stops the processes it started (by PID) and deletes exactly its
  namespaces, which takes their veths, addresses and nft tables with them.

``leftovers()`` lists what of ours is still on the machine; the session fixture in
conftest.py fails the run if anything is.
"""

import json
import os
import re
import select
import signal
import subprocess
import time

PREFIX = "blt%d" % os.getpid()
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

ERRNO_99 = "EADDRNOTAVAIL"

# A guard against a hung probe, never an assertion about speed: these calls
# normally take milliseconds.
GUARD_SECONDS = 60


def netprobe_path():
    """The probe under test: $NETPROBE, else the ASan+UBSan build of this tree."""
    return os.environ.get("NETPROBE") or os.path.join(REPO, "build", "asan", "netprobe")


def plain_netprobe_path():
    """The probe without sanitizers (for valgrind): $NETPROBE_PLAIN or build/netprobe."""
    return os.environ.get("NETPROBE_PLAIN") or os.path.join(REPO, "build", "netprobe")


def run(argv, input=None, check=True):
    """Runs @argv (a list) to completion; raises with its stderr when it fails and
    @check is set.  Returns the CompletedProcess (text mode)."""
    proc = subprocess.run(argv, input=input, capture_output=True, text=True,
                          timeout=GUARD_SECONDS)
    if check and proc.returncode != 0:
        raise RuntimeError("%s: exit %d: %s" % (" ".join(argv), proc.returncode,
                                                proc.stderr.strip()))
    return proc


def parse_records(stdout):
    """The JSON records of a probe's stdout, one a line; a line that is not one
    JSON object fails loudly (the harness would choke on it too)."""
    records = []
    for line in stdout.splitlines():
        record = json.loads(line)
        if not isinstance(record, dict):
            raise ValueError("not a JSON object: %r" % line)
        records.append(record)
    return records


def assert_outcome(record, error):
    """Asserts that @record says @error (None: success), with ok, errno and message
    consistent with it: what a matrix cell would show."""
    if error is None:
        assert record["ok"] is True, record
        assert record["errno"] == 0 and record["error"] is None, record
    else:
        assert record["ok"] is False, record
        assert record["error"] == error, record
        assert record["errno"] != 0 and record["message"], record


class ProbeRun:
    """One finished probe run: exit status, records (parsed stdout), stderr."""

    def __init__(self, proc):
        self.returncode = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.records = parse_records(proc.stdout) if proc.returncode != 2 else []

    def only(self):
        """The single record of a one-case run."""
        assert len(self.records) == 1, (self.records, self.stderr)
        return self.records[0]

    def by_id(self):
        """Batch records keyed by case id."""
        return {r["id"]: r for r in self.records}


class Server:
    """A running ``netprobe serve``: its readiness record and its process."""

    def __init__(self, popen, ready):
        self.popen = popen
        self.ready = ready

    def stop(self):
        """SIGTERM, then the exit status (the serve contract: 0 on SIGTERM)."""
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
        try:
            return self.popen.wait(timeout=GUARD_SECONDS)
        finally:
            self.popen.stdout.close()
            self.popen.stderr.close()


class Netns:
    """A namespace of a Lab; @label is the host name the probe reports."""

    def __init__(self, lab, name, label):
        self.lab = lab
        self.name = name
        self.label = label

    def argv(self, argv):
        """@argv run inside this namespace."""
        return ["ip", "netns", "exec", self.name] + list(argv)

    def ip(self, *args):
        """``ip ARGS`` inside this namespace."""
        return run(["ip", "-n", self.name] + list(args))

    def sh(self, argv, input=None, check=True):
        """Runs @argv inside this namespace to completion."""
        return run(self.argv(argv), input=input, check=check)

    def sysctl(self, key, value):
        """Sets a per-namespace sysctl."""
        return self.sh(["sysctl", "-q", "-w", "%s=%s" % (key, value)])

    def addr_add(self, dev, cidr, *flags):
        """Adds address @cidr ("10.0.0.1/24") to @dev, with ip's flags ("nodad")."""
        return self.ip("addr", "add", cidr, "dev", dev, *flags)

    def nft(self, ruleset):
        """Loads an nft ruleset in this namespace (it goes away with the namespace)."""
        return self.sh(["nft", "-f", "-"], input=ruleset)

    def probe(self, *args, input=None, wrap=(), binary=None):
        """Runs ``netprobe --host LABEL ARGS`` here; @wrap goes before the binary
        (setpriv, valgrind).  Returns a ProbeRun."""
        argv = list(wrap) + [binary or netprobe_path(), "--host", self.label]
        proc = run(self.argv(argv + [str(a) for a in args]), input=input, check=False)
        return ProbeRun(proc)

    def serve(self, *args, wrap=(), binary=None):
        """Starts ``netprobe --host LABEL serve ARGS`` here and waits for its
        readiness line (the serve record).  Returns a Server; the Lab stops it."""
        argv = list(wrap) + [binary or netprobe_path(), "--host", self.label, "serve"]
        popen = subprocess.Popen(self.argv(argv + [str(a) for a in args]),
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True)
        self.lab.processes.append(popen)
        ready, _, _ = select.select([popen.stdout], [], [], GUARD_SECONDS)
        line = popen.stdout.readline() if ready else ""
        if not line:
            popen.kill()
            popen.wait()
            raise RuntimeError("serve %s printed no readiness line: %s"
                               % (args, popen.stderr.read().strip()))
        return Server(popen, json.loads(line))

    def addr_flags(self, dev, addr):
        """The flags ``ip -6 addr`` shows for @addr on @dev (e.g. {"tentative"})."""
        out = self.ip("-6", "-o", "addr", "show", "dev", dev).stdout
        for line in out.splitlines():
            words = line.split()
            if "inet6" in words and words[words.index("inet6") + 1].split("/")[0] == addr:
                return set(words)
        raise LookupError("%s not on %s in %s" % (addr, dev, self.name))

    def wait_dad_done(self, dev, addr):
        """Polls until @addr on @dev is no longer tentative.  Returns its flags."""
        return self._wait_flags(dev, addr, lambda flags: "tentative" not in flags,
                                "stayed tentative")

    def wait_dad_failed(self, dev, addr):
        """Polls until @addr on @dev is marked dadfailed.  Returns its flags."""
        return self._wait_flags(dev, addr, lambda flags: "dadfailed" in flags,
                                "never failed DAD")

    def _wait_flags(self, dev, addr, done, what):
        """Polls @addr's flags until done(flags); raises saying @what otherwise."""
        deadline = time.monotonic() + GUARD_SECONDS
        while time.monotonic() < deadline:
            flags = self.addr_flags(dev, addr)
            if done(flags):
                return flags
            time.sleep(0.05)
        raise TimeoutError("%s on %s %s" % (addr, dev, what))


def wait_for_file(path):
    """Polls until @path exists (files written whole, by rename, are complete then)."""
    deadline = time.monotonic() + GUARD_SECONDS
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            raise TimeoutError("%s never appeared" % path)
        time.sleep(0.01)


class Lab:
    """The namespaces and processes of one test; remove() undoes all of it."""

    def __init__(self, prefix=PREFIX):
        self.prefix = prefix
        self.namespaces = []
        self.processes = []
        self.links = 0

    def netns(self, label):
        """A new namespace with lo up; @label is the host name its probes report."""
        name = "%sn%d" % (self.prefix, Lab.counter())
        run(["ip", "netns", "add", name])
        ns = Netns(self, name, label)
        self.namespaces.append(ns)
        ns.ip("link", "set", "lo", "up")
        return ns

    def veth(self, a, b, addr_a=None, addr_b=None, up=True):
        """A veth pair between namespaces @a and @b, both ends named ``veth<k>``
        (inside their namespaces), with optional addresses ("10.0.0.1/24").
        Returns the two interface names."""
        k = self.links
        self.links += 1
        name_a, name_b = "veth%da" % k, "veth%db" % k
        run(["ip", "link", "add", name_a, "netns", a.name, "type", "veth",
             "peer", "name", name_b, "netns", b.name])
        for ns, dev, cidr in ((a, name_a, addr_a), (b, name_b, addr_b)):
            if cidr:
                ns.addr_add(dev, cidr)
            if up:
                ns.ip("link", "set", dev, "up")
        return name_a, name_b

    def remove(self):
        """Stops our processes (by PID) and deletes our namespaces.  Returns the
        list of what could not be removed (empty when all went)."""
        failures = []
        for popen in self.processes:
            if popen.poll() is None:
                popen.kill()
            popen.wait()
            for stream in (popen.stdout, popen.stderr):
                if stream:
                    stream.close()
        for ns in self.namespaces:
            proc = run(["ip", "netns", "del", ns.name], check=False)
            if proc.returncode != 0:
                failures.append("%s: %s" % (ns.name, proc.stderr.strip()))
        self.processes = []
        self.namespaces = []
        return failures

    _next = 0

    @staticmethod
    def counter():
        """A number unique in this process, for namespace names."""
        Lab._next += 1
        return Lab._next


def leftovers(prefix=PREFIX):
    """Our namespaces and root-namespace links that still exist."""
    found = []
    names = run(["ip", "netns", "list"]).stdout.split("\n")
    found += [line.split()[0] for line in names if line.startswith(prefix)]
    links = run(["ip", "-o", "link", "show"]).stdout
    found += re.findall(r"^\d+: (%s[^:@\s]*)" % re.escape(prefix), links, re.M)
    return found
