"""Run beside Docker: accept rules for the run's own Linux bridges when FORWARD drops.

With br_netfilter loaded and net.bridge.bridge-nf-call-iptables=1, every frame that
crosses a Linux bridge also goes through iptables' FORWARD chain.  Docker sets that
chain's policy to DROP, which silences every Linux-bridge (lxbr) Mininet network.
Instead of asking the user to edit their firewall, a run adds one rule for each of
its own bridges, in the place Docker documents for users' rules (the DOCKER-USER
chain; without it, the top of FORWARD):

    iptables -w 5 -I DOCKER-USER 1 -i s1 -o s1 -m comment --comment bindlab:<run_id> -j ACCEPT

and the same with ip6tables when its FORWARD drops and bridge-nf-call-ip6tables=1.

Bridged frames also meet the nat table's PREROUTING and POSTROUTING (their in and
out device is the bridge).  Docker's `-s 172.17.0.0/16 ! -o docker0 -j MASQUERADE`
would rewrite the source of every frame an emulated container (172.17.0.x, as in
docker-bridge) sends across s1, and its `-m addrtype --dst-type LOCAL -j DOCKER` would
DNAT a frame to 172.17.0.1 (a local address of the host: docker0's) into a real
container when that port is published.  So where a nat chain has rules, each of the
run's bridges is exempted at its top, marked the same way:

    iptables -w 5 -t nat -I POSTROUTING 1 -o s1 -m comment --comment bindlab:<run_id> -j ACCEPT
    iptables -w 5 -t nat -I PREROUTING 1 -i s1 -m comment --comment bindlab:<run_id> -j ACCEPT

It never changes a policy or a sysctl, and touches no rule but its own.

Each rule is recorded in the state file (`fw_rules`: [{"cmd", "chain", "bridge"}],
harness/ledger/state.py) BEFORE it is added, and removed at teardown and by clean-net.  A
rule is rebuilt from the record and the run id, and deleted only while it exists
exactly so (`-C`, then `-D`): a hostile state file can make clean-net delete nothing
but a rule bindlab would have added.

What this cannot handle stays a refusal (machine.check_bridge_firewall names it): a
forward hook that drops in an nft table of its own (not iptables'), or a FORWARD DROP
in a table whose command (iptables, ip6tables) is not installed.
"""

import shutil
import subprocess

from .ifaces import is_interface_name, MARK_PREFIX

CMDS = {'iptables': 'bridge-nf-call-iptables', 'ip6tables': 'bridge-nf-call-ip6tables'}
# nat chains that bridged frames meet -> the option that names the bridge in them
NAT_CHAINS = {'PREROUTING': '-i', 'POSTROUTING': '-o'}
CHAINS = ('DOCKER-USER', 'FORWARD') + tuple(NAT_CHAINS)
# The nft chains iptables-nft makes for FORWARD, per command (these are handled here).
_NFT_OWN = {'iptables': 'ip filter FORWARD', 'ip6tables': 'ip6 filter FORWARD'}


def _bridge_nf_call(cmd):
    """True when bridged frames go through cmd's chains (the br_netfilter sysctl)."""
    try:
        with open(f'/proc/sys/net/bridge/{CMDS[cmd]}') as f:
            return f.read().strip() == '1'
    except OSError:
        return False


