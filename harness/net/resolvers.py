"""DNS servers in the network: a scenario's DnsServer entries as dnsmasq processes.

    start_dns_servers(net, dns_servers, state, workdir, jobs)   each started on its
                          host (hosts.start_on: the host's shell, its PID in the ledger;
                          its Job appended to jobs) and awaited until it says it
                          started; None or why not
    stop_dns_servers(jobs, state)   SIGTERM by PID, SIGKILL what is left, forgotten

dnsmasq (Debian's dnsmasq-base: the binary, no system service) answers only the
scenario's records (--host-record), reads no /etc/hosts, /etc/resolv.conf or
configuration file of the machine's, listens only at its address (--bind-interfaces),
keeps running as root in the foreground, and writes its pid file into the work
folder: nothing outside the run is touched.  A name under a --local domain without a
record is NXDOMAIN; any other name is REFUSED (no upstream).  It stops with the
network: the ledger stops every recorded process at teardown and `clean-net` after a
killed run.
"""

import os
import shutil
import time

from ..errors import EnvError
from ..ledger import stop
from .hosts import start_on
from .retry import attempts

DNS_READY_S = 10.0
STARTED = 'started, version'


def dnsmasq_argv(server, pid_file):
    """dnsmasq's command line for a DnsServer."""
    argv = ['dnsmasq', '--keep-in-foreground', '--no-resolv', '--no-hosts',
            '--conf-file=/dev/null', f'--listen-address={server.addr}',
            '--bind-interfaces', '--log-facility=-', '--user=root',
            f'--pid-file={pid_file}']
    argv += [f'--host-record={name},{addr}' for name, addr in server.records]
    argv += [f'--local=/{domain}/' for domain in server.local]
    return argv


def _said(base):
    try:
        with open(base + '.err', encoding='utf-8', errors='replace') as f:
            return f.read()
    except FileNotFoundError:
        return ''


def stop_dns_servers(jobs, state, grace_s=3.0):
    """Stop the DNS servers' jobs by PID (ledger.stop) and forget them; empties jobs."""
    stop([job.target for job in jobs], grace_s)
    state.drop_pids([job.pid for job in jobs])
    jobs.clear()


def start_dns_servers(net, dns_servers, state, workdir, jobs):
    """Start every DnsServer (all at once), their Jobs appended to jobs (the caller
    stops them: stop_dns_servers), and wait until each has said it started.  Returns
    None, or an error text naming the host and what dnsmasq said.  Raises EnvError
    when dnsmasq is not installed."""
    if not dns_servers:
        return None
    if not shutil.which('dnsmasq'):
        raise EnvError('this scenario runs a DNS server, and dnsmasq is not installed: '
                       'scripts/install-debs dnsmasq-base')
    bases = [os.path.join(workdir, f'dns-{s.host}') for s in dns_servers]
    started = start_on([(net.get(s.host), dnsmasq_argv(s, base + '.pid'), base)
                        for s, base in zip(dns_servers, bases)], state, 'dnsmasq')
    jobs += [job for job in started if job]
    deadline = time.monotonic() + DNS_READY_S
    for server, job, base in zip(dns_servers, started, bases):
        for _ in attempts(deadline=deadline, pause=0.02):
            if STARTED in _said(base) or job is None or not job.running():
                break
        if STARTED not in _said(base):
            tail = ' '.join(_said(base).strip().splitlines()[-2:])[:300]
            return f'DNS server on {server.host} at {server.addr} did not start: ' \
                   f'{tail or "nothing said"}'
    return None
