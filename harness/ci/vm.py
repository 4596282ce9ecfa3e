"""`make vm-test`: the suite in a QEMU guest on Debian's stock kernel (OVS kernel datapath).

    /usr/bin/python3 -m harness.ci.vm [--switch K] [SCENARIO...]     (its own entry point)
    /usr/bin/python3 -m harness.ci.vm --job FILE --keep DIR          (tests: any shell job)

The machines bindlab is built on have no kernel modules, so the default path of most
users (`--switch auto` choosing Open vSwitch's kernel datapath) and the scenarios that
need vrf, dummy or sch_netem never run there.  This module runs them in a guest:

1. image    scripts/vm-image builds (once, cached under build/vm/, rebuilt when its
            inputs change) the kernel, a busybox initramfs and an ext4 root file
            system from Debian packages only (debootstrap, the Makefile's DEBS_RUN).
2. project  this tree (without build/ and results/, plus the built probes) and the
            job (a shell script) on a small ext4 disk made with mke2fs -d.
3. boot     QEMU: KVM when /dev/kvm really works (a guest that prints nothing within
            KVM_PROBE_S is stopped and the verdict cached), else TCG; one CPU, no
            network; the root disk in snapshot mode, so the cache is never changed.
            scripts/vm-guest-run is PID 1: it runs the job, writes /tmp/out as a tar
            archive onto the third disk and powers off.
4. results  the archive is read as hostile input (regular files and folders with
            plain names only, text only, sizes bounded) and every run folder in it
            is written to results/<run-id>/ through files.py, with the guest's
            serial.log, vm.json (phase timings, accelerator, guest kernel) and
            its ovs-vswitchd.log (when OVS ran).  With --switch ovs each
            matrix.json's topology.switches[].kernel_datapath_ports lists what
            `ovs-dpctl show` had once that network answered.
Exit status: the guest harness's (0, 1, 2); 2 when the image, QEMU or the guest fails.
"""

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import threading
import time

from .. import files, REPO
from ..errors import BadInput, EnvError, Interrupted, UsageError
from ..net import check_root, SWITCH_KINDS

VM_DIR = os.path.join(REPO, 'build', 'vm')
QEMU = 'qemu-system-x86_64'
KVM_PROBE_S = 30
PROGRAMS = ('netprobe', 'libbindtrace.so', 'bindtrace-sys')
MAX_FILE, MAX_FILES = 64 << 20, 20000
PLAIN = re.compile(r'[A-Za-z0-9][A-Za-z0-9._+-]{0,127}\Z')


def _raise_interrupted(_signum, _frame):
    raise Interrupted()


def log(msg):
    print(f'bindlab: vm: {msg}', flush=True)


# -- 1. the image ------------------------------------------------------------------------

def build_image(packages):
    """Run scripts/vm-image (it decides whether anything must be rebuilt)."""
    res = subprocess.run([os.path.join(REPO, 'scripts', 'vm-image'), VM_DIR, *packages])
    if res.returncode != 0:
        raise EnvError('the guest image could not be built (see the line above)')


# -- 2. the project disk -------------------------------------------------------------------

def project_disk(job_text, work):
    """work/project.img: this tree, the built programs and .vm/job; returns its path."""
    stage = os.path.join(work, 'project')
    shutil.rmtree(stage, ignore_errors=True)
    os.makedirs(os.path.join(stage, 'build'))
    tar = subprocess.Popen(['tar', '-cf', '-', '--exclude=./build', '--exclude=./results',
                            '--exclude-vcs', '--exclude=__pycache__',
                            '--exclude=.pytest_cache', '.'], cwd=REPO,
                           stdout=subprocess.PIPE)
    subprocess.run(['tar', '-xf', '-', '-C', stage], stdin=tar.stdout, check=True)
    tar.stdout.close()
    if tar.wait() != 0:
        raise EnvError('could not copy the project for the guest (tar failed)')
    for name in PROGRAMS:
        src = os.path.join(REPO, 'build', name)
        if not os.path.isfile(src):
            raise EnvError(f'build/{name} is missing: run `make` first')
        shutil.copy2(src, os.path.join(stage, 'build', name))
    os.makedirs(os.path.join(stage, '.vm'))
    files.write_file(os.path.join(stage, '.vm', 'job'), job_text)
    img = os.path.join(work, 'project.img')
    if os.path.exists(img):
        os.unlink(img)
    subprocess.run(['mke2fs', '-q', '-t', 'ext4', '-L', 'bindlab-project', '-d', stage,
                    img, '256M'], check=True, stdout=subprocess.DEVNULL)
    return img


