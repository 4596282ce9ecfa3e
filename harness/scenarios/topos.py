"""Topologies exactly as `mn` takes them: `--custom FILE` and `--topo NAME,ARG,...`.

`--custom FILE` (several allowed) is a Python file that defines
`topos = {'name': TopoClass or function}`, exec'd the way mn does it; `--topo
NAME,ARG,...` passes ints, floats and `key=value` as mn does (mininet.util.splitArgs);
the built-ins minimal, single, linear, reversed, tree and torus are Mininet's own.
A file that fails, or defines no `topos`, is a UsageError (exit 2) naming it.
"""

import re

from ..errors import UsageError


def builtin_topos():
    """mn's built-in topologies, by name."""
    from mininet.topo import (LinearTopo, MinimalTopo, SingleSwitchReversedTopo,
                              SingleSwitchTopo)
    from mininet.topolib import TorusTopo, TreeTopo
    return {'minimal': MinimalTopo, 'linear': LinearTopo,
            'reversed': SingleSwitchReversedTopo, 'single': SingleSwitchTopo,
            'tree': TreeTopo, 'torus': TorusTopo}


def load_topos(custom_files):
    """Built-ins plus the `topos` of each --custom file (exec'd as mn does it)."""
    topos = builtin_topos()
    for path in custom_files:
        customs = {}
        try:
            with open(path, encoding='utf-8') as f:
                code = compile(f.read(), path, 'exec')
            exec(code, customs, customs)   # mn's own way: the file is the user's code
        except OSError as exc:
            raise UsageError(f'--custom {path}: {exc.strerror or exc}') from None
        except Exception as exc:
            raise UsageError(f'--custom {path}: {type(exc).__name__}: {exc}') from None
        found = customs.get('topos')
        if not isinstance(found, dict) or not found:
            raise UsageError(f'--custom {path}: defines no `topos = {{"name": TopoClass}}` '
                             '(what `mn --custom FILE --topo name` needs)')
        topos.update(found)
    return topos


def topo_factory(topos, spec):
    """A callable returning the Topo that `--topo spec` names (mn's splitArgs)."""
    from mininet.util import splitArgs
    name, args, kwargs = splitArgs(spec)
    if name not in topos:
        raise UsageError(f'--topo {spec}: unknown topology {name!r}; known: '
                         f'{", ".join(sorted(topos))}')

    def build():
        return topos[name](*args, **kwargs)
    try:
        topo = build()
    except Exception as exc:
        raise UsageError(f'--topo {spec}: {type(exc).__name__}: {exc}') from None
    check_buildable(topo, spec)
    return build


def check_buildable(topo, spec):
    """UsageError for what bindlab cannot build: no host, or a loop of switches."""
    if not topo.hosts():
        raise UsageError(f'--topo {spec}: the topology has no host')
    switches = set(topo.switches())
    parent = {s: s for s in switches}

    def root(n):
        while parent[n] != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n
    for a, b in topo.links():
        if a in switches and b in switches:
            ra, rb = root(a), root(b)
            if ra == rb:
                raise UsageError(f'--topo {spec}: switches {a} and {b} close a loop; '
                                 'a looped layer 2 needs STP, which bindlab does not '
                                 'run (frames would circle for ever)')
            parent[ra] = rb


def scenario_name(spec):
    """The derived scenario's name: 'linear,4' -> 'linear-4'."""
    name = re.sub(r'[^A-Za-z0-9._-]+', '-', spec).strip('-.')
    return (name or 'topology')[:100]
