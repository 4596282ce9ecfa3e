"""One cell explained: its outcome, reason and rule, and what the kernel did.

    explain HOST KIND COLUMN          in the lab CLI, on the live network
    bindlab explain RUN CELL          offline, from a run folder (CELL: the cell's
                                      name "h2 bind tcp 10.0.0.1" or its id "b3")

Both say the cell's outcome (expected, actual, verdict), what that outcome means, the
scenario's reason and rule, the lab sheet's own paragraph about it (from its Why
section), and what was done to that host after the network started.  In the lab the
live network adds, for a bind that fails, `netprobe diagnose` of that host and address
(the cause in plain words and its fixes), and for a connect what the kernel did on the
way: the route it picks (`ip route get`), the neighbour entry of the next hop, and the
nft rules of the scenario whose counters moved while the connect was tried once more
(which rule refused or dropped it).  Nothing here changes the network.
"""

import os
import re
import subprocess

from ..errors import UsageError
from ..judge import name as cell_name, printable
from ..report import read_run
from ..probe import cli_options
from .callwords import call_meaning, diagnose_argv, UDP_KINDS
from .goals import sheet_text

MEANING = {
    'OK': 'the call succeeded',
    'EADDRNOTAVAIL': 'errno 99, "Cannot assign requested address": the address is not '
                     'one of this host\'s usable addresses (for a connect: no source '
                     'address or no free local port could be chosen)',
    'EADDRINUSE': 'errno 98, "Address already in use": the address is this host\'s, '
                  'but the port on it is taken',
    'ECONNREFUSED': 'the peer said no: a TCP reset (nothing listens there, or a '
                    'firewall rejects with a reset) -- not errno 99',
    'ETIMEDOUT': 'nothing came back in time: dropped on the way, or no neighbour '
                 'answered for the next hop',
    'ENETUNREACH': 'no route: the kernel found no route to the destination, so no '
                   'packet left',
    'EHOSTUNREACH': 'the host is unreachable: no neighbour answered for it, or a '
                    'router said so (ICMP host unreachable)',
    'EACCES': 'permission denied: a privileged port, or a router said '
              '"administratively prohibited"',
    'EINVAL': 'the kernel refused the arguments (an IPv6 link-local address without '
              'a scope id, a socket already bound)',
    'NOCALL': 'the program exited without making this call',
    'ERROR': 'the harness could not measure this cell (the message says why)',
}


def find_cell(cells, text):
    """The cell named 'HOST KIND COLUMN' (or its id); UsageError saying what exists."""
    text = ' '.join(text.split())
    if not text:
        raise UsageError('name a cell: explain HOST KIND COLUMN (e.g. explain h2 bind '
                         'tcp 10.0.0.1; `matrix` shows the columns)')
    found = [c for c in cells if cell_name(c) == text or c.id == text]
    if found:
        return found[0]
    host, _, rest = text.partition(' ')
    kind = rest.partition(' ')[0]
    near = [printable(cell_name(c), one_line=True)
            for c in cells if c.host == host and c.kind == kind][:6]
    hint = f'; {host} {kind} has: ' + ', '.join(near) if near else \
        '; the form is HOST KIND COLUMN, e.g. h2 bind tcp 10.0.0.1'
    raise UsageError(f'no cell {text!r}{hint}')


def sheet_words(scenario, cell):
    """The lab sheet's paragraph (from its Why section) about this cell's outcome."""
    text = sheet_text(scenario)[0] if scenario is not None else None
    if not text or '## Why' not in text:
        return None
    why = text.split('## Why', 1)[1].split('\n## ', 1)[0]
    paras = [' '.join(p.split()) for p in re.split(r'\n\s*\n|\n(?=- )', why)
             if p.strip()]
    for key in (cell.actual, cell.expected):
        for para in paras:
            if key not in ('OK', 'ERROR') and key in para:
                return para
    return None


def explain_cell(cell, scenario=None, facts=(), steps=()):
    """The lines that explain cell (facts: [(title, [lines])] from the network)."""
    out = [f'{cell_name(cell)} (port {cell.port}): {cell.actual}'
           + (f' (answered by {cell.peer})' if cell.peer else '')
           + f'; expected {cell.expected}'
           + (f' from {cell.expected_peer}' if cell.expected_peer else '')
           + f' -> {cell.verdict}']
    out.append(f'  what it means: '
               f'{call_meaning(cell) or MEANING.get(cell.actual, "see errno(3)")}')
    if cell.reason:
        out.append(f'  why (the scenario): {cell.reason}')
    if cell.rule:
        out.append(f'  rule: {cell.rule}')
    if cell.message:
        out.append(f'  message: {cell.message}')
    if cell.note:
        out.append(f'  note: {cell.note}')
    if cell.program:
        out.append(f'  program: {cell.program} (exit {cell.exit}, traced by '
                   f'{cell.method}; its output: {cell.log}.out/.err)')
    words = sheet_words(scenario, cell)
    if words:
        out.append(f'  the lab sheet says: {words}')
    mine = [s for s in steps if s.get('host') == cell.host and s.get('kind') == 'fault']
    for step in mine:
        out.append(f'  done to {cell.host} after start: {" ".join(step.get("argv", []))}'
                   f'   # {step.get("why", "")}')
    for title, lines in facts:
        out.append(f'  {title}:')
        out += [f'    {ln}' for ln in lines] or ['    (nothing)']
    # a run folder's or a program's text: no control byte or line of its own reaches
    # the terminal
    return [printable(line, one_line=True) for line in out]


# -- the live network ----------------------------------------------------------------------

