"""Writing files as root in folders that may hold hostile names: one way, used by all.

Every file is written whole or not at all: a temporary file is created beside it with
mkstemp (O_CREAT|O_EXCL|O_NOFOLLOW: a symlink planted at a temporary name is never
followed), filled, then renamed over the target; rename replaces a symlink at the
target itself, never what it points to.  A run folder is made with mkdir (it must
not exist: a planted symlink or folder at a predictable run id is refused), and its
scenario folders likewise, so every write lands in a folder this run created.
`latest` is replaced only when it is a symlink or absent.

Every file the harness reads that someone else may have made (run folders, shards,
expectation files, the state and lab files, students' records) is read by one reader,
read_bytes(): it refuses a symlink, a FIFO, a device or a folder before opening it
(lstat), opens without following a link and without waiting for a writer
(O_NOFOLLOW|O_NONBLOCK), checks again on the open file (fstat: a regular file), and
reads at most MAX_FILE_BYTES (a FIFO would hang the harness, /dev/zero would fill
memory).  A refusal is a BadInput naming the file: exit 2.
"""

import json
import os
import stat
import tempfile

from .errors import BadInput, UsageError


def write_file(path, text):
    """Write text (str, bytes for a binary file, or an iterable of str written piece
    by piece) to path whole or not at all; never follows a symlink.

    UsageError naming path when it cannot be written (a folder in its place, a
    missing or read-only folder): a message, not a traceback.
    """
    folder, name = os.path.split(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix=f'.{name}.', suffix='.tmp', dir=folder)
    except OSError as exc:
        raise UsageError(f'{path}: cannot write it: {exc.strerror}') from None
    try:
        binary = isinstance(text, bytes)
        with os.fdopen(fd, 'wb' if binary else 'w',
                       encoding=None if binary else 'utf-8') as f:
            if isinstance(text, (str, bytes)):
                f.write(text)
            else:
                f.writelines(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        if isinstance(exc, OSError):
            raise UsageError(f'{path}: cannot write it: {exc.strerror}') from None
        raise


def read_output(path):
    """A command's output file as text, '' while it does not exist (a shell makes
    it as it starts the command, which can be after a reader first looks)."""
    try:
        with open(path, 'rb') as f:
            return f.read().decode(errors='replace')
    except FileNotFoundError:
        return ''


def make_folders(path):
    """os.makedirs(path) unless it is a folder already; UsageError naming path when it
    cannot be (a file in its place, no permission)."""
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as exc:
        raise UsageError(f'{path}: cannot make this folder: {exc.strerror}') from None


def write_json(path, data, **dump_args):
    """write_file() of data as JSON."""
    write_file(path, json.dumps(data, **dump_args) + ('\n' if dump_args else ''))


# The most read_bytes() reads of one file: far above any result file the harness
# writes, far below a machine's memory.
MAX_FILE_BYTES = 256 * 1024 * 1024

_KINDS = ((stat.S_ISLNK, 'a symlink'), (stat.S_ISFIFO, 'a FIFO'),
          (stat.S_ISCHR, 'a character device'), (stat.S_ISBLK, 'a block device'),
          (stat.S_ISSOCK, 'a socket'), (stat.S_ISDIR, 'a folder'))


def _not_regular(path, mode, what):
    kind = next((name for test, name in _KINDS if test(mode)), 'not a regular file')
    return BadInput(f'{path}: is {kind}; a {what} must be a regular file')


def read_bytes(path, what='file', cap=MAX_FILE_BYTES, missing_ok=False, truncate=False):
    """The bytes of the regular file at path (None when it is absent and missing_ok).

    BadInput naming path when it is absent, a symlink, a FIFO, a device, a socket or
    a folder, cannot be read, or holds more than cap bytes (truncate: its first cap
    bytes instead).  Never follows a link,
    never waits for a writer, never opens a device (checked before opening, and again
    on the open file)."""
    try:
        mode = os.lstat(path).st_mode
        if not stat.S_ISREG(mode):
            raise _not_regular(path, mode, what)
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY
                     | os.O_CLOEXEC)
    except FileNotFoundError:
        if missing_ok:
            return None
        raise BadInput(f'{path}: not found') from None
    except OSError as exc:
        raise BadInput(f'{path}: unreadable {what}: {exc.strerror}') from None
    with os.fdopen(fd, 'rb') as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise _not_regular(path, info.st_mode, what)
        if info.st_size > cap and not truncate:
            raise _too_big(path, what, cap)
        try:
            data = f.read(cap if truncate else cap + 1)
        except OSError as exc:
            raise BadInput(f'{path}: unreadable {what}: {exc.strerror}') from None
    if len(data) > cap:
        raise _too_big(path, what, cap)
    return data


def _too_big(path, what, cap):
    return BadInput(f'{path}: larger than {cap // (1024 * 1024)} MiB; not a {what} '
                    'bindlab wrote')


def read_json(path, what='file', missing_ok=False):
    """The JSON in path (read by read_bytes: a regular file, at most MAX_FILE_BYTES);
    BadInput naming the file.  None when path is absent and missing_ok."""
    data = read_bytes(path, what, missing_ok=missing_ok)
    if data is None:
        return None
    try:
        return json.loads(data.decode('utf-8'))
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadInput(f'{path}: unreadable {what}: {exc}') from None


def new_folder(path):
    """mkdir path (mode 0755); UsageError when anything already exists there."""
    try:
        os.mkdir(path, 0o755)
    except FileExistsError:
        raise UsageError(f'{path} already exists (a folder, file or symlink this run did '
                         'not make): refusing to write into it') from None


def check_latest(out_dir):
    """UsageError unless out_dir/latest is a symlink or absent (so it may be replaced)."""
    latest = os.path.join(out_dir, 'latest')
    if os.path.lexists(latest) and not os.path.islink(latest):
        raise UsageError(f'{latest} exists and is not a symlink: move it away, then run '
                         'again (the harness replaces only a symlink there)')


def point_latest(out_dir, run_id):
    """out_dir/latest -> run_id, replaced atomically (UsageError if not a symlink)."""
    check_latest(out_dir)
    for n in range(100):
        tmp = os.path.join(out_dir, f'.latest.{os.getpid()}.{n}')
        try:
            os.symlink(run_id, tmp)
            break
        except FileExistsError:
            continue
    else:
        raise UsageError(f'{out_dir}: cannot make a temporary symlink for latest')
    os.replace(tmp, os.path.join(out_dir, 'latest'))
