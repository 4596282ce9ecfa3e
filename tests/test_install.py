"""The two install paths and what they install: make install, the Debian package,
the man pages, the bash completion and the pytest plugin with its example suite.

- `make install DESTDIR=D PREFIX=/usr`: the staged tree runs where it lies (its
  pointers are relative), so D/usr/bin/bindlab, run from a folder outside the clone
  with no $NETPROBE, must find the installed netprobe and scenarios, write to
  ./results, and give the same cells as the clone's `python3 -m harness run`;
  `make uninstall` then leaves no file behind.
- The man pages render with `man --warnings -l` without a warning, and name every
  long option that `--help` shows (bindlab and each of its commands, netprobe and
  each of its commands) and every variable the tracer reads (getenv in csrc/trace/).
- The example suite examples/pytest/ passes; the same test with a deliberately wrong
  assertion fails, and pytest's output carries the cell with its reason.
- `make deb` builds a package lintian passes at the error level, holding what make
  install installs.  (Installing it on a fresh Debian 12: scripts/deb-trial, by
  hand: it takes minutes.)

Every Mininet network here runs under the Mininet lock (`make itest` holds it).
"""

import glob
import os
import re
import shutil
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness_util as hu  # noqa: E402

from harness import __version__  # noqa: E402

REPO = hu.REPO
root_and_clean = pytest.fixture(autouse=True)(hu.root_and_clean)
# What sudo gives a command (sbin for sysctl and brctl), and nothing of this tree.
SUDO_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
COMPARED = ('kind', 'host', 'column', 'actual', 'peer', 'verdict')


def user_env(**extra):
    """The environment of a user's shell: no NETPROBE, BINDTRACE_LIB or PYTHONPATH
    pointing into the clone, bytecode written as usual."""
    env = {k: v for k, v in os.environ.items()
           if k not in ('NETPROBE', 'BINDTRACE_LIB', 'PYTHONPATH', 'PYTHONDONTWRITEBYTECODE')}
    env['PATH'] = SUDO_PATH
    env.update(extra)
    return env


