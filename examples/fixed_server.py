"""The seed's server, fixed: binds the wildcard 0.0.0.0:6677, so it starts on every host.

0.0.0.0 is not an address of any interface: it means "every address this host has",
so the bind succeeds wherever the program runs.  (To serve one interface only, bind
an address of *this* host, found at run time, never one copied from elsewhere.)

    python3 examples/fixed_server.py [--host ADDR] [--port PORT]

    sudo /usr/bin/python3 -m harness run --server 'python3 examples/fixed_server.py'
"""

import argparse
import socket

HOST = '0.0.0.0'       # the fix: the wildcard
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
