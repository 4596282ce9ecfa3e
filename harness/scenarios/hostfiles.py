"""A host's own resolver files: what a scenario gives one host instead of the
machine's /etc/hosts, /etc/resolv.conf and /etc/gai.conf.

    HostFiles(host, hosts=None, resolv_conf=None, gai_conf=None)
    check_host_files(where, host_files, hosts)   ScenarioError naming the first problem
    FILES                                        (field, the /etc path it stands for)

Pure data: net/hostfiles.py writes them into the run's work folder and bind-mounts
them in that host's own mount namespace (its shell's), so that every program of the
host, and only of that host, resolves through them.  A host without HostFiles sees
the machine's files, exactly as before.
"""

from dataclasses import dataclass
from typing import Optional

from .model import ScenarioError

# Each field and the file of /etc it replaces, in the order they are mounted.
FILES = (('hosts', '/etc/hosts'), ('resolv_conf', '/etc/resolv.conf'),
         ('gai_conf', '/etc/gai.conf'))
# A resolver file is a few lines; a bigger one is a mistake, not a file to copy.
FILE_MAX = 64 * 1024


@dataclass(frozen=True)
class HostFiles:
    """The resolver files of one host: each the whole text of that file, or None for
    the machine's own (e.g. hosts='127.0.0.1 localhost\\n::1 localhost\\n')."""
    host: str
    hosts: Optional[str] = None
    resolv_conf: Optional[str] = None
    gai_conf: Optional[str] = None

    def files(self):
        """[(field, /etc path, text)] of the files this host has, in mount order."""
        return [(name, path, getattr(self, name)) for name, path in FILES
                if getattr(self, name) is not None]


def check_host_files(where, host_files, hosts):
    """Raise ScenarioError naming the first thing wrong in a scenario's host_files
    (a tuple of HostFiles): an unknown or repeated host, a file that is not text, too
    big, has a NUL byte, or a HostFiles with no file at all."""
    if not isinstance(host_files, tuple):
        raise ScenarioError(f'{where}: host_files must be a tuple of HostFiles')
    seen = set()
    for entry in host_files:
        if not isinstance(entry, HostFiles):
            raise ScenarioError(f'{where}: host_files: {entry!r} is not a HostFiles')
        if entry.host not in hosts:
            raise ScenarioError(f'{where}: host_files: unknown host {entry.host!r}')
        if entry.host in seen:
            raise ScenarioError(f'{where}: host_files: host {entry.host} given twice')
        seen.add(entry.host)
        if not entry.files():
            raise ScenarioError(f'{where}: host_files of {entry.host}: no file given')
        for name, _path, text in entry.files():
            what = f'{where}: host_files of {entry.host}: {name}'
            if not isinstance(text, str):
                raise ScenarioError(f'{what} must be text')
            if '\0' in text or len(text.encode()) > FILE_MAX:
                raise ScenarioError(f'{what}: a NUL byte, or more than {FILE_MAX} bytes')
