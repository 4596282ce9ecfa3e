"""client.py ADDR PORT SRC: asyncio.open_connection within 4 s, from SRC unless it
is a wildcard (then the kernel chooses the source).

Exit 0 once connected, 1 with the error on stderr.
"""

import asyncio
import sys

TIMEOUT_S = 4


async def connect(addr, port, src):
    local = None if src in ('0.0.0.0', '::') else (src, 0)
    _reader, writer = await asyncio.wait_for(
        asyncio.open_connection(addr, port, local_addr=local), TIMEOUT_S)
    print(f'connected {writer.get_extra_info("sockname")} -> '
          f'{writer.get_extra_info("peername")}', flush=True)
    writer.close()
    await writer.wait_closed()


if __name__ == '__main__':
    addr, port, src = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    try:
        asyncio.run(connect(addr, port, src))
    except asyncio.TimeoutError:
        sys.exit(f'connect {addr} port {port}: no connection within {TIMEOUT_S} s')
    except OSError as exc:
        sys.exit(f'connect {addr} port {port}: {exc}')