def suite_job(switch, scenarios, verbose):
    """The shell job of `make vm-test`: the harness run (each matrix.json's topology
    lists the switch ports the kernel datapath had once the network answered)."""
    argv = ['/usr/bin/python3', '-m', 'harness', 'run', '--switch', switch,
            '--out', '/tmp/out/results', *(['-v'] if verbose else []), *scenarios]
    for word in argv:
        if not re.fullmatch(r'[A-Za-z0-9_./,:=+-]+', word):
            raise UsageError(f'{word!r}: not a plain scenario name or option')
    return f'''set -u
echo "bindlab-vm: {' '.join(argv)}"
{' '.join(argv)}
'''


# -- 3. the boot ---------------------------------------------------------------------------

class Guest:
    """One QEMU process: its console streamed to the terminal and to serial.log."""

    def __init__(self, accel, disks, serial_path):
        self.accel, self.serial_path = accel, serial_path
        self.up_event, self.guest_up, self.job_done = (threading.Event(), None, None)
        cmd = [QEMU, '-accel', accel, '-m', '2048', '-smp', '1', '-display', 'none',
               '-serial', 'stdio', '-monitor', 'none', '-nic', 'none', '-no-reboot',
               '-kernel', os.path.join(VM_DIR, 'vmlinuz'),
               '-initrd', os.path.join(VM_DIR, 'initrd.img'),
               '-append', 'console=ttyS0 panic=-1 quiet loglevel=3']
        for path, snapshot in disks:
            cmd += ['-drive', f'file={path},format=raw,if=virtio'
                    + (',snapshot=on' if snapshot else '')]
        self.started = time.monotonic()
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        with open(self.serial_path, 'wb') as serial:
            for raw in self.proc.stdout:
                serial.write(raw)
                serial.flush()
                line = raw.decode('utf-8', 'replace').rstrip('\r\n')
                if line.startswith('bindlab-vm: guest up') and self.guest_up is None:
                    self.guest_up = time.monotonic()
                    self.up_event.set()
                if line.startswith('bindlab-vm: job done'):
                    self.job_done = time.monotonic()
                print(f'  guest| {line}', flush=True)

    def wait(self, timeout):
        """The QEMU exit status; the guest is stopped (by its PID) after timeout."""
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            raise EnvError(f'the guest did not finish within {timeout} s (its console '
                           f'is in {self.serial_path}); set VM_TIMEOUT to allow more')
        except BaseException:       # Ctrl-C, SIGTERM (Interrupted): no QEMU left behind
            self.stop()
            raise
        finally:
            self.reader.join(5)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def kvm_usable():
    """True when /dev/kvm can be opened (whether a guest really runs is tried later)."""
    try:
        os.close(os.open('/dev/kvm', os.O_RDWR))
        return True
    except OSError:
        return False


def boot(disks, serial_path, timeout):
    """Boot the guest to the end; returns (Guest, status).  KVM first when it can
    work (a guest that fails or has not reached its runner within KVM_PROBE_S is
    stopped, and `tcg` cached for this host kernel in build/vm/accel), else TCG;
    $VM_ACCEL=kvm|tcg decides instead."""
    verdict_file = os.path.join(VM_DIR, 'accel')
    cached = None
    if os.path.isfile(verdict_file):
        with open(verdict_file) as f:
            words = f.read().split()
        cached = words[1] if words[:1] == [os.uname().release] and len(words) == 2 else None
    accel = os.environ.get('VM_ACCEL') or cached or ('kvm' if kvm_usable() else 'tcg')
    if accel not in ('kvm', 'tcg'):
        raise UsageError(f'VM_ACCEL={accel}: must be kvm or tcg')
    log(f'booting the guest ({accel}{", cached verdict" if cached else ""})')
    guest = Guest(accel, disks, serial_path)
    if accel == 'kvm' and not os.environ.get('VM_ACCEL'):
        deadline = time.monotonic() + KVM_PROBE_S
        while not guest.up_event.wait(0.5):
            if guest.proc.poll() is not None or time.monotonic() > deadline:
                break
        if not guest.up_event.is_set():
            guest.stop()
            guest.reader.join(5)
            log(f'the KVM guest failed or hung (not up within {KVM_PROBE_S} s): stopped '
                f'it, using TCG (cached in {verdict_file})')
            files.write_file(verdict_file, f'{os.uname().release} tcg\n')
            guest = Guest('tcg', disks, serial_path)
        elif not cached:
            files.write_file(verdict_file, f'{os.uname().release} kvm\n')
    return guest, guest.wait(timeout)


