#!/usr/bin/python3
"""The seed's server, patient: retries its bind every 100 ms for a few seconds.

A service started before its address exists (boot ordering: After=network.target,
DHCP, keepalived) gets ``[Errno 99] Cannot assign requested address`` from its first
bind.  The seed's server (seed_server.py) dies of it; this one waits for the address
a while, the way many services do, then serves until killed.  When the address never
comes it gives up with the same error.

    python3 examples/retry_server.py [--host ADDR] [--port PORT] [--retry-for SECONDS]

Run it across a boot race (the address arrives 1.5 s after it started):

    sudo /usr/bin/python3 -m harness run --topo single,2 --mutate addr-late \\
        --mutate-hosts h1 --server 'python3 examples/retry_server.py'
"""

import argparse
import errno
import os
import socket
import sys
import time

HOST = '10.0.0.1'
PORT = 6677
EVERY_S = 0.1


def parse():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--host', default=HOST)
    parser.add_argument('--port', type=int, default=PORT)
    parser.add_argument('--retry-for', type=float, default=3.0, metavar='SECONDS',
                        help='keep retrying a bind that fails with EADDRNOTAVAIL this '
                             'long (default 3)')
    return parser.parse_args()


def listen(addr, port, retry_for):
    """A listening socket on addr:port, retrying while the address is not there yet."""
    family = socket.AF_INET6 if ':' in addr else socket.AF_INET
    deadline = time.monotonic() + retry_for
    while True:
        server = socket.socket(family, socket.SOCK_STREAM)
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            server.bind((addr, port))
        except OSError as exc:
            server.close()
            if exc.errno != errno.EADDRNOTAVAIL or time.monotonic() >= deadline:
                raise
            print(f'{addr} not there yet ({exc.strerror}), retrying', file=sys.stderr,
                  flush=True)
            time.sleep(EVERY_S)
            continue
        server.listen()
        return server


def main():
    args = parse()
    server = listen(args.host, args.port, args.retry_for)
    print(f'listening on {args.host}:{args.port}', flush=True)
    name = os.environ.get('NETPROBE_HOST') or socket.gethostname()
    while True:
        conn, peer = server.accept()
        with conn:
            conn.sendall(f'hello {peer[0]} from {name}\n'.encode())


if __name__ == '__main__':
    main()
