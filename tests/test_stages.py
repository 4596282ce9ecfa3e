"""The harness's shape, read from its source (ast): the stages and their order, the
faces, no import circle, and the size limits of docs/internals.md.

    base       harness/__init__.py, errors, files, gcpause
    scenarios  what to run: the scenario model, rules, suite, topologies, derivation, mutations
    ledger     what a run owns: state file, interfaces, firewall rules, processes
    replica    snapshots of real hosts: taken, redacted, read back (data, no network)
    net        the live network: session, machine, builders, shells, faults, readiness
    probe      observations: netprobe plans and batches, servers, the user's programs
    judge      cells: the verdict and the words of a cell
    report     result files and what a person sees
    runner     the one pipeline (build -> ... -> judge)
    mutations  the mutation run: on one network, each undone and proved, or fresh ones
    ci, lab    beside each other, above the pipeline
    cli        the command line (harness/cli/, one module a command), on top
    __main__   the entry points: harness/__main__.py and a subpackage's __main__.py
               (python3 -m harness.lab is `lab ARGS`: it calls cli)

A module imports only from its own stage or a stage above it in this list; code
outside a subpackage imports only its face (the names in its __init__'s __all__).
No test here runs anything: each reads files and fails naming the file and line.
"""

import ast
import os

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
HARNESS = os.path.join(os.path.dirname(HERE), 'harness')
ORDER = [('base',), ('scenarios',), ('ledger',), ('replica',), ('net',), ('probe',), ('judge',),
         ('report',), ('runner',), ('mutations',), ('ci', 'lab'), ('cli',), ('__main__',)]
RANK = {unit: n for n, units in enumerate(ORDER) for unit in units}
BASE = {'__init__', 'errors', 'files', 'gcpause'}
SHIMS = {'scenario'}        # harness/scenario.py: the scenario API's stable name
PACKAGES = sorted(d for d in os.listdir(HARNESS)
                  if os.path.isfile(os.path.join(HARNESS, d, '__init__.py')))
MODULE_LINES, FUNCTION_LINES = 400, 60
# What is still over the limits (issue 22): this list can only shrink.
KNOWN_LONG = {
}


def modules():
    """{dotted name relative to harness ('net.nsbatch', 'cli'): path}."""
    out = {}
    for folder, _dirs, names in os.walk(HARNESS):
        for name in names:
            if name.endswith('.py'):
                rel = os.path.relpath(os.path.join(folder, name), HARNESS)[:-3]
                out[rel.replace(os.sep, '.')] = os.path.join(folder, name)
    return dict(sorted(out.items()))


def unit_of(mod):
    """The stage a module belongs to: a subpackage's name, or a top module's; every
    __main__.py is an entry point, above cli."""
    if mod.split('.')[-1] == '__main__':
        return '__main__'
    head = mod.split('.')[0]
    if head in PACKAGES:
        return head
    return 'base' if head in BASE else head


