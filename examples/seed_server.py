"""The seed's server: binds 10.0.0.1:6677 and accepts.  It works on exactly one machine.

The address was copied from a configuration written for another host, so on every
host that does not hold 10.0.0.1 the bind fails with
``OSError: [Errno 99] Cannot assign requested address`` (EADDRNOTAVAIL).
fixed_server.py is the same program binding the wildcard 0.0.0.0.

    python3 examples/seed_server.py [--host ADDR] [--port PORT]

Run it across bindlab's scenarios (see examples/README.md):

    sudo /usr/bin/python3 -m harness run --server 'python3 examples/seed_server.py'
"""

import argparse
import socket

HOST = '10.0.0.1'      # the bug: an address of one particular host
PORT = 6677


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--host', default=HOST)
    parser.add_argument('--port', type=int, default=PORT)
    args = parser.parse_args()
    family = socket.AF_INET6 if ':' in args.host else socket.AF_INET
    server = socket.socket(family, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind((args.host, args.port))
    server.listen()
    print(f'listening on {args.host}:{args.port}', flush=True)
    while True:
        conn, peer = server.accept()
        with conn:
            conn.sendall(f'hello {peer[0]}\n'.encode())


if __name__ == '__main__':
    main()
