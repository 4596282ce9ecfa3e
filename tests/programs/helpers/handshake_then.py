"""A TCP listener that completes the handshake and then does one thing, for the
tests of netprobe's "after" (what followed the handshake).

usage: handshake_then.py MODE ADDR PORT
    eof     accept, close at once (what docker-proxy does when the container refuses)
    reset   accept, close with SO_LINGER 0: an RST, ECONNRESET on the client's read
    data    accept, send a line that is no netprobe greeting, close
    silent  never accept: the kernel completes the handshake, nothing is ever sent
Prints "ready" once listening; runs until killed (by its PID, by the test).
"""

import socket
import struct
import sys
import time


def main():
    mode, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((addr, port))
    srv.listen(16)
    print('ready', flush=True)
    while mode == 'silent':
        time.sleep(3600)
    while True:
        conn, _ = srv.accept()
        if mode == 'reset':
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
        elif mode == 'data':
            conn.sendall(b'HTTP/1.1 200 OK\r\n\r\n')
        conn.close()


if __name__ == '__main__':
    main()