# -- 4. the results ------------------------------------------------------------------------

def read_archive(path):
    """{relative path: text} and the folders of the guest's tar archive; BadInput for
    anything but plain-named folders and bounded UTF-8 regular files."""
    texts, folders = {}, set()
    try:
        with tarfile.open(path, 'r:') as tar:
            for n, member in enumerate(tar):
                if n > MAX_FILES:
                    raise BadInput(f'{path}: more than {MAX_FILES} entries')
                parts = [p for p in member.name.split('/') if p not in ('', '.')]
                if not all(PLAIN.match(p) for p in parts) or '..' in member.name:
                    raise BadInput(f'{path}: {member.name!r} is not a plain name')
                if not parts:
                    continue
                rel = '/'.join(parts)
                if member.issym() and rel == 'results/latest':
                    continue                # the guest harness's own pointer
                if member.isdir():
                    folders.add(rel)
                elif member.isreg() and member.size <= MAX_FILE:
                    try:
                        texts[rel] = tar.extractfile(member).read().decode('utf-8')
                    except UnicodeDecodeError:
                        raise BadInput(f'{path}: {rel} is not UTF-8 text') from None
                else:
                    raise BadInput(f'{path}: {rel} is neither a folder nor a small file')
    except (tarfile.TarError, OSError) as exc:
        raise BadInput(f'{path}: the guest wrote no readable results ({exc})') from None
    return texts, folders


def copy_runs(texts, folders, out_dir, extra):
    """Write every guest run folder (results/<run-id>/) into out_dir, with `extra`
    ({name: text}) added to each; returns their paths."""
    runs = sorted({rel.split('/')[1] for rel in folders | set(texts)
                   if rel.startswith('results/') and rel.count('/') >= 1})
    written = []
    files.make_folders(out_dir)
    for run_id in runs:
        if run_id == 'latest':
            continue
        prefix = f'results/{run_id}/'
        dest = os.path.join(out_dir, run_id)
        files.new_folder(dest)
        for sub in sorted((f[len(prefix):] for f in folders if f.startswith(prefix)),
                          key=lambda s: s.count('/')):
            files.new_folder(os.path.join(dest, *sub.split('/')))
        for rel, text in sorted(texts.items()):
            if rel.startswith(prefix):
                files.write_file(os.path.join(dest, *rel[len(prefix):].split('/')), text)
        for name, text in extra.items():
            files.write_file(os.path.join(dest, name), text)
        written.append(dest)
    if written:
        files.point_latest(out_dir, os.path.basename(written[-1]))
    return written


# -- the whole lane ------------------------------------------------------------------------