def _run(host, argv, timeout=15):
    """[lines] of what argv printed inside host (stdout, then stderr)."""
    proc = host.popen(list(argv), env=dict(os.environ, NETPROBE_HOST=host.name))
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:       # a hung command: stop it, say so
        proc.kill()
        out, err = proc.communicate()
        err = (err or b'') + b'(stopped: it took too long)'
    text = (out or b'').decode(errors='replace') + (err or b'').decode(errors='replace')
    return [ln.rstrip() for ln in text.splitlines() if ln.strip()]


def _option(cell, key):
    for opt in cell.options:
        if opt.startswith(key + '='):
            return opt.split('=', 1)[1]
    return None


_COUNTER = re.compile(r'^(?P<rule>.*?)counter packets (?P<n>\d+) bytes \d+(?P<tail>.*?)'
                      r'\s*# handle (?P<h>\d+)$')


def _counters(lines):
    """{handle: (packets, rule text)} of an `nft -a list ruleset` listing."""
    out = {}
    for line in lines:
        m = _COUNTER.match(line.strip())
        if m:
            out[m['h']] = (int(m['n']), f'{m["rule"].strip()} {m["tail"].strip()}'.strip())
    return out


def nft_hosts(scenario):
    """The hosts on which the scenario loads nft rules."""
    steps = tuple(getattr(scenario, 'setup', ())) + tuple(getattr(scenario, 'faults', ()))
    return sorted({s.host for s in steps if s.argv and s.argv[0] == 'nft'})


def live_facts(net, cell, scenario, netprobe):
    """[(title, lines)]: what the live network says about cell (see the docstring)."""
    host = net.get(cell.host)
    addr, port = cell.addr, str(cell.port)
    udp = ['--udp'] if cell.proto == 'udp' else []
    if cell.kind in UDP_KINDS:       # a join, mcast-if or send: tried again, explained
        argv = diagnose_argv(cell)
        return [(f'{cell.host} netprobe {" ".join(argv)}', _run(host, [netprobe] + argv))]
    if cell.kind == 'bind':
        if cell.actual == 'OK':
            return []
        return [(f'{cell.host} netprobe diagnose {" ".join(udp + [addr, port])}',
                 _run(host, [netprobe, 'diagnose'] + udp + [addr, port]))]
    facts = []
    src = _option(cell, 'src')
    route = _run(host, ['ip', 'route', 'get', addr] + (['from', src] if src else []))
    facts.append((f'{cell.host} ip route get {addr}' + (f' from {src}' if src else ''),
                  route))
    words = ' '.join(route).split()
    nexthop = words[words.index('via') + 1] if 'via' in words[:-1] else addr
    dev = words[words.index('dev') + 1] if 'dev' in words[:-1] else None
    if dev and dev != 'lo':
        neigh = _run(host, ['ip', 'neigh', 'show', 'to', nexthop, 'dev', dev])
        facts.append((f'{cell.host} neighbour {nexthop} on {dev}',
                      neigh or ['no entry: the next hop was never resolved (or was '
                                'flushed)']))
    routers = [h for h in nft_hosts(scenario) if _has(net, h)]
    before = {h: _counters(_run(net.get(h), ['nft', '-a', 'list', 'ruleset']))
              for h in routers}
    opts = cli_options(cell.options, cell.proto)
    if opts is not None:
        again = _run(host, [netprobe, 'connect'] + opts + [addr, port], timeout=30)
        facts.append(('the same connect once more, now', again[-1:]))
    for h in routers:
        after = _counters(_run(net.get(h), ['nft', '-a', 'list', 'ruleset']))
        moved = [f'{rule}  (handle {hd}: +{n - before[h].get(hd, (0,))[0]} packet(s))'
                 for hd, (n, rule) in after.items() if n > before[h].get(hd, (0,))[0]]
        facts.append((f'{h}: nft rules whose counters moved during that connect',
                      moved or ['none: no counted rule of the scenario matched it']))
    return facts


def _has(net, name):
    """True when the network has a host of that name (Mininet's get raises KeyError)."""
    try:
        net.get(name)
        return True
    except KeyError:
        return False


# -- offline: a run folder -----------------------------------------------------------------

def explain_run(path, cell_text, scenario_name=None):
    """The lines explaining one cell of a run folder (read strictly, reader.read_run)."""
    run = read_run(path)
    matrices = [m for m in run.matrices if scenario_name in (None, m['scenario'])]
    if not matrices:
        raise UsageError(f'{path}: no scenario {scenario_name!r} in this run')
    if len(matrices) == 1 and matrices[0].get('skipped'):
        raise UsageError(printable(f'{path}: scenario {matrices[0]["scenario"]} was skipped '
                                   f'in this run ({matrices[0]["skipped"]}): it has no '
                                   'cells', one_line=True))
    hits = []
    for matrix in matrices:
        try:
            hits.append((matrix, find_cell(matrix['cells'], cell_text)))
        except UsageError as exc:
            problem = exc
    if not hits:
        raise problem if len(matrices) == 1 else UsageError(
            f'no cell {cell_text!r} in any scenario of {path}')
    if len(hits) > 1:
        raise UsageError(f'{cell_text!r} is a cell of several scenarios ('
                         + ', '.join(m['scenario'] for m, _ in hits)
                         + '): name one with --scenario')
    matrix, cell = hits[0]

    class _Named:       # the sheet of the run's scenario, without loading the scenario
        name = lesson = matrix['scenario']
    lines = explain_cell(cell, _Named, (), matrix.get('steps', []))
    lines[0] = f'{matrix["scenario"]}: {lines[0]}'
    lines.append('  (offline: open the lab, `sudo bindlab lab '
                 f'{matrix["scenario"]}`, and type `explain '
                 f'{printable(cell_name(cell), one_line=True)}` for what '
                 'the live network says)')
    return lines