def imports(mod, path):
    """(line, target module, [names]) of every import of a harness module in mod, lazy
    ones inside functions too: targets resolved to dotted names relative to harness."""
    tree = ast.parse(open(path).read(), path)
    package = mod.split('.')[:-1]      # 'lab.__init__' and 'lab.grade': ['lab']
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - node.level + 1]
                target = '.'.join(base + ([node.module] if node.module else []))
            elif (node.module or '').split('.')[0] == 'harness':
                target = node.module[len('harness.'):] if '.' in node.module else ''
            else:
                continue
            out.append((node.lineno, target or '__init__', [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split('.')[0] == 'harness':
                    out.append((node.lineno, a.name[len('harness.'):] or '__init__', []))
    return out


def faces():
    """{package: the names of its face's __all__}."""
    out = {}
    for pkg in PACKAGES:
        tree = ast.parse(open(os.path.join(HARNESS, pkg, '__init__.py')).read())
        names = None
        for node in tree.body:
            if isinstance(node, ast.Assign) and any(
                    isinstance(t, ast.Name) and t.id == '__all__' for t in node.targets):
                names = ast.literal_eval(node.value)
        out[pkg] = names
    return out


def edges():
    """[(module, line, target module, names)] of every import between harness modules;
    `from .pkg import name` naming a submodule counts as an import of it (and, when it
    names only submodules, `from . import records`, not of the package's face)."""
    mods = modules()
    out = []
    for mod, path in mods.items():
        for line, target, names in imports(mod, path):
            if target not in mods and f'{target}.__init__' in mods:
                target = f'{target}.__init__'
            subs = [f'{target.rsplit(".", 1)[0]}.{n}' for n in names
                    if target.endswith('__init__') and
                    f'{target.rsplit(".", 1)[0]}.{n}' in mods]
            if target == '__init__':
                subs = [n for n in names if n in mods or f'{n}.__init__' in mods]
            if len(subs) < len(names) or not names:
                out.append((mod, line, target, names))
            out += [(mod, line, sub, []) for sub in subs]
    return out


def test_every_stage_imports_only_itself_and_the_stages_above_it():
    bad = []
    for mod, line, target, _names in edges():
        src, dst = unit_of(mod), unit_of(target)
        if dst in SHIMS:
            bad.append(f'harness/{mod}: {line}: imports harness/scenario.py, the shim '
                       'kept for scenario files; import harness.scenarios')
        elif src != dst and RANK.get(dst, -1) >= RANK.get(src, 99):
            bad.append(f'harness/{mod}: {line}: {src} imports {target} ({dst}), a stage '
                       'at or below its own')
    assert not bad, '\n'.join(bad)


def test_code_outside_a_subpackage_uses_only_its_face():
    face, bad = faces(), []
    for mod, line, target, names in edges():
        pkg = target.split('.')[0]
        if pkg not in PACKAGES or unit_of(mod) == pkg or mod in ('scenario',):
            continue
        if target != f'{pkg}.__init__':
            bad.append(f'harness/{mod}: {line}: imports {target}, inside {pkg}/; use '
                       f'its face (harness/{pkg}/__init__.py)')
            continue
        bad += [f'harness/{mod}: {line}: {pkg} has no {n} in its __all__'
                for n in names if n not in (face[pkg] or ())]
    assert not bad, '\n'.join(bad)


def test_every_face_says_what_it_offers():
    bad = []
    for pkg, names in faces().items():
        path = os.path.join(HARNESS, pkg, '__init__.py')
        tree = ast.parse(open(path).read())
        if names is None:
            bad.append(f'harness/{pkg}/__init__.py has no __all__')
            continue
        if not ast.get_docstring(tree):
            bad.append(f'harness/{pkg}/__init__.py has no docstring saying what {pkg} is')
        bound = {a.asname or a.name for n in tree.body
                 if isinstance(n, ast.ImportFrom) for a in n.names}
        bound |= {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
        bound |= {t.id for n in tree.body if isinstance(n, ast.Assign)
                  for t in n.targets if isinstance(t, ast.Name)}
        bad += [f'harness/{pkg}/__init__.py: __all__ names {n}, which it neither imports '
                'nor defines' for n in names if n not in bound]
        if len(set(names)) != len(names):
            bad.append(f'harness/{pkg}/__init__.py: __all__ names something twice')
    assert not bad, '\n'.join(bad)


def test_no_import_circle():
    graph = {}
    for mod, _line, target, _names in edges():
        if target != mod:
            graph.setdefault(mod, set()).add(target)
    state, stack, circles = {}, [], []

    def visit(node):
        state[node] = 'open'
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 'open':
                circles.append(' -> '.join(stack[stack.index(nxt):] + [nxt]))
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 'done'
    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert not circles, 'import circles:\n' + '\n'.join(circles)


def long_things():
    """{'harness/x.py' or 'harness/x.py:function': lines} over the limits."""
    out = {}
    for mod, path in modules().items():
        rel = os.path.relpath(path, os.path.dirname(HARNESS))
        src = open(path).read()
        lines = src.count('\n')
        if lines > MODULE_LINES:
            out[rel] = lines
        for node in ast.walk(ast.parse(src)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > FUNCTION_LINES:
                    out[f'{rel}:{node.name}'] = length
    return out


def test_modules_and_functions_keep_to_their_size():
    found = long_things()
    new = {k: v for k, v in found.items() if k not in KNOWN_LONG}
    grown = {k: (KNOWN_LONG[k], v) for k, v in found.items()
             if k in KNOWN_LONG and v > KNOWN_LONG[k]}
    assert not new, f'over {MODULE_LINES} lines a module or {FUNCTION_LINES} a ' \
        f'function: {new}'
    assert not grown, f'grew past their known length (was, is): {grown}'


def test_the_known_long_list_only_shrinks():
    gone = sorted(set(KNOWN_LONG) - set(long_things()))
    assert not gone, f'now within the limits; remove from KNOWN_LONG: {gone}'


@pytest.mark.parametrize('argv', [['-m', 'harness', '--version'],
                                  ['-m', 'harness', 'list', '--rules']])
def test_the_entry_points_import(argv):
    import subprocess
    import sys
    res = subprocess.run([sys.executable, *argv], cwd=os.path.dirname(HARNESS),
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