def run_vm(job_text, packages, out_dir, keep, timeout):
    """Build, boot, collect; returns the guest job's exit status."""
    if not shutil.which(QEMU):
        raise EnvError(f'{QEMU} is missing: install qemu-system-x86 (`sudo make deps-vm`)')
    check_root('sudo make vm-test')
    t0 = time.monotonic()
    build_image(packages)
    t_image = time.monotonic() - t0
    log(f'image: {t_image:.0f} s')
    work = os.path.join(VM_DIR, 'run')
    files.make_folders(work)
    project = project_disk(job_text, work)
    results_img = os.path.join(work, 'results.img')
    with open(results_img, 'wb') as f:
        f.truncate(512 << 20)
    files.make_folders(keep)
    serial = os.path.join(keep, 'serial.log')
    disks = [(os.path.join(VM_DIR, 'rootfs.img'), True), (project, False),
             (results_img, False)]
    old_term = signal.signal(signal.SIGTERM, _raise_interrupted)
    try:
        guest, qemu_status = boot(disks, serial, timeout)
    except (KeyboardInterrupt, Interrupted):
        log('interrupted: the guest was stopped')
        raise
    finally:
        signal.signal(signal.SIGTERM, old_term)
    t_end = time.monotonic()
    up = guest.guest_up or t_end
    timings = {'image_s': round(t_image, 1), 'boot_s': round(up - guest.started, 1),
               'suite_s': round((guest.job_done or t_end) - up, 1),
               'total_s': round(t_end - t0, 1)}
    log('phases: image {image_s} s, boot {boot_s} s, suite {suite_s} s, total {total_s} s'
        .format(**timings))
    if guest.guest_up is None:
        raise EnvError(f'the guest never reached its runner (QEMU exit {qemu_status}); '
                       f'its console is in {serial}')
    texts, folders = read_archive(results_img)
    status = texts.get('status', '').strip()
    if status not in ('0', '1', '2'):
        raise EnvError(f'the guest job gave no exit status (console: {serial})')
    with open(serial, encoding='utf-8', errors='replace') as f:
        serial_text = f.read()
    meta = {'accel': guest.accel, 'timings': timings, 'qemu_status': qemu_status,
            'guest_kernel': texts.get('guest-kernel', '').strip() or None,
            'job_status': int(status)}
    for name, text in texts.items():        # the job's loose files, for its caller
        if ('/' not in name and name.endswith(('.txt', '.log'))
                and name != 'serial.log'):
            files.write_file(os.path.join(keep, name), text)
    files.write_json(os.path.join(keep, 'vm.json'), meta, indent=1)
    extra = {'serial.log': serial_text, 'vm.json': json.dumps(meta, indent=1) + '\n'}
    for name in ('ovs-vswitchd.log',):
        if name in texts:
            extra[name] = texts[name]
    for run_dir in copy_runs(texts, folders, out_dir, extra):
        log(f'guest results in {run_dir}')
    return int(status)


def makefile_list(name):
    """The words of the Makefile's `NAME := ...` (with its continuation lines): the
    guest holds what DEBS_RUN says, whether make or a test started this."""
    with open(os.path.join(REPO, 'Makefile'), encoding='utf-8') as f:
        text = f.read()
    match = re.search(rf'^{name} := ((?:.*\\\n)*.*)$', text, re.M)
    if not match:
        raise UsageError(f'the Makefile has no {name} list')
    return match.group(1).replace('\\\n', ' ').split()


def parse_args(argv):
    p = argparse.ArgumentParser(prog='python3 -m harness.ci.vm',
                                description='Run bindlab scenarios in a QEMU guest on '
                                            "Debian's stock kernel.")
    p.add_argument('scenarios', nargs='*', metavar='SCENARIO')
    p.add_argument('--switch', choices=SWITCH_KINDS, default='auto')
    p.add_argument('--packages', default='', help="the guest's Debian packages "
                   "(default: the Makefile's DEBS_RUN)")
    p.add_argument('--out', default=os.path.join(REPO, 'results'), metavar='DIR')
    p.add_argument('--keep', default=os.path.join(VM_DIR, 'last'), metavar='DIR',
                   help="where the boot's serial.log, vm.json and the job's *.txt and "
                        '*.log go')
    p.add_argument('--job', metavar='FILE', help='run this shell script in the guest '
                   'instead of the suite (its files in /tmp/out/ come back)')
    p.add_argument('-v', '--verbose', action='store_true')
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    packages = args.packages.split() or makefile_list('DEBS_RUN')
    try:
        if args.job:
            with open(args.job, encoding='utf-8') as f:
                job = f.read()
        else:
            job = suite_job(args.switch, args.scenarios, args.verbose)
        job = 'uname -r >/tmp/out/guest-kernel\n' + job
        timeout = int(os.environ.get('VM_TIMEOUT', '5400'))
        return run_vm(job, packages, args.out, args.keep, timeout)
    except OSError as exc:
        print(f'bindlab: vm: {exc}', file=sys.stderr)
        return 2
    except UsageError as exc:
        print(f'bindlab: vm: {exc}', file=sys.stderr)
        return 2
    except (KeyboardInterrupt, Interrupted):
        return 2


if __name__ == '__main__':
    sys.exit(main())
