"""A client that connects to ADDR:PORT from SRC (0.0.0.0 or :: = let the kernel choose).

    python3 examples/client.py ADDR PORT [SRC]

Exit 0 when the connection opened, 1 with the OSError on stderr otherwise:

    sudo /usr/bin/python3 -m harness run wrong-host --client 'python3 examples/client.py {addr} {port} {src}'
"""

import socket
import sys


def main():
    addr, port = sys.argv[1], int(sys.argv[2])
    src = sys.argv[3] if len(sys.argv) > 3 else None
    try:
        with socket.create_connection((addr, port), timeout=2,
                                      source_address=(src, 0) if src else None) as conn:
            print(conn.recv(200).decode(errors='replace').strip(), flush=True)
    except OSError as exc:
        print(f'connect to {addr}:{port}: {exc}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
