"""`docker-real`: the docker-bridge scenario's Docker cases on real containers, each
compared with its emulated twin (harness/ci/dockerreal.py).  Exit 0 they agree, 1
some differ, 2 no Docker daemon."""

from ..ci import default_socket, docker_real
from .common import default_out


def add_parser(sub):
    cmd = sub.add_parser('docker-real', help='the docker-bridge cases on real containers, '
                         'compared with the emulation (needs a Docker daemon)')
    cmd.add_argument('--docker', metavar='SOCKET', default=default_socket(),
                     help='the daemon: unix:///path or tcp://host:port (default: '
                          '$DOCKER_HOST, else unix:///var/run/docker.sock)')
    cmd.add_argument('--out', default=default_out(), metavar='DIR',
                     help='write the run into DIR/<run-id>')
    return cmd


def main(args):
    return docker_real(args.docker, args.out)
