"""server.py ADDR PORT: an asyncio TCP server (asyncio.start_server) until killed.

Prints the addresses it listens on once it does; on failure the OSError on stderr
and exit 1.
"""

import asyncio
import sys


async def handle(reader, writer):
    """Every connection is closed at once: the test only needs it accepted."""
    writer.close()


async def serve(addr, port):
    server = await asyncio.start_server(handle, addr, port)
    names = ', '.join(str(sock.getsockname()) for sock in server.sockets)
    print(f'listening on {names}', flush=True)
    async with server:
        await server.serve_forever()


if __name__ == '__main__':
    try:
        asyncio.run(serve(sys.argv[1], int(sys.argv[2])))
    except OSError as exc:
        sys.exit(f'server {sys.argv[1]} port {sys.argv[2]}: {exc}')