def _run(argv):
    """(exit status, stdout) of an iptables command; (None, '') when it cannot run."""
    try:
        res = subprocess.run(argv, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return None, ''
    return res.returncode, res.stdout


def _forward_drops(cmd):
    """True when cmd (iptables, ip6tables) is installed and its FORWARD policy is DROP."""
    if not shutil.which(cmd):
        return False
    code, out = _run([cmd, '-w', '5', '-S', 'FORWARD'])
    return code == 0 and '-P FORWARD DROP' in out.splitlines()


def nft_forward_drops():
    """['ip filter FORWARD', 'bridge t c', ...]: every nft chain on a forward hook
    whose policy is drop ([] without nft)."""
    if not shutil.which('nft'):
        return []
    code, out = _run(['nft', 'list', 'ruleset'])
    found, table, chain = [], None, None
    for line in out.splitlines() if code == 0 else ():
        words = line.split()
        if words[:1] == ['table'] and len(words) >= 3:
            table = f'{words[1]} {words[2]}'
        elif words[:1] == ['chain'] and len(words) >= 2:
            chain = words[1]
        if 'hook forward' in line and 'policy drop' in line:
            found.append(f'{table} {chain}')
    return found


def handled_tables():
    """The commands whose FORWARD drops bridged frames: a run adds its rules there."""
    return [cmd for cmd in CMDS if _bridge_nf_call(cmd) and _forward_drops(cmd)]


def unhandled_drop():
    """What drops bridged frames that accept rules in iptables cannot fix: a text
    naming it ('nft chain inet t c'), or None."""
    nf_call = any(_bridge_nf_call(cmd) for cmd in CMDS)
    own = [_NFT_OWN[cmd] for cmd in CMDS if _forward_drops(cmd)]
    for chain in nft_forward_drops():
        if chain.startswith('bridge ') or (nf_call and chain not in own):
            lacking = [cmd for cmd, name in _NFT_OWN.items() if name == chain]
            return f'nft chain {chain}' + (f' ({lacking[0]} is not installed to add '
                                           'rules with)' if lacking else '')
    return None


def rule_args(run_id, bridge, chain='FORWARD'):
    """The match and target of the accept rule for bridge in chain (the run's mark
    in it)."""
    match = [NAT_CHAINS[chain], bridge] if chain in NAT_CHAINS else \
        ['-i', bridge, '-o', bridge]
    return match + ['-m', 'comment', '--comment', MARK_PREFIX + run_id, '-j', 'ACCEPT']


def _argv(entry, op, run_id):
    """[cmd, -w, 5, (-t nat,) op, chain, (1,) rule...] for one recorded rule; op is
    -C, -D or -I (at the top: 1)."""
    table = ['-t', 'nat'] if entry['chain'] in NAT_CHAINS else []
    return [entry['cmd'], '-w', '5'] + table + [op, entry['chain']] + \
        (['1'] if op == '-I' else []) + rule_args(run_id, entry['bridge'], entry['chain'])


def nat_chains():
    """[(cmd, chain)]: the nat chains bridged frames go through that hold rules (as
    Docker's do), for each command whose bridge-nf-call sysctl is on."""
    found = []
    for cmd in CMDS:
        if not (_bridge_nf_call(cmd) and shutil.which(cmd)):
            continue
        for chain in NAT_CHAINS:
            code, out = _run([cmd, '-w', '5', '-t', 'nat', '-S', chain])
            if code == 0 and any(line.startswith('-A ') for line in out.splitlines()):
                found.append((cmd, chain))
    return found


def _chain_for(cmd):
    """DOCKER-USER when cmd's filter table has it, else FORWARD."""
    code, _ = _run([cmd, '-w', '5', '-S', 'DOCKER-USER'])
    return 'DOCKER-USER' if code == 0 else 'FORWARD'


def add_bridge_rules(state, bridges, log=lambda msg: None):
    """Accept rules for bridges (this run's Linux bridges) in every table whose
    FORWARD drops bridged frames, and at the top of every nat chain with rules they
    would meet; each recorded in state before it is added."""
    entries = [{'cmd': cmd, 'chain': _chain_for(cmd), 'bridge': b}
               for cmd in handled_tables() for b in bridges]
    entries += [{'cmd': cmd, 'chain': chain, 'bridge': b}
                for cmd, chain in nat_chains() for b in bridges]
    if not entries:
        return
    state.add_fw_rules(entries)
    run_id = state.data['run_id']
    for e in entries:
        if not _exists(e, run_id) and _run(_argv(e, '-I', run_id))[0] != 0:
            log(f'could not add the accept rule for {e["bridge"]} to {e["cmd"]} '
                f'{e["chain"]}: its frames will be dropped or rewritten')
    where = sorted({f'{e["cmd"]} {"nat " if e["chain"] in NAT_CHAINS else ""}{e["chain"]}'
                    for e in entries})
    log(f'bridged traffic meets the host\'s firewall (as with Docker running: FORWARD '
        f'drops it, nat rules rewrite it): accept rules for this run\'s bridges '
        f'{", ".join(bridges)} added in {", ".join(where)}, marked {MARK_PREFIX}{run_id}; '
        'removed at teardown')


def _exists(entry, run_id):
    code, _ = _run(_argv(entry, '-C', run_id))
    return code == 0


def rules_left(state):
    """'iptables rule DOCKER-USER s1' for each recorded rule that still exists."""
    return [f'{e["cmd"]} rule {e["chain"]} {e["bridge"]}'
            for e in state.get('fw_rules', []) if _exists(e, state['run_id'])]


def remove_rules(state, log=lambda msg: None):
    """Delete every recorded rule of the run that exists exactly as added (a rule
    added twice goes twice); the others are not touched."""
    for e in state.get('fw_rules', []):
        for _ in range(8):          # bounded: -D of a rule that exists takes it away
            if not _exists(e, state['run_id']):
                break
            code, _ = _run(_argv(e, '-D', state['run_id']))
            if code != 0:
                log(f'could not delete {e["cmd"]} rule {e["chain"]} {e["bridge"]}')
                break


def entry_problem(entry, where):
    """What is wrong with one recorded rule (state file input), or None."""
    if not isinstance(entry, dict) or set(entry) != {'cmd', 'chain', 'bridge'}:
        return f'{where} is not an object with cmd, chain and bridge'
    if entry['cmd'] not in CMDS or entry['chain'] not in CHAINS:
        return f'{where}: {entry["cmd"]!r} {entry["chain"]!r} is not a table and chain ' \
            'bindlab adds rules to'
    if not is_interface_name(entry['bridge']):
        return f'{where}: bridge {entry["bridge"]!r} is not an interface name'
    return None