def make(*args):
    """`make -C REPO ARGS`, which must succeed; its CompletedProcess."""
    res = subprocess.run(['make', '-C', REPO, '--no-print-directory'] + list(args),
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, f'make {" ".join(args)}: {res.stdout}{res.stderr}'
    return res


def files_under(root):
    """Every file and symlink below root, relative to it."""
    return sorted(os.path.relpath(os.path.join(d, f), root)
                  for d, _dirs, names in os.walk(root) for f in names)


@pytest.fixture(scope='module')
def staged(tmp_path_factory):
    """A `make install DESTDIR=... PREFIX=/usr` tree; uninstalled afterwards."""
    dest = str(tmp_path_factory.mktemp('destdir'))
    make('install', f'DESTDIR={dest}', 'PREFIX=/usr')
    yield dest
    make('uninstall', f'DESTDIR={dest}', 'PREFIX=/usr')


def bindlab(staged, *args, cwd, timeout=hu.RUN_GUARD_S, lock=False):
    """Run the staged bindlab as a user would; its CompletedProcess."""
    argv = (hu.lock_argv() if lock else []) + [os.path.join(staged, 'usr/bin/bindlab')]
    return subprocess.run(argv + list(args), cwd=cwd, env=user_env(), capture_output=True,
                          text=True, timeout=timeout)


def compared(run_folder):
    """The compared fields of every cell of a run folder, sorted."""
    from harness.report import read_run
    _folder, _summary, matrices = read_run(run_folder)
    return sorted(tuple(str(getattr(c, k)) for k in COMPARED) for m in matrices
                  for c in m['cells'])


# -- make install ---------------------------------------------------------------------

def test_installed_bindlab_gives_the_clones_cells(staged, tmp_path):
    elsewhere = tmp_path / 'elsewhere'
    elsewhere.mkdir()
    got = bindlab(staged, 'run', 'wrong-host', cwd=elsewhere, lock=True)
    assert got.returncode == 0, got.stdout + got.stderr
    assert (elsewhere / 'results' / 'latest' / 'summary.json').is_file(), \
        'an installed bindlab writes to ./results of the current folder'
    want = hu.harness('run', 'wrong-host', '--out', str(tmp_path / 'clone'),
                      prefix=hu.lock_argv())
    assert want.returncode == 0, want.stdout + want.stderr
    assert compared(str(elsewhere / 'results')) == compared(str(tmp_path / 'clone'))
    summary = (elsewhere / 'results' / 'latest' / 'summary.json').read_text()
    assert os.path.join(staged, 'usr/bin/netprobe') in summary, 'not the installed netprobe'


def test_installed_version_and_help(staged, tmp_path):
    version = bindlab(staged, '--version', cwd=tmp_path)
    assert (version.returncode, version.stdout.strip()) == (0, f'bindlab {__version__}')
    helped = bindlab(staged, 'help', 'run', cwd=tmp_path)
    assert helped.returncode == 0 and helped.stdout.startswith('usage: bindlab run')
    assert '--scenario-file' in helped.stdout
    unknown = bindlab(staged, 'help', 'nosuch', cwd=tmp_path)
    assert unknown.returncode == 2 and 'invalid choice' in unknown.stderr


def test_debian_changelog_has_the_version():
    with open(os.path.join(REPO, 'debian', 'changelog')) as f:
        first = f.readline()
    assert first.startswith(f'bindlab ({__version__}) '), first


def test_installed_completion_names_commands_options_and_scenarios(staged, tmp_path):
    script = ('source "$1"; comp() { COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]}-1)); '
              '_bindlab; echo "${COMPREPLY[*]}"; }; '
              'comp bindlab ""; comp bindlab run wr; comp bindlab run --sh; comp bindlab help cl')
    done = subprocess.run(
        ['bash', '-c', script, 'bash',
         os.path.join(staged, 'usr/share/bash-completion/completions/bindlab')],
        cwd=tmp_path, env=user_env(PATH=os.path.join(staged, 'usr/bin') + ':' + SUDO_PATH),
        capture_output=True, text=True, timeout=60)
    commands, scenario, option, help_topic = done.stdout.splitlines()
    assert set(commands.split()) >= {'list', 'run', 'lab', 'check', 'clean-net', 'diff',
                                     'record', 'verify', 'merge', 'explain', 'grade', 'help',
                                     'snapshot',
                                     '--version'}
    assert (scenario, option, help_topic) == ('wrong-host', '--shard', 'clean-net')


def test_uninstall_leaves_nothing(tmp_path):
    dest = str(tmp_path / 'dest')
    make('install', f'DESTDIR={dest}', 'PREFIX=/usr')
    installed = files_under(dest)
    assert 'usr/bin/bindlab' in installed and 'usr/lib/bindlab/libbindtrace.so' in installed
    # what a run as root adds inside the installed folders goes too
    subprocess.run([os.path.join(dest, 'usr/bin/bindlab'), 'list'], env=user_env(),
                   capture_output=True, timeout=120, check=True)
    make('uninstall', f'DESTDIR={dest}', 'PREFIX=/usr')
    assert files_under(dest) == []


# -- man pages ------------------------------------------------------------------------

def long_options(text):
    """The long options (--name) in a help text."""
    return set(re.findall(r'(?<![\w-])--[a-z][a-z0-9-]*', text))


def page_text(path):
    """A man page's source with the font escapes taken out: what it says."""
    with open(path) as f:
        return re.sub(r'\\f[BIRP]', '', f.read()).replace('\\-', '-')


def help_texts(argv, commands):
    """`ARGV --help` and `ARGV COMMAND --help` for each command, joined."""
    out = []
    for extra in [[]] + [[c] for c in commands]:
        res = subprocess.run(argv + extra + ['--help'], capture_output=True, text=True,
                             timeout=60)
        assert res.returncode == 0, f'{argv + extra} --help: {res.stderr}'
        out.append(res.stdout)
    return '\n'.join(out)


@pytest.fixture(scope='module')
def man_pages():
    make('man')
    return os.path.join(REPO, 'build', 'man')


@pytest.mark.parametrize('page', ['bindlab.1', 'netprobe.1', 'libbindtrace.7'])
def test_man_page_renders_without_warnings(man_pages, page):
    res = subprocess.run(['man', '--warnings', '-l', os.path.join(man_pages, page)],
                         env=dict(os.environ, MANWIDTH='80'),
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0 and res.stderr == '', res.stderr
    assert 'NAME' in res.stdout and 'SEE ALSO' in res.stdout


def test_bindlab_page_names_every_option_of_its_help(man_pages):
    commands = ['list', 'run', 'clean-net', 'lab', 'check', 'diff', 'record', 'verify',
                'merge', 'explain', 'grade', 'docker-real', 'snapshot']
    helped = help_texts([sys.executable, os.path.join(REPO, 'bin', 'bindlab')], commands)
    missing = long_options(helped) - long_options(page_text(os.path.join(man_pages,
                                                                         'bindlab.1')))
    assert not missing, f'bindlab(1) lacks {sorted(missing)}'


def test_netprobe_page_names_every_option_of_its_help(man_pages):
    commands = ['bind', 'connect', 'serve', 'batch', 'addrs', 'diagnose', 'join', 'mcast-if',
                'send']
    helped = help_texts([os.path.join(REPO, 'build', 'netprobe')], commands)
    missing = long_options(helped) - long_options(page_text(os.path.join(man_pages,
                                                                         'netprobe.1')))
    assert not missing, f'netprobe(1) lacks {sorted(missing)}'


def test_libbindtrace_page_names_every_variable_the_tracer_reads(man_pages):
    read = set()
    for path in glob.glob(os.path.join(REPO, 'csrc', 'trace', '*.c')):
        with open(path) as f:
            read |= set(re.findall(r'getenv\("([A-Z_]+)"\)', f.read()))
    assert read, 'found no getenv() in csrc/trace/'
    text = page_text(os.path.join(man_pages, 'libbindtrace.7'))
    assert not [v for v in read if v not in text], f'libbindtrace(7) lacks some of {read}'


# -- the pytest plugin and its example suite ------------------------------------------

def inner_pytest(args, cwd, env):
    """`python3 -m pytest ARGS` as a user's suite, under the Mininet lock."""
    return subprocess.run(hu.lock_argv() + [hu.PYTHON, '-m', 'pytest', '-q',
                                            '-p', 'no:cacheprovider'] + args,
                          cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=hu.RUN_GUARD_S)


def test_example_suite_passes():
    res = inner_pytest(['examples/pytest'], REPO, hu.env())
    assert res.returncode == 0, res.stdout + res.stderr
    assert re.search(r'\b5 passed\b', res.stdout), res.stdout


def test_a_wrong_assertion_fails_with_the_cells_reason(staged, tmp_path):
    """The installed plugin (found through $(pythondir)), a copy of the example with
    one assertion made wrong: pytest's output must say what the cell is and why."""
    shutil.copy(os.path.join(REPO, 'examples', 'pytest', 'conftest.py'), tmp_path)
    with open(os.path.join(REPO, 'examples', 'pytest', 'test_wrong_host.py')) as f:
        text = f.read()
    wrong = text.replace("assert cell.actual == 'EADDRNOTAVAIL'", "assert cell.actual == 'OK'")
    assert wrong != text
    (tmp_path / 'test_wrong_host.py').write_text(wrong)
    env = user_env(PYTHONPATH=os.path.join(staged, 'usr/lib/python3/dist-packages'))
    res = inner_pytest(['-k', 'cannot_bind', str(tmp_path)], tmp_path, env)
    assert res.returncode == 1, res.stdout + res.stderr
    assert "assert 'EADDRNOTAVAIL' == 'OK'" in res.stdout
    assert 'bindlab cells' in res.stdout
    assert ('h2 bind tcp 10.0.0.1: EADDRNOTAVAIL (Cannot assign requested address); '
            'expected EADDRNOTAVAIL: 10.0.0.1 is not on h2 (h1 holds it)') in res.stdout


# -- the Debian package -----------------------------------------------------------------

def test_deb_is_lintian_clean_and_holds_what_make_install_installs(tmp_path):
    make('deb')
    debs = glob.glob(os.path.join(REPO, 'build', 'deb', f'bindlab_{__version__}_*.deb'))
    assert len(debs) == 1, debs
    listing = subprocess.run(['dpkg-deb', '--fsys-tarfile', debs[0]], capture_output=True,
                             check=True).stdout
    names = subprocess.run(['tar', '-tf', '-'], input=listing, capture_output=True,
                           check=True).stdout.decode().splitlines()
    in_deb = {n[2:].replace('.gz', '') for n in names if not n.endswith('/')}
    make('install', f'DESTDIR={tmp_path}', 'PREFIX=/usr')
    installed = set(files_under(str(tmp_path)))
    assert installed == {n for n in in_deb if not n.startswith('usr/share/doc/')}
