#!/usr/bin/python3
"""The seed's server: binds 10.0.0.1:6677 and accepts.  It works on exactly one machine.

The address was copied from a configuration written for another host, so on every
host that does not hold 10.0.0.1 the bind fails with
``OSError: [Errno 99] Cannot assign requested address`` (EADDRNOTAVAIL).
fixed_server.py is the same program binding the wildcard 0.0.0.0.

    python3 examples/seed_server.py [--host ADDR] [--port PORT]      serve until killed
    seed-server ADDR PORT [SECONDS]       (the lab's form, on PATH in every lab host)
                                          bind and listen the seed's way, answer
                                          clients for SECONDS (default 0), then exit:
                                          the port is free again for the next try

Run it across bindlab's scenarios (see examples/README.md):

    sudo /usr/bin/python3 -m harness run --server 'python3 examples/seed_server.py'
"""

import argparse
import os
import socket
import time

HOST = '10.0.0.1'      # the bug: an address of one particular host
PORT = 6677


def parse():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('addr', nargs='?', help='the lab form: bind ADDR (with PORT)')
    parser.add_argument('lab_port', nargs='?', type=int, metavar='PORT')
    parser.add_argument('seconds', nargs='?', type=float, default=0.0, metavar='SECONDS')
    parser.add_argument('--host', default=HOST)
    parser.add_argument('--port', type=int, default=PORT)
    args = parser.parse_args()
    if args.addr is not None and args.lab_port is None:
        parser.error('give ADDR and PORT (or --host/--port)')
    return args


def main():
    args = parse()
    addr = args.addr if args.addr is not None else args.host
    port = args.lab_port if args.addr is not None else args.port
    family = socket.AF_INET6 if ':' in addr else socket.AF_INET
    server = socket.socket(family, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind((addr, port))        # the seed's line: Errno 99 on the wrong host
    server.listen()
    print(f'listening on {addr}:{port}', flush=True)
    name = os.environ.get('NETPROBE_HOST') or socket.gethostname()
    deadline = time.monotonic() + args.seconds if args.addr is not None else None
    while deadline is None or time.monotonic() < deadline:
        if deadline is not None:
            server.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            conn, peer = server.accept()
        except socket.timeout:
            break
        with conn:
            conn.sendall(f'hello {peer[0]} from {name}\n'.encode())
    server.close()


if __name__ == '__main__':
    main()
