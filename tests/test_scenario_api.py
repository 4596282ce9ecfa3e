"""The scenario API: every name a scenario file takes from harness.scenario is there.

harness/scenario.py is the stable name scenario files import (topologies/*.py, your
own, bindlab/, the tests' scenario files); its __all__ lists the whole API.  These
tests read the imports written in the repository's Python files (string constants
holding a scenario file too), in docs/scenarios.md and in the module's own docstring,
and check each name against __all__ and the module.  No root, no network.
"""

import ast
import glob
import os
import re
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

import harness.scenario as api  # noqa: E402

IMPORT = re.compile(r'from harness\.scenario import (\([^)]*\)|[A-Za-z_*][\w, \t*]*)')
FOLDERS = ('topologies', 'tests', 'bindlab', 'examples', 'bench', 'labs')


def names_in_text(text):
    """The names of every `from harness.scenario import ...` in text (not `*`)."""
    out = []
    for match in IMPORT.finditer(text):
        words = re.split(r'[\s,()\\]+', match.group(1))
        out += [w for w in words if w.isidentifier()]
    return out


def names_in_python(path):
    """{name: [where]} of the names path imports from harness.scenario, in its code
    and in its string constants (a scenario file written by a test)."""
    tree = ast.parse(open(path, encoding='utf-8').read(), path)
    found = {}
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module == 'harness.scenario':
            names = [a.name for a in node.names if a.name != '*']
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            names = names_in_text(node.value)
        for name in names:
            found.setdefault(name, []).append(f'{os.path.relpath(path, REPO)}:{node.lineno}')
    return found


def python_files():
    return sorted(p for folder in FOLDERS
                  for p in glob.glob(os.path.join(REPO, folder, '**', '*.py'),
                                     recursive=True))


def test_all_lists_only_names_the_module_has():
    missing = [n for n in api.__all__ if not hasattr(api, n)]
    assert not missing, f'harness/scenario.py: __all__ names {missing}, not defined'
    assert len(set(api.__all__)) == len(api.__all__), '__all__ names something twice'


@pytest.mark.parametrize('where', ['docs/scenarios.md', 'harness/scenario.py'])
def test_every_name_the_docs_import_imports(where):
    with open(os.path.join(REPO, where), encoding='utf-8') as f:
        text = f.read()
    if where.endswith('.py'):
        text = ast.get_docstring(ast.parse(text))
    names = names_in_text(text)
    assert names, f'{where} shows no `from harness.scenario import ...`'
    bad = [n for n in names if n not in api.__all__ or not hasattr(api, n)]
    assert not bad, f'{where} imports {bad} from harness.scenario, which has no such name'
    scope = {}
    exec(f'from harness.scenario import {", ".join(names)}', scope)
    assert all(n in scope for n in names)


def test_every_name_a_scenario_file_imports_is_in_the_api():
    found = {}
    for path in python_files():
        for name, where in names_in_python(path).items():
            found.setdefault(name, []).extend(where)
    assert {'Scenario', 'bind', 'connect', 'explicit'} <= set(found), \
        f'the scan found too little to mean anything: {sorted(found)}'
    bad = {n: where[:3] for n, where in found.items() if n not in api.__all__}
    assert not bad, f'imported from harness.scenario but not in its __all__: {bad}'
